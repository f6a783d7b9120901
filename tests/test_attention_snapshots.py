"""Snapshots in English and Chinese: the cockpit with a permission and a question from two
threads (the permission's panel below), and the sidebar's "Needs you" group."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import ui_support as ui
from test_attention_sidebar import need_you, sidebar_store
from test_cockpit import cockpit_store
from textual.pilot import Pilot

from t3tui.app.controllers.attention import AttentionSettings
from t3tui.app.screens.cockpit import CockpitScreen

SIZE = (110, 32)


async def settle(pilot: Pilot) -> None:
    await pilot.pause(0.2)
    await pilot.app.frames.frame()  # type: ignore[attr-defined]
    await pilot.pause(0.3)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cockpit_snapshot(snap_compare: Callable[..., bool], lang: str) -> None:
    app = ui.make_app(cockpit_store(), lang=lang)

    async def run_before(pilot: Pilot) -> None:
        await ui.wait_for(pilot, app, lambda: app.attention.any_pending())
        await pilot.press("f9")
        await ui.wait_for(pilot, app, lambda: isinstance(app.screen, CockpitScreen) and app.screen.rows)
        await pilot.press("down")  # the permission: its panel below the list
        await ui.wait_for(pilot, app, lambda: app.screen.permission.display)  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sidebar_attention_group_snapshot(snap_compare: Callable[..., bool], lang: str) -> None:
    app = ui.make_app(sidebar_store(), lang=lang, attention=AttentionSettings(attention_first=True))

    async def run_before(pilot: Pilot) -> None:
        await ui.wait_for(pilot, app, lambda: len(app.main.sidebar.thread_ids) == 6)
        need_you(app)
        await ui.wait_for(
            pilot, app, lambda: len(app.threads.unseen) == 2 and len(app.attention.pending()) == 2
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=(110, 36), run_before=run_before)
