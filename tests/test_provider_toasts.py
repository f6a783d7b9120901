"""Providers offline: the refresh toasts, the providers screen and the masked key dialog.

Snapshots (in en and zh) of what a user sees after connecting a provider: the normal toast,
and the deferred one with "refresh pending" in the status line while a run is active. The
providers screen is fed from the store and a scripted transport: no network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import ui_support as ui
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from t3tui import observations
from t3tui.app.app import T3App
from t3tui.app.screens.providers import ApiKeyScreen, ProvidersScreen
from t3tui.app.widgets.plain_text import PlainText
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeClient

SIZE = (110, 32)
ITEM = {"providerID": "openai", "provider": "OpenAI", "op": "connect"}
KEY = "sk-snapshot-secret-0123456789"

PROVIDERS: dict[str, Any] = {
    "all": [
        {
            "id": "openai",
            "name": "OpenAI",
            "env": ["OPENAI_API_KEY"],
            "models": {
                "gpt-5.3-chat-latest": {"id": "gpt-5.3-chat-latest", "name": "GPT-5.3 Chat"},
                "gpt-5-mini": {"id": "gpt-5-mini", "name": "GPT-5 mini"},
            },
        },
        {
            "id": "anthropic",
            "name": "Anthropic",
            "env": ["ANTHROPIC_API_KEY"],
            "models": {"claude-sonnet-4-6": {"id": "claude-sonnet-4-6", "name": "Claude Sonnet 4.6"}},
        },
        {
            "id": "github-copilot",
            "name": "GitHub Copilot",
            "models": {"claude-sonnet-4.6": {"id": "claude-sonnet-4.6", "name": "Claude Sonnet 4.6"}},
        },
        {
            "id": "mock",
            "name": "Mock OpenAI-compatible",
            "models": {
                "fast": {"id": "fast", "name": "Mock fast"},
                "slow": {"id": "slow", "name": "Mock slow"},
            },
        },
        {
            "id": "opencode",
            "name": "OpenCode Zen",
            "models": {"big-pickle": {"id": "big-pickle", "name": "Big Pickle"}},
        },
    ],
    "default": {"openai": "gpt-5.3-chat-latest", "mock": "fast", "opencode": "big-pickle"},
    "connected": ["opencode", "mock"],
}
METHODS = {
    "openai": [
        {"type": "oauth", "label": "ChatGPT Pro/Plus (browser)"},
        {"type": "oauth", "label": "ChatGPT Pro/Plus (headless)"},
        {"type": "api", "label": "Manually enter API Key"},
    ],
    "github-copilot": [{"type": "oauth", "label": "Login with GitHub Copilot"}],
}


def scripted(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/provider/auth":
        return httpx.Response(200, json=METHODS)
    if request.url.path == "/provider":
        return httpx.Response(200, json=PROVIDERS)
    return httpx.Response(404, json={"name": "NotFoundError", "data": {"message": "not scripted"}})


def providers_app(lang: str, *, network: bool = True) -> T3App:
    """The streaming thread, with the providers already in the store (as after a resync)."""
    store = ui.streaming()
    store.apply(observations.snapshot("providers", None, PROVIDERS))
    client = OpencodeClient(ui.DEAD_URL, transport=httpx.MockTransport(scripted)) if network else None
    return ui.make_app(store, lang=lang, client=client)


async def settle(pilot: Pilot[Any]) -> None:
    app: T3App = pilot.app  # type: ignore[assignment]
    await pilot.pause(0.2)
    app.frames.request()
    await app.frames.frame()
    await pilot.pause(0.3)


async def until(pilot: Pilot[Any], predicate: Callable[[], Any], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await pilot.pause(0.05)


def no_blink(app: T3App) -> None:
    for field in app.screen.query(Input):
        field.cursor_blink = False


# -- the toasts ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("kind", ["connected", "deferred"])
def test_refresh_toast_snapshot(snap_compare: Callable[..., bool], kind: str, lang: str) -> None:
    app = ui.make_app(ui.streaming(), lang=lang)
    deferred = kind == "deferred"

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if deferred:
            # What provider_changed records while a run is active: the status line says so.
            app.link.observe(observations.refresh("pending", **ITEM))
        app.providers.toast_refresh(ITEM, deferred=deferred)
        await settle(pilot)
        key = "toast.provider_connected_deferred" if deferred else "toast.provider_connected"
        assert ui.toasts(app) == [t(key, provider="OpenAI")]
        assert (t("status.refresh_pending") in str(app.query_one("#status", PlainText).render())) is deferred

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("op", ["connect", "disconnect"])
@pytest.mark.parametrize("deferred", [False, True])
async def test_refresh_toast_texts(op: str, deferred: bool, lang: str) -> None:
    app = ui.make_app(ui.streaming(), lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        app.providers.toast_refresh({**ITEM, "op": op}, deferred=deferred)
        await pilot.pause()
        verb = "connected" if op == "connect" else "disconnected"
        key = f"toast.provider_{verb}" + ("_deferred" if deferred else "")
        (note,) = ui.notifications(app)
        assert str(note.message) == t(key, provider="OpenAI")
        assert note.severity == "information"
        assert "{" not in str(note.message)
        if lang == "zh":
            assert "OpenAI" in str(note.message) and "refresh" not in str(note.message)


# -- the providers screen ------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_providers_screen_snapshot(snap_compare: Callable[..., bool], lang: str) -> None:
    app = providers_app(lang)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, ProvidersScreen) and bool(app.screen.methods))
        no_blink(app)
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_providers_screen_shows_the_store_without_the_network() -> None:
    """The rows come from what the app knows; a failed reload says so and keeps them."""
    app = providers_app("en", network=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        # The screen is on top before it is mounted: its rows come with its mount.
        await until(pilot, lambda: isinstance(app.screen, ProvidersScreen) and bool(app.screen.rows))
        screen = app.screen
        assert isinstance(screen, ProvidersScreen)
        olist = screen.query_one("#providers-list", OptionList)
        assert [r.id for r in screen.rows] == ["mock", "opencode", "anthropic", "github-copilot", "openai"]
        assert olist.option_count == 5
        status = screen.query_one("#providers-status", PlainText)
        await until(pilot, lambda: "Could not load providers" in str(status.render()))
        assert olist.option_count == 5
        await pilot.press(*"open")
        shown = [str(olist.get_option_at_index(i).id) for i in range(olist.option_count)]
        assert shown == ["mock", "opencode", "openai"]  # "Mock OpenAI-compatible" matches by name


# -- the key dialog ------------------------------------------------------------------------


async def _key_typed(pilot: Pilot[Any]) -> None:
    app: T3App = pilot.app  # type: ignore[assignment]
    await settle(pilot)
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(app.screen, ProvidersScreen) and bool(app.screen.methods))
    await pilot.press(*"openai")
    olist = app.screen.query_one("#providers-list", OptionList)
    while olist.highlighted_option is None or olist.highlighted_option.id != "openai":
        await pilot.press("down")
    await pilot.press("enter")  # three methods: choose the API key
    await pilot.press("down", "down", "enter")
    await until(pilot, lambda: isinstance(app.screen, ApiKeyScreen))
    no_blink(app)
    await pilot.press(*KEY)
    field = app.screen.query_one("#api-key", Input)
    assert field.password and field.value == KEY
    assert KEY not in app.export_screenshot()
    await settle(pilot)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_api_key_dialog_snapshot(snap_compare: Callable[..., bool], lang: str) -> None:
    assert snap_compare(providers_app(lang), terminal_size=SIZE, run_before=_key_typed)
