"""The model picker as an opencode user knows it (issue 14): recent models first, kept across
restarts, and reasoning-effort variants asked after the pick, cycled with Ctrl+T, shown in
the status line and handed to the prompt.

The server is the scriptable stand-in (tests/sse_server.py) answering ``GET /provider``
and ``GET /config/providers`` as opencode 1.18.33 does for the mock provider: the
``reasoning`` model has the variants low, medium and high, the others none.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import ui_support as ui
from eventgen import prompt_run, session_updated
from sse_server import Reply, SSEServer
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, OptionList
from ui_support import wait_for

from t3tui import observations
from t3tui.app.app import T3App
from t3tui.app.screens.model_picker import ModelScreen, VariantScreen
from t3tui.i18n import catalog
from t3tui.opencode.client import OpencodeClient
from t3tui.state.store import Store

SIZE = (110, 32)
SID = ui.SID
PROVIDERS = {
    "all": [
        {
            "id": "mock",
            "name": "Mock",
            "models": {
                "fast": {"id": "fast", "name": "Mock fast"},
                "reasoning": {"id": "reasoning", "name": "Mock reasoning"},
                "slow": {"id": "slow", "name": "Mock slow"},
            },
        },
    ],
    "default": {"mock": "fast"},
    "connected": ["mock"],
}
EFFORT = {"low": {"reasoningEffort": "low"}, "medium": {"reasoningEffort": "medium"}}
CONFIG_PROVIDERS = {
    "providers": [
        {
            "id": "mock",
            "models": {
                "fast": {"variants": {}},
                "reasoning": {"variants": {**EFFORT, "high": {"reasoningEffort": "high"}}},
                "slow": {},
            },
        }
    ],
    "default": {"mock": "fast"},
}


def text(lang: str, key: str, **values: str) -> str:
    """A catalog entry with its placeholders filled, straight from locales/<lang>.json."""
    out = catalog(lang)[key]
    for k, v in values.items():
        out = out.replace("{" + k + "}", v)
    return out


@pytest.fixture(autouse=True)
def no_opencode_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """opencode's own state directory (recents t3tui may start from): never the developer's."""
    xdg = tmp_path / "xdg-state"
    monkeypatch.setenv("XDG_STATE_HOME", str(xdg))
    return xdg


def fake_server() -> SSEServer:
    server = SSEServer()
    server.rest["/provider"] = PROVIDERS
    server.rest["/config/providers"] = CONFIG_PROVIDERS
    server.rest["/config"] = {}
    return server


def one_thread(*lines: dict[str, Any]) -> Store:
    return ui.make_store([session_updated(SID, title="Models"), *lines])


def app_on(server: SSEServer, state_dir: Path | None, store: Store | None = None, **kw: Any) -> T3App:
    return ui.make_app(
        store or one_thread(), state_dir=state_dir, client=OpencodeClient(server.url), thread=SID, **kw
    )


def status(app: T3App) -> str:
    return str(app.main.status_line.render())


def rows(screen: ModelScreen) -> list[str]:
    """The picker's rows as shown: a heading's text, or a model's ``provider/model``."""
    olist = screen.query_one(OptionList)
    out = []
    for i in range(olist.option_count):
        option = olist.get_option_at_index(i)
        out.append(option.id or f"# {option.prompt}")
    return out


async def open_picker(pilot: Pilot[Any], app: T3App) -> ModelScreen:
    await pilot.press("ctrl+o")
    await wait_for(pilot, app, lambda: isinstance(app.screen, ModelScreen))
    screen = app.screen
    assert isinstance(screen, ModelScreen)
    await wait_for(pilot, app, lambda: not screen.loading and screen.query_one(OptionList).option_count > 0)
    return screen


async def pick(pilot: Pilot[Any], app: T3App, model: str) -> None:
    """Choose ``model`` ("mock/slow") by typing it into the filter, as a user does."""
    screen = await open_picker(pilot, app)
    await pilot.press(*model)
    olist = screen.query_one(OptionList)
    await wait_for(pilot, app, lambda: olist.option_count == 1)
    await pilot.press("enter")
    await wait_for(pilot, app, lambda: not isinstance(app.screen, ModelScreen))


