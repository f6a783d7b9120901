"""Snapshots of what the user sees, in English and Chinese, with a pinned clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import ui_support as ui
from textual.pilot import Pilot

from t3tui.state.store import Store

SIZE = (110, 32)


async def settle(pilot: Pilot) -> None:
    await pilot.pause(0.2)
    await pilot.app.frames.frame()  # type: ignore[attr-defined]
    await pilot.pause(0.3)


STATES: dict[str, Callable[[], Store]] = {
    "first_run": lambda: ui.make_store([]),
    "streaming": ui.streaming,
    "interrupted": ui.interrupted,
    "error": ui.errored,
    "retrying": ui.retrying,
    "permission": ui.permission,
    "question": ui.question,
    "reconnecting": ui.reconnecting,
    "long_thread": ui.long_thread,
    "hostile_text": ui.hostile,
    "reverted": ui.reverted,
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("state", sorted(STATES))
def test_snapshot(snap_compare: Callable[..., bool], state: str, lang: str) -> None:
    app = ui.make_app(STATES[state](), lang=lang)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
