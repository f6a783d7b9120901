"""Pilot tests of what needs no live server: failures, drafts, keys, language, safety."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import ui_support as ui
from textual.command import CommandList, CommandPalette
from textual.widgets import Markdown

from t3tui import observations
from t3tui.app.app import T3App
from t3tui.app.commands import palette_commands
from t3tui.app.widgets.live_turn import TurnView
from t3tui.app.widgets.plain_text import PlainText
from t3tui.i18n import PLACEHOLDER, available, catalog, choose_language, t

ROOT = Path(__file__).resolve().parent.parent


async def frame(pilot: object, app: T3App) -> None:
    """One repaint from the store, then let the footer catch up with the bindings."""
    await app.frames.frame()
    await pilot.pause(0.05)  # type: ignore[attr-defined]
    for _ in range(40):
        if app.screen.query("FooterKey"):
            break
        await pilot.pause(0.05)  # type: ignore[attr-defined]


def footer_text(app: T3App) -> str:
    return " ".join(str(k.description) for k in app.screen.query("FooterKey"))


# -- catalogs --------------------------------------------------------------------------


def test_catalogs_have_every_key_and_placeholder() -> None:
    en = catalog("en")
    assert len(available()) >= 2
    for lang in available():
        cat = catalog(lang)
        assert set(cat) == set(en), (
            f"{lang}: missing {sorted(set(en) - set(cat))}, extra {sorted(set(cat) - set(en))}"
        )
        for key, text in en.items():
            assert set(PLACEHOLDER.findall(cat[key])) == set(PLACEHOLDER.findall(text)), (lang, key)


def test_every_key_used_in_code_exists() -> None:
    used: set[str] = set()
    for path in (ROOT / "t3tui").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        used.update(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']""", source))
        used.update(f"bind.{m}" for m in re.findall(r"""Binding\([^)]*\bid=["']([a-z_]+)["']""", source))
        used.update(re.findall(r"""["'](bind\.[a-z_]+)["']""", source))
    missing = sorted(k for k in used if k not in catalog("en"))
    assert not missing


def test_language_choice_order() -> None:
    env = {"LC_ALL": "", "LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}
    assert choose_language(None, None, env) == "zh"
    assert choose_language("en", "zh", env) == "en"
    assert choose_language(None, "zh", {}) == "zh"
    assert choose_language(None, None, {"LANG": "C"}) == "en"
    assert choose_language("xx", None, {"LANG": "fr_FR"}) == "en"


def test_catalogs_ship_in_the_wheel() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"locales" = "t3tui/locales"' in pyproject
    for lang in ("en", "zh"):
        json.loads((ROOT / "locales" / f"{lang}.json").read_text(encoding="utf-8"))


# -- flows against a dead server ---------------------------------------------------------


async def test_interrupt_needs_two_escapes_and_failure_puts_turn_back() -> None:
    app = ui.make_app(ui.streaming())
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)
        turn = app.threads.current.sorted_turns()[0]  # type: ignore[union-attr]
        assert turn.state == "running"
        assert "Interrupt" in footer_text(app)
        await pilot.press("escape")
        await frame(pilot, app)
        assert turn.state == "running"
        assert "Esc again to interrupt" in footer_text(app)
        assert t("hint.esc_again") in str(app.query_one("#hint", PlainText).render())
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await frame(pilot, app)
        # The server is unreachable: the abort failed, so the turn runs again.
        assert turn.state == "running"
        assert app.threads.current.status == "running"  # type: ignore[union-attr]
        assert any("Could not interrupt" in m for m in ui.toasts(app))
        assert "Esc again" not in footer_text(app)


async def test_optimistic_interrupt_shows_at_once() -> None:
    app = ui.make_app(ui.streaming())
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)
        app.link.observe(observations.interrupt(ui.SID))
        await frame(pilot, app)
        view = app.query_one(TurnView)
        assert "Interrupted" in view.state_text()
        assert view.state_text() in str(view.query_one(".turn-state", PlainText).render())


