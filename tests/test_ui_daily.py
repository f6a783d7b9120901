"""Bugs and friction a user hit in a live session (issue 12), each driven as the user did.

Each test failed before its fix: a model picked for a new thread, the keys panel that
would not close, the sidebar cursor left behind, the hint naming the wrong directory,
a newline typed in a burst, and the small things a user noticed (Esc in the reason
box, long titles, "Quit Quit", repeated banners, the "no threads" flash, the palette
placeholder, End from the prompt).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import ui_support as ui
from eventgen import DIR, session_info, session_updated
from sse_server import Reply, Script, SSEServer
from textual import events
from textual.command import CommandPalette
from textual.widgets import HelpPanel, Input
from ui_support import wait_for

from t3tui.app.app import T3App
from t3tui.app.widgets.plain_text import PlainText
from t3tui.opencode.client import OpencodeClient
from t3tui.state.store import Store

SIZE = (110, 32)
SID = ui.SID
OTHER = "ses_e030be698ffekR7lV1Ew0yneZ7"
PROVIDERS = {
    "all": [
        {"id": "mock", "name": "Mock", "models": {"fast": {"id": "fast"}, "slow": {"id": "slow"}}},
    ],
    "default": {"mock": "fast"},
    "connected": ["mock"],
}


def footer(app: T3App) -> str:
    return " ".join(f"{k.key} {k.description}" for k in app.screen.query("FooterKey"))


def text_of(app: T3App, selector: str) -> str:
    return str(app.main.query_one(selector, PlainText).render())


def two_threads(other_dir: str = DIR) -> Any:
    return ui.make_store(
        [session_updated(SID, title="First"), session_updated(OTHER, directory=other_dir, title="Second")]
    )


# -- bugs ----------------------------------------------------------------------------------


async def test_a_model_picked_for_a_new_thread_is_the_one_sent() -> None:
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        server.rest["/session"] = lambda req: session_info(SID) if req.method == "POST" else []
        server.rest["/provider"] = PROVIDERS
        server.rest[f"/session/{SID}/prompt_async"] = Reply(204)
        app = ui.make_app(ui.make_store([]), connect=True, thread=None, client=OpencodeClient(server.url))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: app.link.stream.state == "open")
            await pilot.press("ctrl+n", "ctrl+o")
            await wait_for(pilot, app, lambda: app.screen.query("#model-list"))
            await pilot.press(*"slow")  # typed while the models load: lands in the filter
            await wait_for(pilot, app, lambda: app.screen.query_one("#model-list").option_count == 1)
            await pilot.press("enter")
            await wait_for(pilot, app, lambda: "mock/slow" in text_of(app, "#status"))
            await pilot.press(*"hi there", "enter")
            await wait_for(pilot, app, lambda: bool(server.paths(f"/session/{SID}/prompt_async")))
            body = server.paths(f"/session/{SID}/prompt_async")[0].json()
            assert body["model"] == {"providerID": "mock", "modelID": "slow"}
            await wait_for(pilot, app, lambda: app.threads.current_id == SID)
            assert "mock/slow" in text_of(app, "#status")  # the header did not revert
            assert app.main.prompt.text == ""


async def test_the_keys_panel_closes_with_the_command_again_or_esc() -> None:
    app = ui.make_app(ui.make_store([]), thread=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, app, lambda: bool(app.screen.query(HelpPanel)))
        await pilot.press("f1")
        await wait_for(pilot, app, lambda: not app.screen.query(HelpPanel))
        app.action_toggle_keys()
        await wait_for(pilot, app, lambda: bool(app.screen.query(HelpPanel)))
        await wait_for(pilot, app, lambda: "escape Hide keys" in footer(app))
        await pilot.press("escape")
        await wait_for(pilot, app, lambda: not app.screen.query(HelpPanel))


async def test_the_keys_panel_has_no_doubled_labels() -> None:
    app = ui.make_app(ui.make_store([]), thread=None)
    async with app.run_test(size=SIZE):
        binding = app.screen.active_bindings["ctrl+q"].binding
        assert binding.tooltip in ("", None) or binding.tooltip != binding.description


async def test_the_sidebar_cursor_follows_the_open_thread() -> None:
    app = ui.make_app(two_threads(), thread=SID)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, lambda: len(app.main.sidebar.thread_ids) == 2)
        await pilot.press("ctrl+b")  # to the sidebar
        await pilot.press("ctrl+b")  # back to the prompt
        await pilot.press("alt+up")
        await wait_for(pilot, app, lambda: app.threads.current_id == OTHER)
        await wait_for(pilot, app, lambda: app.main.sidebar.highlighted_option.id == OTHER)
        await pilot.press("alt+up")
        await wait_for(pilot, app, lambda: app.threads.current_id == SID)
        await wait_for(pilot, app, lambda: app.main.sidebar.highlighted_option.id == SID)


async def test_the_empty_thread_hint_names_the_threads_own_directory() -> None:
    store = ui.make_store([session_updated(OTHER, directory="/srv/elsewhere", title="Empty")])
    app = ui.make_app(store, thread=OTHER)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, lambda: app.threads.current_id == OTHER)
        shown = str(app.main.thread_view.query_one(".empty", PlainText).render())
        assert "/srv/elsewhere" in shown
        assert DIR not in shown


async def test_a_newline_typed_in_a_burst_lands_where_it_was_typed() -> None:
    app = ui.make_app(ui.make_store([]), thread=None)
    async with app.run_test(size=SIZE) as pilot:
        app.main.prompt.focus()
        await pilot.pause()
        keys = [("a", "a")] * 3 + [("ctrl+j", "\n")] + [("b", "b")] * 3
        for key, char in keys:  # all queued at once, as a fast typist or a tmux paste
            app.post_message(events.Key(key, char))
        await wait_for(pilot, app, lambda: len(app.main.prompt.text) == 7)
        assert app.main.prompt.text == "aaa\nbbb"


# -- friction ------------------------------------------------------------------------------


async def test_esc_in_the_reason_box_is_back_not_interrupt() -> None:
    app = ui.make_app(ui.permission(), thread=SID)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, lambda: app.main.query_one("#permission").display)
        app.main.query_one("#permission").focus()
        await pilot.press("r")
        await wait_for(pilot, app, lambda: isinstance(app.focused, Input))
        await wait_for(pilot, app, lambda: "Back" in footer(app))
        assert "Interrupt" not in footer(app)
        await pilot.press("escape")
        await wait_for(pilot, app, lambda: not isinstance(app.focused, Input))
        assert app.threads.current.active  # Esc went back; it did not arm an interrupt
        assert app.interrupt.armed_at is None


async def test_a_long_title_is_cut_with_an_ellipsis() -> None:
    long_title = "New session - 2026-11-21T07:13:24.935Z and a great deal more besides"
    store = ui.make_store([session_updated(SID, title=long_title)])
    app = ui.make_app(store, thread=SID)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, app, lambda: len(app.main.sidebar.thread_ids) == 1)
        label = str(app.main.sidebar.get_option(SID).prompt)
        first = label.split("\n")[0]
        assert first.endswith("…")
        assert len(first) <= app.main.sidebar.scrollable_content_region.width


async def test_a_refused_password_is_said_once_and_a_missing_one_is_not_called_refused() -> None:
    cases = (("wrong", "refused the password", "needs a password"), (None, "needs a password", "refused"))
    for password, expected, wrong in cases:
        async with SSEServer(default=Script(ending="heartbeat")) as server:
            server.auth = ("opencode", "right")
            client = OpencodeClient(server.url, password=password)
            app = ui.make_app(ui.make_store([]), connect=True, thread=None, client=client)
            async with app.run_test(size=SIZE) as pilot:
                shown = app  # bound now: the lambdas below run within this iteration
                await wait_for(pilot, app, lambda s=shown: s.link.stream.state == "auth_failed")
                await wait_for(pilot, app, lambda s=shown: s.main.query_one("#banner").display)
                banner = text_of(app, "#banner")
                assert expected in banner.lower() or expected in banner
                assert banner.lower().count("password") <= 3
                assert wrong not in banner
                assert banner.count("(HTTP 401)") == 1


async def test_a_dead_port_at_first_start_says_cannot_reach_not_connection_lost() -> None:
    app = ui.make_app(Store(clock=ui.clock), connect=True, thread=None)  # never connected
    app.link.stream.backoff_initial = 5.0
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, lambda: app.link.stream.attempt >= 1)
        await wait_for(pilot, app, lambda: app.main.query_one("#banner").display)
        banner = text_of(app, "#banner")
        assert "Cannot reach http://127.0.0.1:9" in banner
        assert "Connection lost" not in banner and "stale" not in banner


async def test_the_thread_list_says_loading_until_it_arrives() -> None:
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        gate = asyncio.Event()
        server.rest["/session"] = lambda req: [] if gate.is_set() else Reply(200, [], delay=1.5)
        app = ui.make_app(ui.make_store([]), connect=True, thread=None, client=OpencodeClient(server.url))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: app.main.sidebar.option_count >= 1)
            first = str(app.main.sidebar.get_option_at_index(0).prompt)
            assert first == "Loading threads…"
            await wait_for(
                pilot, app, lambda: "No threads yet" in str(app.main.sidebar.get_option_at_index(0).prompt)
            )


@pytest.mark.parametrize(("lang", "placeholder"), [("en", "Search for commands…"), ("zh", "搜索命令…")])
async def test_the_palette_placeholder_is_translated(lang: str, placeholder: str) -> None:
    app = ui.make_app(ui.make_store([]), thread=None, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await wait_for(pilot, app, lambda: isinstance(app.screen, CommandPalette))
        await wait_for(pilot, app, lambda: bool(app.screen.query(Input)))
        assert app.screen.query_one(Input).placeholder == placeholder


async def test_end_from_the_prompt_goes_to_the_end_of_the_thread() -> None:
    app = ui.make_app(ui.long_thread(60), thread=SID)
    async with app.run_test(size=SIZE) as pilot:
        view = app.main.thread_view
        await wait_for(pilot, app, lambda: view.max_scroll_y > 0)
        view.scroll_home(animate=False)
        await wait_for(pilot, app, lambda: view.scroll_y == 0)
        app.main.prompt.focus()
        await pilot.press("end")
        await wait_for(pilot, app, lambda: view.scroll_y >= view.max_scroll_y - 1)


# -- a newcomer with no working provider --------------------------------------------------


async def test_the_model_a_new_thread_will_use_is_shown_before_the_first_send_and_sent() -> None:
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        server.rest["/session"] = lambda req: session_info(SID) if req.method == "POST" else []
        server.rest["/config"] = {"model": None}
        server.rest["/config/providers"] = {
            "providers": [{"id": "opencode", "models": {"big-pickle": {}, "other": {}}}],
            "default": {"opencode": "big-pickle"},
        }
        server.rest[f"/session/{SID}/prompt_async"] = Reply(204)
        app = ui.make_app(ui.make_store([]), connect=True, thread=None, client=OpencodeClient(server.url))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: "opencode/big-pickle (default)" in text_of(app, "#status"))
            await pilot.press(*"hello", "enter")
            await wait_for(pilot, app, lambda: bool(server.paths(f"/session/{SID}/prompt_async")))
            body = server.paths(f"/session/{SID}/prompt_async")[0].json()
            assert body["model"] == {"providerID": "opencode", "modelID": "big-pickle"}


def test_the_configured_model_wins_over_the_first_provider() -> None:
    from t3tui.app.controllers.models import default_model

    providers = {"providers": [{"id": "opencode", "models": {"big-pickle": {}}}], "default": {}}
    assert default_model({"model": "mock/fast"}, providers) == ("mock", "fast")
    assert default_model({}, providers) == ("opencode", "big-pickle")
    assert default_model({}, {"providers": []}) is None
    assert default_model([], "nonsense") is None


async def test_a_provider_failure_names_the_model_and_the_keys_that_fix_it() -> None:
    app = ui.make_app(ui.errored(), thread=SID)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, lambda: bool(ui.turns_shown(app)))
        drawn = ui.last_turn(app).rendered_text().replace("│", " ")  # as drawn, card borders dropped
        shown = " ".join(drawn.split())
        assert "mock upstream exploded" in shown
        assert "F2: connect the provider or fix its key" in shown and "Ctrl+O" in shown


async def test_a_retry_says_how_to_stop_it() -> None:
    app = ui.make_app(ui.retrying(), thread=SID)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, lambda: bool(ui.turns_shown(app)))
        line = ui.last_turn(app).state_text()
        assert "attempt 3" in line and "in 7s" in line and "Esc twice stops it" in line
