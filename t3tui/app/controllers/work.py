"""The work panel: shown beside the thread on a wide terminal, toggled with a key (the
choice kept on disk), fed each frame from the store, and the todo list and the diff
fetched when a thread is opened and after each reconnect.

The panel shows by default when the terminal is wider than 120 columns, as opencode's
sidebar does. The key hides it (remembered: ``work.json`` in t3tui's state directory,
``{"panel": "hide"}``) or shows it again (``"auto"``: by the width; on a narrower
terminal it then shows until the key hides it, for this run). The numbers it shows are
the store's (``state/work.py``): made again only when the open thread's work changes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from t3tui import observations
from t3tui.app import keys
from t3tui.app.widgets.work_panel import WorkPanel
from t3tui.opencode.client import OpencodeError
from t3tui.opencode.wire import ProviderList
from t3tui.state import work
from t3tui.state.work import WorkView

if TYPE_CHECKING:
    from t3tui.app.app import T3App
    from t3tui.app.controllers.server import ServerLink

log = logging.getLogger(__name__)

WIDE = 120  # columns: a terminal wider than this shows the panel by default (opencode's rule)
BINDING = "work_panel"


class Work:
    """Whether the work panel shows, what it shows, and the work fetched from the server."""

    def __init__(self, app: T3App, state_dir: Path | None = None) -> None:
        self.app = app
        if state_dir is None and app.threads.drafts.path is not None:
            state_dir = app.threads.drafts.path.parent  # the app's state directory
        self.path = state_dir / "work.json" if state_dir is not None else None
        self.mode = "auto"  # "auto": shown when the terminal is wide; "hide": hidden
        self.opened = False  # shown by the key on a narrow terminal (this run only)
        self.wide: bool | None = None  # None until the screen's width is known
        self._fetched: dict[str, int] = {}  # thread -> the stream's open count when fetched
        # The models that can run, per server (GET /config/providers: their context
        # windows), when the store has no provider list; and when each was asked for.
        self._models: dict[ServerLink, ProviderList] = {}
        self._models_asked: dict[ServerLink, int] = {}
        # Each thread's cost (those that cost something), kept from the frames' changed
        # threads, and their sum: a frame or a tick never adds up every thread again.
        self._costs: dict[str, float] | None = None
        self._sum: float | None = None
        self._panel: WorkPanel | None = None
        if self.path is not None and self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = None  # unreadable: the default, and the next toggle rewrites it
            if isinstance(data, dict) and data.get("panel") == "hide":
                self.mode = "hide"

    @property
    def panel(self) -> WorkPanel:
        if self._panel is None:
            self._panel = self.app.main.work_panel
        return self._panel

    @property
    def visible(self) -> bool:
        return self.opened or (self.mode == "auto" and bool(self.wide))

    # -- showing and hiding -----------------------------------------------------------------

    def fit(self, width: int) -> None:
        """The terminal is ``width`` columns wide: show the panel or not, and the key in
        the footer when there is room for it."""
        wide = width > WIDE
        if wide == self.wide:
            return
        self.wide = wide
        keys.show(self.app, BINDING, wide)
        self.app.refresh_bindings()
        self.apply()

    def apply(self) -> None:
        main = self.app.main
        if not main.ready:
            return
        panel = self.panel
        if panel.display != self.visible:
            panel.display = self.visible
            if not panel.display:
                main.refocus_prompt()
        if panel.display:
            self.sync()

    def toggle(self) -> None:
        """The key: hide the panel (remembered), or show it (on any width)."""
        if self.visible:
            self.mode, self.opened = "hide", False
        else:
            self.mode, self.opened = "auto", not self.wide
        self.save()
        self.apply()

    def save(self) -> None:
        if self.path is None:
            return
        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".work-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"panel": self.mode}, fh)
            os.replace(tmp, self.path)
        except OSError:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    # -- each frame ---------------------------------------------------------------------

    def sync(self) -> WorkView | None:
        """The open thread's work (None: no thread): drawn on the panel if it shows, and
        fetched from the server once per thread and connection. Cheap when nothing
        changed: the store hands back the view it made last, and the panel draws only
        another one."""
        app = self.app
        threads = app.threads
        th = threads.current
        link = threads.link
        providers = link.store.providers or self._models.get(link)
        shown = work.view(th, providers) if th is not None else None
        if self.visible:  # called only while the main screen's widgets exist
            self.panel.show(th.id if th is not None else None, shown)
        if th is not None:
            self._fetch_once(link, th.id, th.directory)
        if shown is not None and shown.context and shown.limit is None:
            self._models_once(link)
        return shown

    def total_cost(self, shown: WorkView | None) -> float:
        """Dollars over every thread the stores know: the open one's as ``shown`` (its
        view now), the others' as last changed (see :meth:`changed`)."""
        costs = self._costs
        if costs is None:  # the first time: every thread once
            costs = self._costs = {}
            for link in self.app.links:
                for sid, th in link.store.threads.items():
                    if cost := work.thread_cost(th):
                        costs[sid] = cost
        if self._sum is None:
            self._sum = math.fsum(costs.values())
        others = self._sum - costs.get(self.app.threads.current_id or "", 0.0)
        return max(0.0, others) + ((shown.cost if shown is not None else None) or 0.0)

    def changed(self, dirty: Iterable[str]) -> None:
        """The threads that changed in a frame: their cost again."""
        costs = self._costs
        if costs is None:
            return  # counted in full when first asked
        for sid in dirty:
            th = self.app.link_of(sid).store.threads.get(sid)
            cost = work.thread_cost(th) if th is not None else None
            if cost:
                if costs.get(sid) != cost:
                    costs[sid] = cost
                    self._sum = None
            elif costs.pop(sid, None) is not None:
                self._sum = None

    # -- the server's todo list and diff ----------------------------------------------------

    def _fetch_once(self, link: ServerLink, sid: str, directory: str | None) -> None:
        store = link.store
        if not link.connect or store.connection != "open" or self._fetched.get(sid) == store.opens:
            return
        self._fetched[sid] = store.opens
        self.app.run_worker(self._fetch(link, sid, directory), group=link.group("work"), exit_on_error=False)

    async def _fetch(self, link: ServerLink, sid: str, directory: str | None) -> None:
        """``GET /todo`` and ``GET /diff`` of a thread, as snapshots. An event that changed
        the list while the request was out is newer than the answer: the answer is dropped."""
        th = link.store.threads.get(sid)
        if th is None:
            return
        for kind, call, field in (
            ("todos", link.client.todos, "todos"),
            ("diff", link.client.session_diff, "diffs"),
        ):
            before = getattr(th.work, field)
            try:
                data: Any = await call(sid, directory)
            except OpencodeError as exc:
                log.info("%s of %s: %s", kind, sid, exc.message)
                continue
            if link.store.threads.get(sid) is th and getattr(th.work, field) is before:
                link.observe(observations.snapshot(kind, directory, data, session_id=sid))

    def _models_once(self, link: ServerLink) -> None:
        """The context windows of the models that can run, asked once per connection when
        the store has no provider list (``GET /provider`` lists every provider there is:
        megabytes; ``GET /config/providers`` only those configured)."""
        store = link.store
        if not link.connect or store.connection != "open" or self._models_asked.get(link) == store.opens:
            return
        self._models_asked[link] = store.opens

        async def fetch() -> None:
            try:
                data = await link.client.raw_config_providers(link.directory)
                listed = ProviderList.model_validate({"all": data.get("providers") or []})
            except (OpencodeError, AttributeError, TypeError, ValueError) as exc:
                log.info("the models' context windows are unknown: %s", exc)
                return
            self._models[link] = listed
            self.app.frames.request()

        self.app.run_worker(fetch(), group=link.group("work-models"), exit_on_error=False)

    # -- the files list -----------------------------------------------------------------

    def chosen(self, file: str) -> None:
        """A file of the list was picked: its diff, in the viewer (when there is one)."""
        diffs = getattr(self.app, "diffs", None)
        if diffs is not None:
            diffs.open(self.app.threads.current_id, file)
