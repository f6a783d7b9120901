"""The timeline picker: a thread's prompts, oldest first, to fork the thread from one of them.

As opencode's "Fork from message" dialog: one row per prompt the user typed (its first
line, and how long ago it was sent); the newest, at the bottom, is highlighted, since
forking usually redoes the last thing asked. Enter hands back the turn's id, Esc None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from t3tui.app.screens.base import LocalizedModal
from t3tui.app.widgets.plain_text import PlainText
from t3tui.i18n import t
from t3tui.state.store import Thread, Turn
from t3tui.text import duration, one_line

LABEL_WIDTH = 90  # characters of a prompt's first line


@dataclass(frozen=True)
class Entry:
    """One row: a turn's id, its prompt's first line, and when it was sent (clock ms)."""

    turn_id: str
    first_line: str
    sent: float | None


def forkable(th: Thread) -> list[Turn]:
    """The turns a fork can start from: prompts the user typed that the server has (not a
    compaction, a shell command or a synthetic message), not undone."""
    out = []
    for turn in th.sorted_turns():
        user = turn.user
        if user is None or turn.reverted or turn.compaction is not None:
            continue
        if any(p.type == "text" and not p.hidden and p.text.strip() for p in user.parts.values()):
            out.append(turn)
    return out


def entries(turns: list[Turn]) -> list[Entry]:
    rows = []
    for turn in turns:
        first = next((line for line in turn.prompt.split("\n") if line.strip()), "")
        sent = turn.user.created if turn.user is not None else None
        rows.append(
            Entry(
                turn.id, one_line(first.strip(), LABEL_WIDTH), sent if sent is not None else turn.started_at
            )
        )
    return rows


class TimelineScreen(LocalizedModal[str | None]):
    """Pick the prompt to fork from: Enter picks, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "bind.cancel", id="cancel")]

    def __init__(self, rows: list[Entry], clock: Callable[[], float]) -> None:
        super().__init__(classes="dialog-screen")
        self.rows = rows
        self.clock = clock

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText(t("timeline.title"), classes="dialog-title")
            yield OptionList(*(Option(self._label(row), id=row.turn_id) for row in self.rows), id="timeline")
            yield PlainText(t("timeline.hint"), classes="dialog-hint")

    def _label(self, row: Entry) -> Text:
        label = Text(row.first_line or " ")
        if row.sent is not None:
            ago = t("timeline.ago", ago=duration(self.clock() - row.sent / 1000))
            label.append(f"  {ago}", style="dim")
        return label

    def on_mount(self) -> None:
        olist = self.query_one(OptionList)
        olist.highlighted = len(self.rows) - 1 if self.rows else None
        olist.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
