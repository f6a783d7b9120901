"""Quitting at any moment of the start: a SIGTERM or Ctrl+Q in the first instants exits cleanly.

The embedded-server test sends SIGTERM once the terminal is in raw mode; on a busy
machine that came while the main screen was still being built, and Textual raised
MountError (exit code 1 and a traceback instead of 143). Here the exit is asked at the
moments that matter, deterministically.
"""

from __future__ import annotations

from typing import Any

import pytest
from ui_support import make_app

from t3tui.app.app import T3App
from t3tui.app.screens.main import MainScreen


@pytest.mark.parametrize("moment", ["screen made", "screen composing", "screen started"])
async def test_an_exit_asked_while_the_main_screen_is_built_ends_cleanly(
    moment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if moment == "screen made":
        made = T3App._main_screen

        def main_screen(self: T3App) -> MainScreen:
            screen = made(self)
            self.exit(None, 143)
            return screen

        monkeypatch.setattr(T3App, "_main_screen", main_screen)
    elif moment == "screen started":
        # The screen starts before the app mounts it: an exit here came before that too.
        started = T3App._started

        async def start_then_exit(self: T3App) -> None:
            await started(self)
            self.exit(None, 143)

        monkeypatch.setattr(T3App, "_started", start_then_exit)
    else:
        compose = MainScreen.compose

        def composing(self: MainScreen) -> Any:
            self.app.exit(None, 143)
            yield from compose(self)

        monkeypatch.setattr(MainScreen, "compose", composing)
    app = make_app()
    async with app.run_test() as pilot:
        for _ in range(100):
            if not app.is_running:
                break
            await pilot.pause(0.05)
    assert app.return_code == 143
    assert app._exception is None  # noqa: SLF001 (what Textual prints as the traceback)
