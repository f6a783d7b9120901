"""The external editor: the prompt's text opened in $VISUAL or $EDITOR, and brought back."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from t3tui.app.app import T3App


class Editor:
    """Opens the prompt in the user's editor."""

    def __init__(self, app: T3App) -> None:
        self.app = app

    async def open(self) -> None:
        raise NotImplementedError  # being built (issue 14)
