"""The model picker against the real opencode 1.18.33 (issue 14): the variants t3tui offers
are the ones the server lists for the mock ``reasoning`` model, in its order, and the one
picked reaches the model's request."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList

from t3tui.app.screens.model_picker import ModelScreen, VariantScreen

from .mockmodel import MockModel
from .opencode_server import OpencodeServer
from .test_app_live import live_app, status_text, wait_for


async def test_picking_the_reasoning_model_offers_the_servers_variants(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))  # not the developer's opencode recents
    async with live_app(opencode, tmp_path) as (app, pilot):
        await pilot.press("ctrl+o")
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, ModelScreen) and app.screen, what="the model picker"
        )
        await wait_for(pilot, lambda: not screen.loading, what="the models to load")
        await pilot.press(*"mock/reasoning")
        olist = screen.query_one(OptionList)
        await wait_for(pilot, lambda: olist.option_count == 1, what="one model left")
        await pilot.press("enter")
        dialog = await wait_for(
            pilot, lambda: isinstance(app.screen, VariantScreen) and app.screen, what="the variant question"
        )
        await wait_for(pilot, lambda: dialog.query(OptionList), what="the variants")
        variants = dialog.query_one(OptionList)
        await wait_for(pilot, lambda: variants.has_focus, what="the variant list to take the keys")
        offered = [variants.get_option_at_index(i).id for i in range(variants.option_count)]
        assert offered == ["default", "low", "medium", "high"]
        await pilot.press("down", "down", "down", "enter")
        await wait_for(pilot, lambda: "mock/reasoning · high" in status_text(app), what="the variant shown")
        assert app.models.model_of(None) == ("mock", "reasoning")  # the next new thread's
        assert app.models.shown_variant() == "high"

        # Sent as opencode sends it: the server asks the model for that reasoning effort.
        since = len(mock_model.requests)
        app.main.prompt.focus()
        await pilot.press(*"think hard", "enter")
        request = await wait_for(
            pilot,
            lambda: next((r for r in mock_model.requests[since:] if not r["title"]), None),
            what="the model's request",
        )
        assert request["model"] == "reasoning"
        assert request["body"].get("reasoning_effort") == "high", request["body"]
