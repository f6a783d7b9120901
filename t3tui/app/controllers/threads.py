"""Which thread is open, which ones finished unseen, and the draft each one keeps in the prompt."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from t3tui import observations
from t3tui.app.drafts import Drafts
from t3tui.app.widgets.sidebar import short_dir
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError
from t3tui.state.store import SETTLED, Thread

if TYPE_CHECKING:
    from t3tui.app.app import T3App
    from t3tui.app.controllers.server import ServerLink

log = logging.getLogger(__name__)

AGAIN = 2.0  # seconds: Ctrl+N pressed again within this asks for the directory


class Threads:
    """The open thread, the unseen marks of the others, and the drafts."""

    def __init__(self, app: T3App, drafts: Drafts, initial_thread: str | None) -> None:
        self.app = app
        self.drafts = drafts
        self.current_id: str | None = initial_thread
        self.unseen: set[str] = set()
        self._last_seen: dict[str, tuple[str, str]] = {}
        self.auto_opened = initial_thread is not None
        # Where a new thread starts: the directory of the thread open when Ctrl+N was
        # pressed, or one picked (None: the server's launch directory).
        self.new_directory: str | None = None
        self._new_pressed = 0.0  # when Ctrl+N last made (or found) a new thread
        self._drafts_warned = False

    @property
    def current(self) -> Thread | None:
        sid = self.current_id
        return self.app.link_of(sid).store.threads.get(sid) if sid else None

    @property
    def link(self) -> ServerLink:
        """The server of the open thread (a new thread goes to the app's first)."""
        return self.app.link_of(self.current_id)

    @property
    def directory(self) -> str:
        """The open thread's directory, else the one a new thread starts in."""
        th = self.current
        if th is not None and th.directory:
            return th.directory
        return self.new_directory or self.link.directory

    # -- opening ------------------------------------------------------------------------

    async def new(self, directory: str | None = None) -> None:
        """A new thread: in ``directory``, else in the open thread's. Asked twice within
        2 s (Ctrl+N, Ctrl+N), it asks where: the server's projects, the known
        directories, a path. Once, in a new thread, it changes nothing (a habit at
        start must not open a dialog that takes the next keys)."""
        if directory is None and self.current_id is None and self.app.main.thread_view.thread is None:
            now = time.monotonic()
            if now - self._new_pressed <= AGAIN:
                self._new_pressed = 0.0
                self.app.thread_list.pick_directory()
            else:
                self._new_pressed = now
            return
        await self.open(None, directory or self.directory)
        self._new_pressed = time.monotonic()

    async def open(self, sid: str | None, directory: str | None = None) -> None:
        """Show thread ``sid`` (None: a new thread, in ``directory`` if given)."""
        main = self.app.main
        if sid == self.current_id and main.thread_view.thread is not None:
            return
        # A new thread moved to another directory keeps what the prompt holds.
        moving = sid is None and self.current_id is None and directory is not None
        if not moving:
            self.save_draft()
        if sid is None and directory is not None:
            self.new_directory = directory
        self.current_id = sid
        self.auto_opened = True
        if sid is not None:
            self.unseen.discard(sid)
            self.app.run_worker(self._load(sid), group="messages", exit_on_error=False)
        prompt = main.prompt
        if not moving:
            prompt.load_text(self.drafts.get(self.draft_key()))
            prompt.move_cursor(prompt.document.end)
        await main.thread_view.show_thread(self.current, self.empty_text())
        self.app.requests.forget()
        self.app.frames.request()
        self.app.sync_footer()

    async def _load(self, sid: str) -> None:
        """Load a thread's history the first time it is opened."""
        link = self.app.link_of(sid)
        th = link.store.threads.get(sid)
        if th is None or sid in link.loaded:
            return
        link.loaded.add(sid)
        try:
            data = await link.client.raw_messages(sid, th.directory)
        except OpencodeError as exc:
            link.loaded.discard(sid)
            self.app.toast(t("toast.load_failed", error=exc.message), severity="error")
            return
        except Exception as exc:  # never a thread that silently looks empty
            log.exception("loading %s failed", sid)
            link.loaded.discard(sid)
            self.app.toast(t("toast.load_failed", error=f"{exc.__class__.__name__}: {exc}"), severity="error")
            return
        link.observe(observations.snapshot("messages", th.directory, data, session_id=sid))

    async def step(self, step: int) -> None:
        """Open the next (1) or previous (-1) thread of the sidebar."""
        await self.open(self.app.main.sidebar.neighbour(self.current_id, step))

    def empty_text(self) -> str:
        directory = short_dir(self.directory)
        if any(link.store.threads for link in self.app.links):
            return t("thread.empty_new", directory=directory)
        return t("thread.first_run", directory=directory)

    # -- each frame ---------------------------------------------------------------------

    def track_unseen(self, dirty: Iterable[str]) -> None:
        """A thread whose last turn ended while another was open gets the unseen mark."""
        for sid in dirty:
            th = self.app.link_of(sid).store.threads.get(sid)
            if th is None or not th.order:
                continue
            latest = th.turns[th.order[-1]]
            key = (latest.id, latest.state)
            before = self._last_seen.get(sid)
            self._last_seen[sid] = key
            if sid == self.current_id:
                continue
            if before is not None and before != key and latest.state in SETTLED and before[1] not in SETTLED:
                self.unseen.add(sid)

    async def follow(self, dirty: set[str]) -> None:
        """The open thread went away, or the first threads arrived (then the newest of
        this directory opens)."""
        sid = self.current_id
        if sid is not None and not self.app.link_of(sid).has(sid) and sid in dirty:
            self.current_id = None
            await self.app.main.thread_view.show_thread(None, self.empty_text())
        if not self.auto_opened and any(link.store.threads for link in self.app.links):
            await self._auto_open()

    async def _auto_open(self) -> None:
        """On start, open the newest thread of this directory (if it has one)."""
        link = self.app.link
        mine = [
            th for th in link.store.threads.values() if th.directory == link.directory and not th.parent_id
        ]
        if not mine:
            return
        self.auto_opened = True
        if self.current_id is None and not self.app.main.prompt.text:
            newest = max(mine, key=lambda th: (th.updated, th.id))
            await self.open(newest.id)

    def rebuild_sidebar(self, dirty: set[str] | None = None) -> None:
        """The sidebar from the stores: ``dirty`` names the threads that changed since the
        last call (None: any may have, and every thread is read again)."""
        if not self.app.main.ready:
            return  # a late callback (the search's debounce) after the app began to quit
        loading = any(link.loading for link in self.app.links)
        stores = [link.store for link in self.app.links]
        listing = self.app.thread_list.listing()
        self.app.main.sidebar.rebuild(stores, self.current_id, self.unseen, loading, listing, dirty)

    async def sync_view(self) -> None:
        """The open thread changed: show its news (or the thread itself, once it exists)."""
        view = self.app.main.thread_view
        if view.thread is None and self.current is not None:
            await view.show_thread(self.current, self.empty_text())
        else:
            await view.sync()

    # -- drafts -------------------------------------------------------------------------

    def draft_key(self, sid: str | None = None) -> str:
        sid = sid if sid is not None else self.current_id
        return sid or f"new:{self.new_directory or self.app.link.directory}"

    def save_draft(self) -> None:
        """Keep what the prompt holds as the open thread's draft."""
        with contextlib.suppress(Exception):
            self.drafts.set(self.draft_key(), self.app.main.prompt.expanded())  # pastes in full
        self.save_drafts()

    def save_drafts(self) -> None:
        """Write the drafts; if they cannot be written, say so once and keep them in memory."""
        self.drafts.save()
        self.warn_unsaved()

    def warn_unsaved(self) -> None:
        if self.drafts.error is not None and not self._drafts_warned:
            self._drafts_warned = True
            self.app.toast(t("toast.drafts_unsaved", error=self.drafts.error), severity="warning", timeout=15)