async def answer_variant(pilot: Pilot[Any], app: T3App, variant: str | None) -> list[str]:
    """Answer the "reasoning effort" question (None: Esc); returns the choices offered."""
    await wait_for(pilot, app, lambda: isinstance(app.screen, VariantScreen) and app.screen.query(OptionList))
    olist = app.screen.query_one(OptionList)
    await wait_for(pilot, app, lambda: olist.has_focus and olist.highlighted is not None)  # mounted
    offered = [str(olist.get_option_at_index(i).id) for i in range(olist.option_count)]
    if variant is None:
        await pilot.press("escape")
    else:
        for _ in range(offered.index(variant)):
            await pilot.press("down")
        await pilot.press("enter")
    await wait_for(pilot, app, lambda: app.screen is app.main)
    return offered


# -- recent models -------------------------------------------------------------------------


async def test_recent_models_come_first_newest_first_and_survive_a_restart(tmp_path: Path) -> None:
    async with fake_server() as server:
        app = app_on(server, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_picker(pilot, app)
            # Nothing picked yet: no "Recent" section, one section per provider.
            assert rows(screen) == ["# Mock", "mock/fast", "mock/reasoning", "mock/slow"]
            await pilot.press("escape")
            await wait_for(pilot, app, lambda: app.screen is app.main)
            await pick(pilot, app, "mock/slow")
            await pick(pilot, app, "mock/fast")
            await pick(pilot, app, "mock/slow")  # again: moves to the top, listed once
            screen = await open_picker(pilot, app)
            expected = ["# Recent", "mock/slow", "mock/fast", "# Mock", "mock/reasoning"]
            assert rows(screen) == expected
            # Enter on the highlighted row takes the newest recent (headings are skipped).
            assert screen.query_one(OptionList).highlighted_option.id == "mock/slow"
            # A filter searches every model, recent ones first, without sections.
            await pilot.press(*"mock")
            await wait_for(pilot, app, lambda: "# Recent" not in rows(screen))
            assert rows(screen) == ["mock/slow", "mock/fast", "mock/reasoning"]
        saved = json.loads((tmp_path / "models.json").read_text(encoding="utf-8"))
        assert saved["recent"] == [
            {"providerID": "mock", "modelID": "slow"},
            {"providerID": "mock", "modelID": "fast"},
        ]

        again = app_on(server, tmp_path)
        async with again.run_test(size=SIZE) as pilot:
            screen = await open_picker(pilot, again)
            assert rows(screen) == expected


async def test_a_corrupt_recents_file_is_ignored_and_replaced(tmp_path: Path) -> None:
    (tmp_path / "models.json").write_text('{"recent": [{"providerID": "mock", "mod', encoding="utf-8")
    async with fake_server() as server:
        app = app_on(server, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_picker(pilot, app)
            assert rows(screen) == ["# Mock", "mock/fast", "mock/reasoning", "mock/slow"]
            await pilot.press("escape")
            await wait_for(pilot, app, lambda: app.screen is app.main)
            await pick(pilot, app, "mock/slow")
            assert text("en", "toast.model", model="mock/slow") in ui.toasts(app)
        saved = json.loads((tmp_path / "models.json").read_text(encoding="utf-8"))
        assert saved["recent"] == [{"providerID": "mock", "modelID": "slow"}]


async def test_opencodes_own_recents_are_the_start_when_t3tui_has_none(
    tmp_path: Path, no_opencode_state: Path
) -> None:
    theirs = no_opencode_state / "opencode" / "model.json"
    theirs.parent.mkdir(parents=True)
    recent = [{"providerID": "mock", "modelID": "slow"}, {"providerID": "gone", "modelID": "x"}]
    theirs.write_text(json.dumps({"recent": recent, "favorite": [], "variant": {}}), encoding="utf-8")
    before = theirs.read_bytes()
    state = tmp_path / "state"
    async with fake_server() as server:
        app = app_on(server, state)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_picker(pilot, app)
            # A recent model no connected provider offers is not listed.
            assert rows(screen)[:3] == ["# Recent", "mock/slow", "# Mock"]
            await pilot.press("escape")
            await wait_for(pilot, app, lambda: app.screen is app.main)
            await pick(pilot, app, "mock/fast")
    assert theirs.read_bytes() == before  # read, never written
    saved = json.loads((state / "models.json").read_text(encoding="utf-8"))
    assert [r["modelID"] for r in saved["recent"]] == ["fast", "slow", "x"]


# -- loading ---------------------------------------------------------------------------


@pytest.mark.parametrize("burst", [False, True], ids=["typed", "burst"])
async def test_keys_typed_while_the_models_load_go_to_the_picker_filter(burst: bool) -> None:
    """Typed key by key, or in one burst with Ctrl+O as a terminal delivers a fast typist's
    keys (all queued before the picker has even mounted)."""
    async with fake_server() as server:
        loaded = asyncio.Event()  # the list is answered once the keys are typed
        server.rest["/provider"] = Reply(200, PROVIDERS, gate=loaded)
        app = app_on(server, None)
        async with app.run_test(size=SIZE) as pilot:
            if burst:
                for k in ["ctrl+o", *"slow"]:
                    app.post_message(events.Key(k, None if k == "ctrl+o" else k))
                await wait_for(pilot, app, lambda: isinstance(app.screen, ModelScreen))
            else:
                await pilot.press("ctrl+o", *"slow")
            screen = app.screen
            assert isinstance(screen, ModelScreen) and screen.loading  # still on its way
            hint = text("en", "models.loading")
            await wait_for(pilot, app, lambda: str(screen.query_one(".dialog-hint").render()) == hint)
            assert screen.loading
            loaded.set()
            await wait_for(pilot, app, lambda: not screen.loading)
            assert screen.query_one(Input).value == "slow"
            assert rows(screen) == ["mock/slow"]
            assert app.main.prompt.text == ""
            await pilot.press("enter")
            await wait_for(pilot, app, lambda: "mock/slow" in status(app))


# -- variants --------------------------------------------------------------------------


async def test_picking_a_reasoning_model_asks_for_its_variant_once(tmp_path: Path) -> None:
    async with fake_server() as server:
        app = app_on(server, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await pick(pilot, app, "mock/reasoning")
            offered = await answer_variant(pilot, app, "high")
            assert offered == ["default", "low", "medium", "high"]  # "Default" first, then the server's order
            toast = text("en", "toast.variant", model="mock/reasoning", variant="high")
            await wait_for(pilot, app, lambda: toast in ui.toasts(app))
            await wait_for(pilot, app, lambda: "mock/reasoning · high" in status(app))
            th = app.threads.current
            assert th is not None and app.models.variant_for(th) == "high"

            # A model without variants asks nothing, and sends none.
            await pick(pilot, app, "mock/fast")
            await wait_for(pilot, app, lambda: "mock/fast" in status(app))
            assert app.screen is app.main and "·" not in status(app).split("mock/fast")[1]
            assert app.models.variant_for(th) is None

            # Back to the reasoning model: its variant was kept, so no question.
            await pick(pilot, app, "mock/reasoning")
            await wait_for(pilot, app, lambda: "mock/reasoning · high" in status(app))
            assert not isinstance(app.screen, VariantScreen)
            assert app.models.variant_for(th) == "high"
        saved = json.loads((tmp_path / "models.json").read_text(encoding="utf-8"))
        assert saved["variant"] == {"mock/reasoning": "high"}


async def test_ctrl_t_cycles_the_variants_then_none(tmp_path: Path) -> None:
    async with fake_server() as server:
        app = app_on(server, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await pick(pilot, app, "mock/reasoning")
            await answer_variant(pilot, app, None)  # Esc: no variant yet
            th = app.threads.current
            assert th is not None and app.models.variant_for(th) is None
            app.main.prompt.focus()
            for expected in ["low", "medium", "high", None]:
                await pilot.press("ctrl+t")
                shown = expected or text("en", "variants.default")
                toast = text("en", "toast.variant", model="mock/reasoning", variant=shown)
                await wait_for(pilot, app, lambda t=toast: ui.toasts(app)[-1] == t)
                assert app.models.variant_for(th) == expected
                if expected:
                    await wait_for(pilot, app, lambda e=expected: f"mock/reasoning · {e}" in status(app))
                else:
                    await wait_for(pilot, app, lambda: "·" not in status(app).split("mock/reasoning")[1])

            # Chosen "Default" counts as an answer: picking the model again asks nothing.
            await pick(pilot, app, "mock/reasoning")
            assert not isinstance(app.screen, VariantScreen)

            await pick(pilot, app, "mock/fast")
            app.main.prompt.focus()
            await pilot.press("ctrl+t")
            none = text("en", "toast.no_variants", model="mock/fast")
            await wait_for(pilot, app, lambda: ui.toasts(app)[-1] == none)
        saved = json.loads((tmp_path / "models.json").read_text(encoding="utf-8"))
        assert saved["variant"] == {"mock/reasoning": "default"}


async def test_ctrl_t_works_on_the_model_the_thread_ran_on_before_anything_loaded(tmp_path: Path) -> None:
    """No picker opened and nothing loaded: Ctrl+T fetches the variants itself, for the
    model the thread's last turn ran on (eventgen's turns run on mock/fast)."""
    _, _, _, events = prompt_run(SID, "hello", tokens=1)
    async with fake_server() as server:
        app = app_on(server, tmp_path, one_thread(*events))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: "mock/fast" in status(app))
            app.main.prompt.focus()
            await pilot.press("ctrl+t")
            none = text("en", "toast.no_variants", model="mock/fast")
            await wait_for(pilot, app, lambda: none in ui.toasts(app))
            assert server.paths("/config/providers")

            # Once the server's own config gives that model variants, Ctrl+T sets one.
            config = json.loads(json.dumps(CONFIG_PROVIDERS))
            config["providers"][0]["models"]["fast"]["variants"] = EFFORT
            server.rest["/config/providers"] = config
            app.models.variants.clear()  # as after a provider refresh
            await pilot.press("ctrl+t")
            await wait_for(pilot, app, lambda: "mock/fast · low" in status(app))
            th = app.threads.current
            assert th is not None and app.models.variant_for(th) == "low"


async def test_the_variant_picked_before_a_new_thread_exists_goes_with_its_first_prompt() -> None:
    async with fake_server() as server:
        app = ui.make_app(ui.make_store([]), client=OpencodeClient(server.url), thread=None)
        async with app.run_test(size=SIZE) as pilot:
            await pick(pilot, app, "mock/reasoning")
            await answer_variant(pilot, app, "medium")
            await wait_for(pilot, app, lambda: "mock/reasoning · medium" in status(app))
            # The thread is made when the first prompt goes out (as sending does it).
            app.link.store.apply(session_updated(SID, title="New"))
            th = app.link.store.threads[SID]
            assert app.models.variant_for(th) == "medium"  # before the model is fixed for it
            assert app.models.model_for(th, new_thread=True) == ("mock", "reasoning")
            assert app.models.variant_for(th) == "medium"


async def test_a_server_that_lists_no_variants_still_lets_the_user_pick_a_model() -> None:
    async with fake_server() as server:
        server.rest["/config/providers"] = Reply(500, {"name": "UnknownError", "data": {"message": "boom"}})
        app = app_on(server, None)
        async with app.run_test(size=SIZE) as pilot:
            await pick(pilot, app, "mock/reasoning")
            await wait_for(pilot, app, lambda: "mock/reasoning" in status(app))
            await wait_for(pilot, app, lambda: len(server.paths("/config/providers")) >= 2)
            assert app.screen is app.main  # no question, and no error for a question not asked
            assert ui.toasts(app) == [text("en", "toast.model", model="mock/reasoning")]
            th = app.threads.current
            assert th is not None and app.models.variant_for(th) is None
            app.main.prompt.focus()
            await pilot.press("ctrl+t")  # asked for: the failure is said
            await wait_for(pilot, app, lambda: "boom" in ui.toasts(app)[-1])
            assert ui.toasts(app)[-1].startswith(text("en", "toast.variants_failed", error=""))


# -- snapshots ---------------------------------------------------------------------------


def picker_app(tmp_path: Path, lang: str) -> T3App:
    """Offline: the providers already known, two recent models on disk."""
    recent = [{"providerID": "mock", "modelID": "reasoning"}, {"providerID": "mock", "modelID": "slow"}]
    (tmp_path / "models.json").write_text(json.dumps({"recent": recent, "variant": {}}), encoding="utf-8")
    store = one_thread()
    store.apply(observations.snapshot("providers", None, PROVIDERS))
    return ui.make_app(store, lang=lang, state_dir=tmp_path, thread=SID)


async def open_and_settle(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, T3App)
    await pilot.press("ctrl+o")
    await wait_for(pilot, app, lambda: isinstance(app.screen, ModelScreen))
    await wait_for(pilot, app, lambda: app.screen.query_one(OptionList).option_count == 5)
    await pilot.pause(0.2)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_model_picker_with_recent(
    snap_compare: Callable[..., bool], tmp_path: Path, lang: str
) -> None:
    assert snap_compare(picker_app(tmp_path, lang), terminal_size=SIZE, run_before=open_and_settle)
