"""Small dialogs that ask one thing (yes or no, or one of a few choices) and hand the answer back."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from t3tui.app.screens.base import LocalizedModal
from t3tui.app.widgets.plain_text import PlainText
from t3tui.i18n import t
from t3tui.text import clean


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


class ChoiceScreen(LocalizedModal[str | None]):
    """Pick one of a few named things (an agent, a language): Enter picks, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "bind.cancel", id="cancel")]

    def __init__(
        self, title: str, choices: list[tuple[str, str]], current: str | None = None, hint: str | None = None
    ) -> None:
        """``choices``: (value, label) pairs; ``current`` is marked and highlighted."""
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.choices = choices
        self.current = current
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText(self.title_text, classes="dialog-title")
            yield OptionList(
                *(
                    Option(Text(("● " if value == self.current else "  ") + clean(label)), id=value)
                    for value, label in self.choices
                ),
                id="choices",
            )
            yield PlainText(self.hint or t("dialog.choose_hint"), classes="dialog-hint")

    def on_mount(self) -> None:
        olist = self.query_one(OptionList)
        values = [value for value, _ in self.choices]
        olist.highlighted = values.index(self.current) if self.current in values else 0
        olist.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextScreen(LocalizedModal[str | None]):
    """Ask for one line of text (a thread's new title): Enter gives it, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "bind.cancel", id="cancel")]

    def __init__(self, title: str, value: str = "", hint: str | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.value = value
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText(self.title_text, classes="dialog-title")
            yield Input(value=self.value, id="text-input")
            yield PlainText(self.hint or t("dialog.text_hint"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