async def test_failed_send_keeps_the_text_and_says_why(tmp_path: Path) -> None:
    app = ui.make_app(ui.interrupted(), state_dir=tmp_path)
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)
        await pilot.click("#prompt")
        await pilot.press(*"hello", "ctrl+j", *"world")
        assert app.main.prompt.text == "hello\nworld"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await frame(pilot, app)
        assert app.main.prompt.text == "hello\nworld"
        assert any("not sent" in m for m in ui.toasts(app))
        turns = app.threads.current.sorted_turns()  # type: ignore[union-attr]
        assert turns[-1].state == "error" and turns[-1].prompt == "hello\nworld"
        assert app.threads.current.status == "error"  # type: ignore[union-attr]


async def test_drafts_survive_thread_switch_and_restart(tmp_path: Path) -> None:
    store = ui.interrupted()
    app = ui.make_app(store, state_dir=tmp_path)
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)
        await pilot.press(*"half a thought")
        await pilot.press("ctrl+n")
        await frame(pilot, app)
        assert app.threads.current_id is None and app.main.prompt.text == ""
        await pilot.press(*"new idea")
        await app.threads.open(ui.SID)
        assert app.main.prompt.text == "half a thought"
    saved = json.loads((tmp_path / "drafts.json").read_text(encoding="utf-8"))
    assert saved["drafts"][ui.SID] == "half a thought"
    again = ui.make_app(ui.interrupted(), state_dir=tmp_path)
    async with again.run_test(size=(110, 32)) as pilot:
        await frame(pilot, again)
        assert again.main.prompt.text == "half a thought"
        await again.threads.open(None)
        assert again.main.prompt.text == "new idea"


async def test_history_walks_with_up_and_down(tmp_path: Path) -> None:
    (tmp_path / "drafts.json").write_text(json.dumps({"history": ["first", "second"]}), encoding="utf-8")
    app = ui.make_app(ui.interrupted(), state_dir=tmp_path)
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)
        await pilot.press(*"draft")
        await pilot.press("up")
        assert app.main.prompt.text == "second"
        await pilot.press("up")
        assert app.main.prompt.text == "first"
        await pilot.press("down", "down")
        assert app.main.prompt.text == "draft"


async def test_switch_threads_by_key_and_sidebar() -> None:
    from eventgen import DIR, prompt_run, session_updated

    other = "ses_e030be698ffekR7lV1Ew0yneZ7"
    _, _, _, events = prompt_run(other, "other thread", tokens=2)
    store = ui.interrupted()
    store.apply_all([session_updated(other, DIR, title="Other"), *events])
    app = ui.make_app(store)
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)
        start = app.threads.current_id
        await pilot.press("alt+down")
        await frame(pilot, app)
        assert app.threads.current_id not in (None, start)
        assert ui.last_turn(app).turn.thread.id == app.threads.current_id
        await pilot.press("ctrl+b")
        assert app.main.sidebar.has_focus
        index = app.main.sidebar.get_option_index(start)  # type: ignore[arg-type]
        app.main.sidebar.highlighted = index
        await pilot.press("enter")
        await frame(pilot, app)
        assert app.threads.current_id == start


async def test_permission_panel_is_keyboard_driven() -> None:
    app = ui.make_app(ui.permission())
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)
        panel = app.query_one("#permission")
        assert panel.display and panel.has_focus
        await pilot.pause(0.1)
        assert "Allow once" in footer_text(app)
        await pilot.press("r")
        assert app.focused is not None and "reject-input" in app.focused.classes
        await pilot.press(*"no thanks", "enter")
        await app.workers.wait_for_complete()
        await frame(pilot, app)
        # The dead server refused the reply: the request is still there to answer.
        assert any("not sent" in m for m in ui.toasts(app))
        assert panel.display


