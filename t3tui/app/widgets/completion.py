"""The completion list above the prompt: files and agents after ``@``, commands after ``/``.

It never takes the focus: the prompt keeps it, and hands it the keys that move and
accept (see :meth:`PromptArea.on_key`), as opencode's TUI does.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from t3tui.text import one_line

MAX_ROWS = 60  # the list scrolls; it shows about ten at a time


@dataclass(frozen=True)
class Item:
    """One row: what accepting it inserts or runs, and how it reads."""

    kind: str  # "file", "dir", "agent", "command" (the server's) or "own" (t3tui's)
    value: str  # a path, an agent's or a command's name
    label: str
    detail: str = ""


class Completion(OptionList):
    """A list of :class:`Item`; hidden when there is nothing to complete."""

    can_focus = False

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.items: list[Item] = []
        self.kind = ""  # "@" or "/": what the rows complete

    def show_items(self, kind: str, items: list[Item], empty: str | None = None) -> None:
        """Show ``items`` (the first highlighted); ``empty`` is shown, dim, when there are none."""
        self.kind = kind
        self.items = items[:MAX_ROWS]
        self.clear_options()
        width = min(40, max((cell_len(one_line(i.label, 40)) for i in self.items), default=0))
        for item in self.items:
            label = one_line(item.label, 40)
            row = Text(label, style="bold" if item.kind in ("own", "command") else "")
            if item.detail:
                # Padded into a column of its own: the descriptions line up.
                row.append(" " * (width - cell_len(label) + 2))
                row.append(one_line(item.detail, 70), style="dim")
            self.add_option(Option(row))
        if not self.items and empty:
            self.add_option(Option(Text(empty, style="dim italic"), disabled=True))
        self.highlighted = 0 if self.items else None
        self.display = True

    def hide(self) -> None:
        self.display = False
        self.items = []
        self.kind = ""

    @property
    def open(self) -> bool:
        return bool(self.display)

    @property
    def selected(self) -> Item | None:
        at = self.highlighted
        return self.items[at] if at is not None and 0 <= at < len(self.items) else None

    def move(self, by: int) -> None:
        """Up and Down (wrapping, as in opencode)."""
        if self.items:
            at = self.highlighted if self.highlighted is not None else -1
            self.highlighted = (at + by) % len(self.items)
