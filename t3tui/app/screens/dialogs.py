"""Small dialogs that ask one thing (yes or no) and hand the answer back."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical

from t3tui.app.screens.base import LocalizedModal
from t3tui.app.widgets.plain_text import PlainText
from t3tui.i18n import t


class ConfirmScreen(LocalizedModal[bool]):
    """A question answered with y or n (Esc is no)."""

    BINDINGS = [
        Binding("y", "answer(True)", "bind.yes", id="yes"),
        Binding("n,escape", "answer(False)", "bind.no", id="no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(classes="dialog-screen")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText(self.question, classes="dialog-title")
            yield PlainText(t("dialog.yes_no"), classes="dialog-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
