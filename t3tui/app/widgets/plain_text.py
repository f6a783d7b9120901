"""Server text shown as it is: a model reply holding ``[/bold]`` must not be parsed as markup."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from t3tui.text import clean


class PlainText(Static):
    """A Static that shows text as it is: never parsed as markup, control characters made visible."""

    def __init__(self, text: str = "", **kw: Any) -> None:
        super().__init__(Text(clean(text)), markup=False, **kw)

    def show(self, text: str, style: str = "") -> None:
        self.update(Text(clean(text), style=style))
