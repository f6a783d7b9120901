"""What can be done to a thread besides prompting it: rename, fork, delete and compact it.
Undo and redo live in ``undo.py``.

- Rename (``/rename``, Ctrl+R in the sidebar, the palette): ``PATCH /session/{id}``.
- Fork (``/fork``, F8, the palette): a timeline picker of the thread's prompts; the server
  copies the turns before the one picked into a new thread (``POST /session/{id}/fork``),
  which opens with the picked prompt in the input, to edit and send (as opencode's TUI).
- Delete (Ctrl+D in the sidebar, the palette): after a confirmation that names the
  thread (``DELETE /session/{id}``). A running thread is interrupted first, and the
  question says so. The thread leaves the sidebar when the server's ``session.deleted``
  arrives; if it was open, its neighbour in the sidebar opens.
- Compact (``/compact``, ``/summarize``, the palette): ``POST /session/{id}/summarize``
  with the thread's model. The server streams the summary as a turn of its own, which
  shows as a "compacted" marker with the summary under it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from t3tui.app.screens.dialogs import ConfirmScreen, TextScreen
from t3tui.app.screens.timeline import TimelineScreen, entries, forkable
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError
from t3tui.state.store import Thread
from t3tui.text import one_line

if TYPE_CHECKING:
    from t3tui.app.app import T3App

MAX_TITLE = 200  # characters: a title is one line in the sidebar, not a document


class ThreadOps:
    """Rename, fork, delete and compact a thread (the open one, or the sidebar's)."""

    def __init__(self, app: T3App) -> None:
        self.app = app
        self.compacting: set[str] = set()  # threads whose summary is being written

    def _thread(self, sid: str | None) -> Thread | None:
        sid = sid or self.app.threads.current_id
        return self.app.link_of(sid).store.threads.get(sid) if sid else None

    # -- rename ---------------------------------------------------------------------------

    def rename(self, sid: str | None = None, title: str = "") -> None:
        """With ``title``, rename at once; without, ask for it (prefilled with the current one)."""
        th = self._thread(sid)
        if th is None:
            self.app.toast(t("toast.rename_none"))
            return
        if title.strip():
            self._start(th.id, title)
            return

        def answered(value: str | None) -> None:
            if value is not None and value.strip() and value.strip() != th.title:
                self._start(th.id, value)

        self.app.push_screen(TextScreen(t("rename.title"), th.title), answered)

    def _start(self, sid: str, title: str) -> None:
        title = " ".join(title.split())[:MAX_TITLE]  # one line
        self.app.run_worker(self._rename(sid, title), group="rename", exit_on_error=False)

    async def _rename(self, sid: str, title: str) -> None:
        link = self.app.link_of(sid)
        th = link.store.threads.get(sid)
        if th is None:
            return
        try:
            session = await link.client.rename_session(sid, th.directory, title)
        except OpencodeError as exc:
            self.app.toast(t("toast.rename_failed", error=exc.message), severity="error", timeout=10)
            return
        link.observe_session(session)
        self.app.toast(t("toast.renamed", title=title))

    # -- fork -----------------------------------------------------------------------------

    def fork(self) -> None:
        """Ask which prompt of the open thread to fork from (the newest is highlighted)."""
        th = self._thread(None)
        if th is None:
            self.app.toast(t("toast.fork_none"))
            return
        turns = forkable(th)
        if not turns:
            self.app.toast(t("toast.fork_nothing"))
            return
        prompts = {turn.id: turn.prompt for turn in turns}

        def picked(turn_id: str | None) -> None:
            if turn_id is not None and turn_id in prompts:
                self.app.run_worker(
                    self._fork(th, turn_id, prompts[turn_id]), group="fork", exit_on_error=False
                )

        self.app.push_screen(TimelineScreen(entries(turns), self.app.clock), picked)

    async def _fork(self, th: Thread, turn_id: str, prompt: str) -> None:
        app = self.app
        link = app.link_of(th.id)
        try:
            session = await link.client.fork_session(th.id, th.directory, turn_id)
        except OpencodeError as exc:
            app.toast(t("toast.fork_failed", error=exc.message), severity="error", timeout=10)
            return
        link.observe_session(session)
        await app.threads.open(session.id)
        box = app.main.prompt
        if not box.text.strip():  # a draft of the new thread (none yet) is never overwritten
            box.load_text(prompt)
            box.move_cursor(box.document.end)
        box.focus()
        app.toast(t("toast.forked", title=one_line(session.title or t("sidebar.untitled"), 80)))

    # -- delete ---------------------------------------------------------------------------

    def delete(self, sid: str | None = None) -> None:
        """Delete a thread once the user says yes (a running one is interrupted first)."""
        th = self._thread(sid)
        if th is None:
            self.app.toast(t("toast.delete_none"))
            return
        title = one_line(th.title or t("sidebar.untitled"), 80)
        question = t("confirm.delete_running" if th.active else "confirm.delete", title=title)

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.run_worker(self._delete(th, title), group="delete", exit_on_error=False)

        self.app.push_screen(ConfirmScreen(question), answered)

    async def _delete(self, th: Thread, title: str) -> None:
        app = self.app
        link = app.link_of(th.id)
        if th.active and not await app.interrupt.stop(th.id):
            return  # the run goes on: the toast said why; nothing is deleted under it
        was_open = app.threads.current_id == th.id
        after = self._neighbour(th.id)
        try:
            await link.client.delete_session(th.id, th.directory)
        except OpencodeError as exc:
            app.toast(t("toast.delete_failed", error=exc.message), severity="error", timeout=10)
            return
        app.toast(t("toast.deleted", title=title))
        if was_open and app.threads.current_id in (th.id, None):
            # The server's session.deleted may have come first (then nothing is open).
            await app.threads.open(after if after is not None and app.link_of(after).has(after) else None)

    def _neighbour(self, sid: str) -> str | None:
        """The thread to open instead of ``sid``: the next in the sidebar, else the one
        before (never one of its own subagent threads, which go with it)."""
        ids = self.app.main.sidebar.thread_ids
        if sid not in ids:
            return None
        at = ids.index(sid)
        for other in [*ids[at + 1 :], *reversed(ids[:at])]:
            th = self.app.link_of(other).store.threads.get(other)
            if th is not None and th.parent_id != sid:
                return other
        return None

    # -- compact --------------------------------------------------------------------------

    def compact(self) -> None:
        """Summarize the open thread with its model; the summary streams as a turn."""
        app = self.app
        th = self._thread(None)
        if th is None:
            app.toast(t("toast.compact_none"))
            return
        if th.id in self.compacting:
            app.toast(t("toast.compact_already"))
            return
        if th.active:
            app.toast(t("toast.compact_busy"), severity="warning")
            return
        if not th.order:
            app.toast(t("toast.compact_empty"))
            return
        model = app.models.model_of(th)
        if model is None:
            app.toast(t("toast.compact_no_model"), severity="warning", timeout=10)
            return
        self.compacting.add(th.id)
        app.run_worker(self._compact(th, model), group="compact", exit_on_error=False)

    async def _compact(self, th: Thread, model: tuple[str, str]) -> None:
        app = self.app
        link = app.link_of(th.id)
        app.toast(t("toast.compacting", model=f"{model[0]}/{model[1]}"))
        try:
            await link.client.summarize(th.id, th.directory, model)
        except OpencodeError as exc:
            app.toast(t("toast.compact_failed", error=exc.message), severity="error", timeout=10)
            return
        finally:
            self.compacting.discard(th.id)
        app.toast(t("toast.compacted"))
