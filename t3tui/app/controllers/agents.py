"""The agent each thread runs with (build, plan, …): cycled with Tab, shown, and sent with each prompt."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from t3tui.app.app import T3App


class Agents:
    """The agents of each server, and the one chosen per thread."""

    def __init__(self, app: T3App) -> None:
        self.app = app

    def cycle(self, step: int) -> None:
        raise NotImplementedError  # being built (issue 14)
