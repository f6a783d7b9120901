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
        self._shown: Text | None = None

    def show(self, text: str, style: str = "") -> None:
        self.put(Text(clean(text), style=style))

    def put(self, text: Text) -> None:
        """Show ``text`` (already clean), unless it is what is shown: an update costs the
        screen a layout, and the status line is written again every second."""
        shown = self._shown
        if (
            shown is not None
            and shown.plain == text.plain
            and shown.spans == text.spans
            and shown.style == text.style
        ):
            return
        self.update(text)

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        self._shown = content if isinstance(content, Text) else None
        super().update(content, layout=layout)