async def test_question_panel_picks_an_option_by_keyboard() -> None:
    import httpx

    from t3tui.opencode.client import OpencodeClient

    sent: list[tuple[str, object]] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, json.loads(request.content or b"null")))
        return httpx.Response(500, json={"data": {"message": "scripted failure"}})

    client = OpencodeClient(ui.DEAD_URL, transport=httpx.MockTransport(record))
    app = ui.make_app(ui.question(), client=client)
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)
        panel = app.query_one("#question")
        assert panel.display and panel.has_focus_within
        await pilot.press("down", "enter")
        await app.workers.wait_for_complete()
        await frame(pilot, app)
        assert sent == [("/question/que_1/reply", {"answers": [["Blue"]]})]
        # The server failed: the question stays, and the user is told.
        assert any("scripted failure" in m for m in ui.toasts(app))
        assert panel.display
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        assert sent[-1][0] == "/question/que_1/reject"


async def test_language_switch_at_runtime_relabels_footer_and_turns() -> None:
    app = ui.make_app(ui.interrupted())
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)
        assert "New thread" in footer_text(app)
        await app.language.set("zh")
        await frame(pilot, app)
        await pilot.pause(0.1)
        assert "新建会话" in footer_text(app)
        assert "已中断" in ui.last_turn(app).state_text()
        assert "已中断" in app.export_screenshot()
        await app.language.set("en")


async def test_palette_commands() -> None:
    app = ui.make_app(ui.streaming())
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)
        titles = [c.title for c in palette_commands(app)]
        for key in (
            "cmd.new_thread",
            "cmd.next_thread",
            "cmd.interrupt",
            "cmd.quit",
            "cmd.reconnect",
            "cmd.next_agent",
            "cmd.choose_agent",
            "cmd.variant",
            "cmd.editor",
        ):
            assert t(key) in titles
        assert t("cmd.language", name="简体中文") in titles


async def test_the_palette_lists_and_finds_the_commands() -> None:
    """The command provider: every command when nothing is typed (sorted), the matching
    ones when something is, and picking one runs it."""
    app = ui.make_app(ui.streaming())
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)

        def shown() -> list[str]:
            if not isinstance(app.screen, CommandPalette):
                return []
            olist = app.screen.query_one(CommandList)
            return [str(olist.get_option_at_index(i).prompt) for i in range(olist.option_count)]

        await pilot.press("ctrl+p")
        await ui.wait_for(pilot, app, lambda: len(shown()) == len(palette_commands(app)))
        titles = [line.split("\n")[0] for line in shown()]
        assert titles == sorted(c.title for c in palette_commands(app))
        await pilot.press(*"new thr")
        await ui.wait_for(pilot, app, lambda: bool(shown()) and "New thread" in shown()[0])
        await pilot.press("enter")
        await ui.wait_for(pilot, app, lambda: app.threads.current_id is None)


async def test_markup_and_escape_codes_render_literally() -> None:
    app = ui.make_app(ui.hostile())
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)
        await pilot.pause(0.3)
        view = app.query_one(TurnView)
        prompt = str(view.query_one(".prompt", PlainText).render())
        assert "[bold]not markup[/bold]" in prompt and "\x1b" not in prompt
        md = view.query_one(Markdown)
        rendered = app.export_screenshot()
        assert "[/bold]" in rendered and "[link=x]y[/link]" in rendered
        assert "\x1b[2J" not in md.source
        assert "[red]title[/red]" in rendered


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_first_run_says_how_to_start(lang: str) -> None:
    app = ui.make_app(ui.make_store([]), lang=lang)
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)
        text = str(app.query_one("#thread .empty", PlainText).render())
        assert t("thread.first_run", directory="/home/dev/project").split("\n")[0] in text


async def test_malformed_observations_never_crash_the_app() -> None:
    app = ui.make_app(ui.streaming())
    async with app.run_test(size=(110, 32)) as pilot:
        await frame(pilot, app)
        for junk in (
            observations.event("x"),
            observations.event({"no": "payload"}),
            observations.event({"payload": "x"}),
            {"snapshot": 3},  # no builder makes a snapshot that is not a dict: written by hand
        ):
            app.link.observe(junk)
        app.link.observe(observations.event({"payload": {"type": "message.part.updated", "properties": {}}}))
        await frame(pilot, app)
        assert app.threads.current is not None and app.threads.current.status == "running"
        assert app.link.store.rejected >= 3
