"""Errors a newcomer can act on: each screen driven with Pilot, and snapshotted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import ui_support as ui
from sse_server import Script, SSEServer
from textual.pilot import Pilot
from ui_support import toasts, wait_for

from t3tui.app.app import T3App
from t3tui.app.screens.connection import PasswordScreen, UnreachableScreen
from t3tui.app.widgets.plain_text import PlainText
from t3tui.opencode.client import OpencodeClient

SIZE = (110, 32)


def body(app: T3App, selector: str) -> str:
    """The text of a widget on the top screen ("" while that screen is still composing)."""
    found = list(app.screen.query(selector).results(PlainText))
    return str(found[0].render()) if found else ""


async def test_unreachable_server_retries_with_countdown_and_says_what_it_tried() -> None:
    app = ui.make_app(ui.make_store([]), connect=True, thread=None)
    app.link.stream.backoff_initial = 2.0
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, lambda: isinstance(app.screen, UnreachableScreen))
        await wait_for(pilot, app, lambda: "again in" in body(app, "#unreachable-body"))
        text = body(app, "#unreachable-body")
        assert "Tried: GET http://127.0.0.1:9/global/event" in text
        assert "cannot connect to http://127.0.0.1:9" in text
        assert "(attempt " in text
        assert "Cannot reach the server at http://127.0.0.1:9" in body(app, ".dialog-title")
        await pilot.press("r")
        await wait_for(pilot, app, lambda: app.link.stream.attempt >= 2)
        await pilot.press("q")
        await pilot.pause(0.1)
    assert app.return_code == 1


async def test_unreachable_screen_goes_when_the_server_answers() -> None:
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        port = server.port
        await server.close()
        client = OpencodeClient(f"http://127.0.0.1:{port}")
        app = ui.make_app(ui.make_store([]), connect=True, thread=None, client=client)
        app.link.stream.backoff_initial = app.link.stream.backoff_max = 0.3
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: isinstance(app.screen, UnreachableScreen))
            again = SSEServer(default=Script(ending="heartbeat"))
            again._server = await asyncio.start_server(again._handle, "127.0.0.1", port)
            again.port = port
            try:
                await wait_for(pilot, app, lambda: not isinstance(app.screen, UnreachableScreen))
                assert app.link.stream.state == "open"
            finally:
                await again.close()


async def test_wrong_password_asks_for_it_masked_and_does_not_storm() -> None:
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        server.auth = ("opencode", "right-password")
        client = OpencodeClient(server.url, password="wrong")
        app = ui.make_app(ui.make_store([]), connect=True, thread=None, client=client)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: isinstance(app.screen, PasswordScreen))
            # The screen is pushed before it is composed: wait for its text, not for luck.
            await wait_for(pilot, app, lambda: "401" in body(app, "#password-body"))
            await wait_for(pilot, app, lambda: bool(app.screen.query("#password-input")))
            await pilot.pause(0.5)
            assert len(server.event_requests()) == 1  # no retry storm
            field = app.screen.query_one("#password-input")
            assert field.password  # masked
            await pilot.press(*"right-password")
            assert "right-password" not in app.export_screenshot()
            await pilot.press("enter")
            await wait_for(pilot, app, lambda: app.link.stream.state == "open")
            assert not isinstance(app.screen, PasswordScreen)


async def test_tls_error_is_a_clear_message() -> None:
    """https:// to a plain-HTTP server: the TLS handshake fails, and the screen says so."""

    async def plain_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(plain_http, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = OpencodeClient(f"https://127.0.0.1:{port}")
        app = ui.make_app(ui.make_store([]), connect=True, thread=None, client=client)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: isinstance(app.screen, UnreachableScreen))
            await wait_for(pilot, app, lambda: "Error:" in body(app, "#unreachable-body"))
            assert f"TLS handshake with https://127.0.0.1:{port} failed" in body(app, "#unreachable-body")
    finally:
        server.close()


@pytest.mark.parametrize(
    ("health", "expected"),
    [
        (
            {"healthy": True, "version": "0.9.2"},
            "This server is opencode 0.9.2; t3tui is tested with 1.18.33",
        ),
        ({"healthy": True}, "did not say its version"),
    ],
)
async def test_old_or_unknown_server_gets_a_warning(health: dict[str, object], expected: str) -> None:
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        server.rest["/global/health"] = health
        app = ui.make_app(ui.make_store([]), connect=True, thread=None, client=OpencodeClient(server.url))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: any(expected in m for m in toasts(app)))


async def test_current_server_gets_no_warning() -> None:
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        server.rest["/global/health"] = {"healthy": True, "version": "1.18.33"}
        app = ui.make_app(ui.make_store([]), connect=True, thread=None, client=OpencodeClient(server.url))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: app.link.version_checked and app.link.stream.state == "open")
            await wait_for(pilot, app, lambda: not any(w.group == "version" for w in app.workers))
            assert len(server.paths("/global/health")) == 1
            assert not any("tested with" in m or "version" in m for m in toasts(app))


# -- snapshots (fixed values, no live timing) --------------------------------------------


def _unreachable(pilot: Pilot) -> object:
    async def run() -> None:
        app: T3App = pilot.app  # type: ignore[assignment]
        stream = app.link.stream
        stream.attempt = 3
        stream.last_error = "cannot connect to http://127.0.0.1:9: [Errno 111] Connection refused"
        stream.next_retry_at = asyncio.get_running_loop().time() + 4.45
        await app.push_screen(UnreachableScreen(stream))
        await pilot.pause(0.2)

    return run()


def _password(pilot: Pilot) -> object:
    async def run() -> None:
        await pilot.app.push_screen(PasswordScreen("the server refused the password (HTTP 401)"))
        await pilot.pause(0.2)
        await pilot.press(*"secret")

    return run()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("screen", ["unreachable", "password"])
def test_error_screen_snapshots(snap_compare: Callable[..., bool], screen: str, lang: str) -> None:
    app = ui.make_app(ui.make_store([]), lang=lang, thread=None)
    run_before = _unreachable if screen == "unreachable" else _password
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_unreachable_screen_updated_before_it_is_composed_does_not_crash() -> None:
    """The app's one-second timer can update the screen the moment it is pushed."""
    from t3tui.app.screens.connection import UnreachableScreen

    app = ui.make_app(ui.make_store([]), connect=False, thread=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = UnreachableScreen(app.link.stream)
        screen.update_from(app.link.stream)  # not mounted: nothing to update, no error
        app.push_screen(screen)
        screen.update_from(app.link.stream)  # pushed, perhaps not composed yet
        await pilot.pause(0.1)
        screen.update_from(app.link.stream)
        assert "Cannot reach the server" in body(app, ".dialog-title")
