"""Finding a thread: the sidebar's filter (and the server's search behind it), older
threads page by page, the quick switcher, hiding the sidebar, and the directory a new
thread starts in."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from textual.command import CommandPalette
from textual.timer import Timer

from t3tui import observations
from t3tui.app.screens.directory import DirectoryScreen, typed_path
from t3tui.app.switcher import ThreadSwitcher
from t3tui.app.widgets.sidebar import Listing, title_words
from t3tui.i18n import t
from t3tui.opencode.client import NotFoundError, OpencodeError, project_directories

if TYPE_CHECKING:
    from t3tui.app.app import T3App
    from t3tui.app.controllers.server import ServerLink

log = logging.getLogger(__name__)

SEARCH_DELAY = 0.3  # seconds of no typing before the server is asked
SEARCH_LIMIT = 50  # threads a server search brings at most


class ThreadList:
    """What the sidebar lists beyond the threads the store holds, and how to find one."""

    def __init__(self, app: T3App) -> None:
        self.app = app
        self.query = ""
        self.searching = 0  # server searches under way
        self.loading_more = False
        self._timer: Timer | None = None
        self._searched: set[str] = set()  # queries the servers already answered

    def listing(self) -> Listing:
        more = any(link.stream.older is not None for link in self.app.links)
        return Listing(self.query, self.searching > 0, more, self.loading_more)

    def _changed(self) -> None:
        self.app.threads.rebuild_sidebar()

    # -- the filter ----------------------------------------------------------------------

    def typed(self, character: str) -> None:
        """A letter typed in the list: the filter shows, holding it, with the focus."""
        box = self.app.main.sidebar_filter
        box.display = True
        box.value += character
        box.cursor_position = len(box.value)
        box.focus()

    def start(self) -> None:
        """The filter, shown and focused (from the palette)."""
        main = self.app.main
        main.side.display = True
        main.sidebar_filter.display = True
        main.sidebar_filter.focus()

    def changed(self, text: str) -> None:
        self.query = text
        self._changed()
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        query = " ".join(title_words(text))
        # Threads not loaded yet (older pages, other projects): the server finds them.
        if len(query) >= 2 and query not in self._searched:
            self._timer = self.app.set_timer(SEARCH_DELAY, lambda: self._search_now(query))

    def _search_now(self, query: str) -> None:
        self._timer = None
        if " ".join(title_words(self.query)) != query:
            return
        self._searched.add(query)
        for link in self.app.links:
            if not link.connect:
                continue  # an app that follows no server (offline, a replay)
            self.searching += 1
            self.app.run_worker(self._search(link, query), group=link.group("search"), exit_on_error=False)
        self._changed()

    async def _search(self, link: ServerLink, query: str) -> None:
        try:
            try:
                data, _ = await link.client.raw_session_page(limit=SEARCH_LIMIT, search=query)
            except NotFoundError:  # a server without the listing of every project
                data = await link.client.raw_sessions(link.directory, search=query, project=True)
            link.observe(observations.snapshot("sessions", None, data))
        except OpencodeError as exc:
            self._searched.discard(query)
            log.warning("searching threads for %r failed: %s", query, exc.message)
            self.app.toast(t("toast.search_failed", error=exc.message), severity="warning")
        finally:
            self.searching -= 1
            self._changed()

    def clear(self) -> None:
        """Esc in the filter: every thread again, the list focused."""
        main = self.app.main
        main.sidebar_filter.value = ""
        main.sidebar_filter.display = False
        self.changed("")
        main.sidebar.focus()

    async def submitted(self) -> None:
        """Enter in the filter opens the best match."""
        pointed = self.app.main.sidebar.pointed
        if pointed and pointed in self.app.main.sidebar.thread_ids:
            await self.app.threads.open(pointed)
            self.app.main.prompt.focus()

    # -- older threads -------------------------------------------------------------------

    def more(self) -> None:
        """The next page of every server's threads (the sidebar's last row)."""
        if self.loading_more:
            return
        self.loading_more = True
        self._changed()
        self.app.run_worker(self._more(), group="more-threads", exit_on_error=False)

    async def _more(self) -> None:
        count = 0
        try:
            for link in self.app.links:
                if link.stream.older is not None:
                    count += await link.stream.more_threads()
        except OpencodeError as exc:
            self.app.toast(t("toast.more_failed", error=exc.message), severity="error")
        finally:
            self.loading_more = False
            self._changed()

    # -- where a new thread starts ------------------------------------------------------

    def known_directories(self) -> list[str]:
        """The directories of the threads, the most recently active first, then the
        launch directories."""
        threads = [th for link in self.app.links for th in link.store.threads.values() if th.directory]
        threads.sort(key=lambda th: -th.updated)
        launch = [link.directory for link in self.app.links]
        return list(dict.fromkeys([*(th.directory for th in threads if th.directory), *launch]))

    def new_thread(self, where: str = "") -> None:
        """``/new [PATH]``: a new thread, in PATH if given (else as Ctrl+N does)."""
        path = typed_path(where) if where.strip() else None
        if where.strip() and path is None:
            self.app.toast(t("toast.new_needs_path", text=where.strip()), severity="warning")
            return
        problem = self._check(path) if path is not None else None
        if problem is not None:
            self.app.toast(problem, severity="error")
            return
        self.app.run_worker(self.app.action_new_thread(path), exit_on_error=False)

    def pick_directory(self) -> None:
        """Ask where a new thread starts; the server's projects join the list when they come."""
        if isinstance(self.app.screen, DirectoryScreen):
            return
        link = self.app.threads.link
        screen = DirectoryScreen(self.known_directories(), self.app.threads.directory, self._check)

        def picked(directory: str | None) -> None:
            if directory is not None:
                self.app.run_worker(self.app.action_new_thread(directory), exit_on_error=False)

        self.app.push_screen(screen, picked)
        self.app.run_worker(self._projects(link, screen), group="projects", exit_on_error=False)

    async def _projects(self, link: ServerLink, screen: DirectoryScreen) -> None:
        try:
            projects = await link.client.raw_projects()
        except OpencodeError as exc:
            log.warning("the list of projects failed: %s", exc.message)
            return
        if screen.is_attached:
            screen.add_directories(project_directories(projects))

    def _check(self, path: str) -> str | None:
        """Why a typed path cannot be a thread's directory (a server on this machine
        would start an instance in a directory that does not exist)."""
        if self.app.threads.link.client.local and not os.path.isdir(path):
            return t("directory.missing", path=path)
        return None

    # -- the sidebar and the switcher ----------------------------------------------------

    def toggle_sidebar(self) -> None:
        main = self.app.main
        side = main.side
        side.display = not side.display
        if not side.display:
            main.refocus_prompt()

    def switch(self) -> None:
        """The quick switcher: the palette, with only the threads in it."""
        if not CommandPalette.is_open(self.app):
            self.app.push_screen(
                CommandPalette(
                    providers=[ThreadSwitcher], placeholder=t("switch.placeholder"), id="--command-palette"
                )
            )
