"""Permission and question requests: which one the panels show, and sending the user's answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError

if TYPE_CHECKING:
    from t3tui.app.app import T3App


class Requests:
    """Shows the open thread's first unanswered request, and sends the answer."""

    def __init__(self, app: T3App) -> None:
        self.app = app
        self._answered: set[str] = set()  # sent, not yet gone from the store

    @property
    def answered(self) -> set[str]:
        """The requests answered here that the server has not yet confirmed (the cockpit
        leaves them out too)."""
        return self._answered

    def forget(self) -> None:
        """Another thread opened: its requests are all to show."""
        self._answered.clear()

    def sync(self) -> None:
        """One panel at most: a permission first, else a question."""
        main = self.app.main
        th = self.app.threads.current
        perm_panel, q_panel = main.permission, main.question
        perm = next((p for p in (th.permissions.values() if th else ()) if p.id not in self._answered), None)
        question = next(
            (q for q in (th.questions.values() if th else ()) if q.id not in self._answered), None
        )
        main.show_panel(perm_panel, perm, perm_panel.focus)
        main.show_panel(q_panel, question if perm is None else None, q_panel.focus_first)

    def reply_permission(self, rid: str, sid: str, reply: str, message: str | None) -> None:
        self._sent(rid)
        self.app.run_worker(
            self._reply_permission(rid, sid, reply, message), group="reply", exit_on_error=False
        )

    async def _reply_permission(self, rid: str, sid: str, reply: str, message: str | None) -> None:
        link = self.app.link_of(sid)
        th = link.store.threads.get(sid)
        try:
            await link.client.reply_permission(rid, th.directory if th else None, reply, message)
        except OpencodeError as exc:
            self._failed(rid, exc)

    def reply_question(self, rid: str, sid: str, answers: list[list[str]] | None) -> None:
        """Answer a question (``answers`` None: reject it)."""
        self._sent(rid)
        self.app.run_worker(self._reply_question(rid, sid, answers), group="reply", exit_on_error=False)

    async def _reply_question(self, rid: str, sid: str, answers: list[list[str]] | None) -> None:
        link = self.app.link_of(sid)
        th = link.store.threads.get(sid)
        directory = th.directory if th else None
        try:
            if answers is None:
                await link.client.reject_question(rid, directory)
            else:
                await link.client.reply_question(rid, directory, answers)
        except OpencodeError as exc:
            self._failed(rid, exc)

    def _sent(self, rid: str) -> None:
        self._answered.add(rid)
        self.app.frames.request()

    def _failed(self, rid: str, exc: OpencodeError) -> None:
        """The answer did not reach the server: show the request again, and say why."""
        self._answered.discard(rid)
        self.app.frames.request()
        self.app.toast(t("toast.reply_failed", error=exc.message), severity="error", timeout=10)
