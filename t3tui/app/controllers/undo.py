"""Undo and redo (``/undo``, ``/redo``), as opencode's TUI does them.

Undo reverts the thread from its last prompt that is not undone yet
(``POST /session/{id}/revert``): the server undoes that turn and what followed, file
changes included, and t3tui shows those turns as reverted. The prompt's text comes back
into the input (a shell command in shell mode), unless the user is typing something
else: then it goes into the prompt history, never over what was typed. A running turn is
interrupted first. Redo moves the revert point forward one prompt, or
(``POST /session/{id}/unrevert``) brings everything back when none is left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError
from t3tui.state.store import Thread, Turn

if TYPE_CHECKING:
    from t3tui.app.app import T3App


class Undo:
    """Undo and redo in the open thread."""

    def __init__(self, app: T3App) -> None:
        self.app = app

    def undo(self) -> None:
        th = self.app.threads.current
        if th is None:
            self.app.toast(t("toast.undo_nothing"))
            return
        self.app.run_worker(self._undo(th), group="undo", exclusive=True, exit_on_error=False)

    def redo(self) -> None:
        th = self.app.threads.current
        if th is None or th.revert_id is None:
            self.app.toast(t("toast.redo_nothing"))
            return
        self.app.run_worker(self._redo(th), group="undo", exclusive=True, exit_on_error=False)

    async def _undo(self, th: Thread) -> None:
        app = self.app
        target = last_prompt_before(th, th.revert_id)
        if target is None:
            app.toast(t("toast.undo_nothing"))
            return
        if th.active and not await app.interrupt.stop(th.id):
            return  # the run goes on: undoing under it would race it (the toast said why)
        link = app.link_of(th.id)
        try:
            session = await link.client.revert(th.id, th.directory, target.id)
        except OpencodeError as exc:
            app.toast(t("toast.undo_failed", error=exc.message), severity="error", timeout=10)
            return
        link.observe_session(session)
        self._give_back(th, target)

    async def _redo(self, th: Thread) -> None:
        app = self.app
        rid = th.revert_id
        if rid is None:
            return
        link = app.link_of(th.id)
        following = next_prompt_after(th, rid)
        try:
            if following is None:
                session = await link.client.unrevert(th.id, th.directory)
            else:
                session = await link.client.revert(th.id, th.directory, following.id)
        except OpencodeError as exc:
            app.toast(t("toast.redo_failed", error=exc.message), severity="error", timeout=10)
            return
        link.observe_session(session)
        app.toast(t("toast.redone"))

    def _give_back(self, th: Thread, turn: Turn) -> None:
        """The undone prompt into the input, or into the history if the user is typing."""
        app = self.app
        prompt = app.main.prompt
        command = turn.shell_command
        text = command if command is not None else turn.prompt
        if not text:
            app.toast(t("toast.undone"))
            return
        if app.threads.current_id == th.id and not prompt.text.strip():
            prompt.load_text(text)
            prompt.shell = command is not None
            prompt.move_cursor(prompt.document.end)
            app.toast(t("toast.undone_in_prompt"))
        else:
            app.threads.drafts.remember(f"!{text}" if command is not None else text)
            app.toast(t("toast.undone_in_history"))


def last_prompt_before(th: Thread, revert_id: str | None) -> Turn | None:
    """The newest prompt the server has (not one still being sent) before the revert point."""
    for tid in reversed(th.order):
        turn = th.turns.get(tid)
        if turn is not None and turn.user is not None and (revert_id is None or tid < revert_id):
            return turn
    return None


def next_prompt_after(th: Thread, revert_id: str) -> Turn | None:
    """The first prompt after the revert point (redo moves the point there)."""
    for tid in th.order:
        turn = th.turns.get(tid)
        if turn is not None and turn.user is not None and tid > revert_id:
            return turn
    return None
