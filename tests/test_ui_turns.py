"""How a turn's end shows (issue 12): why it ended, a shell command, a reverted turn, and
the sidebar badge after a restart. Live turn widgets and the history draw the same state
line (``turn_status_text``); both are checked, in English and Chinese.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import ui_support as ui
from eventgen import (
    ABORTED,
    DIR,
    assistant_info,
    global_disposed,
    idle,
    instance_disposed,
    msg_updated,
    prompt_run,
    session_error,
    session_info,
    session_updated,
    shell_run,
    snapshot,
    stream,
)
from rich.segment import Segment
from sse_server import Script, SSEServer
from textual.pilot import Pilot

from t3tui import observations
from t3tui.app.app import T3App
from t3tui.app.widgets.live_turn import TurnView
from t3tui.eventlog import read_log
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeClient
from t3tui.state.store import Store

SIZE = (110, 32)
SID = ui.SID
FIXTURES = Path(__file__).parent / "fixtures"


async def wait_for(pilot: Pilot, app: T3App, predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := predicate()):
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        app.frames.request()
        await app.frames.frame()
        await pilot.pause(0.05)
    return value


def running() -> tuple[Store, list[dict[str, Any]]]:
    """A turn that streams, and what opencode sends when it is aborted (c_abort's order)."""
    user, asst, _, events = prompt_run(SID, "Count slowly", tokens=4, finish=False)
    store = ui.make_store([session_updated(SID, title="Counting"), *events])
    aborted = [
        session_error(SID, "MessageAbortedError", "Aborted"),
        *idle(SID),
        msg_updated(assistant_info(SID, asst, user, completed=True, error=ABORTED)),
        *idle(SID),
    ]
    return store, aborted


# How each ending comes about, from a running turn: what this client and the server do.
ENDINGS: dict[str, Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] = {
    "user": lambda aborted: [observations.interrupt(SID), *aborted],
    "aborted": lambda aborted: aborted,
    "disposed": lambda aborted: [*aborted, global_disposed()],
    "resync": lambda aborted: [
        stream("closed", "server closed the stream"),
        stream("open"),
        snapshot("status", {}),
    ],
    "local": lambda aborted: idle(SID),
}
SAID = {
    "en": {
        "user": "Interrupted · you interrupted it",
        "aborted": "Interrupted · aborted from another client",
        "disposed": "Interrupted · an instance dispose closed it",
        "resync": "Interrupted · the server restarted or the connection was lost mid-run",
        "local": "Interrupted · the server went idle without saying how it ended",
    },
    "zh": {
        "user": "已中断 · 你中断了它",
        "aborted": "已中断 · 被另一个客户端中止",
        "disposed": "已中断 · 实例被释放（dispose），运行随之关闭",
        "resync": "已中断 · 运行中服务器重启或连接中断",
        "local": "已中断 · 服务器已空闲，但没有说明它如何结束",
    },
}


def on_screen(app: T3App) -> str:
    return " ".join(app.export_screenshot().replace("&#160;", " ").split())


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("why", sorted(ENDINGS))
async def test_a_live_turn_says_why_it_ended(why: str, lang: str) -> None:
    store, aborted = running()
    app = ui.make_app(store, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        view = await wait_for(pilot, app, lambda: ui.turns_shown(app) and ui.last_turn(app))
        assert isinstance(view, TurnView)
        store.apply_all(ENDINGS[why](aborted))
        assert store.threads[SID].turns[view.turn.id].settled_by == why
        await wait_for(pilot, app, lambda: view.state_text() == SAID[lang][why])
        assert SAID[lang][why] in " ".join(str(view.query_one(".turn-state").render()).split())


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("why", sorted(ENDINGS))
async def test_the_history_says_why_a_turn_ended(why: str, lang: str) -> None:
    store, aborted = running()
    store.apply_all(ENDINGS[why](aborted))
    app = ui.make_app(store, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        entry = await wait_for(pilot, app, lambda: ui.turns_shown(app) and ui.last_turn(app))
        assert entry.compact  # drawn by the history, not a widget
        assert entry.state_text() == SAID[lang][why]
        await wait_for(pilot, app, lambda: SAID[lang][why] in entry.rendered_text())


async def test_a_shown_abort_turns_into_a_dispose_when_the_dispose_follows() -> None:
    store, aborted = running()
    app = ui.make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        view = await wait_for(pilot, app, lambda: ui.turns_shown(app) and ui.last_turn(app))
        store.apply_all(aborted)
        await wait_for(pilot, app, lambda: view.state_text() == SAID["en"]["aborted"])
        store.apply(instance_disposed())
        await wait_for(pilot, app, lambda: view.state_text() == SAID["en"]["disposed"])


async def test_a_completed_turn_and_an_error_say_nothing_more() -> None:
    app = ui.make_app(ui.errored())
    async with app.run_test(size=SIZE) as pilot:
        entry = await wait_for(pilot, app, lambda: ui.turns_shown(app) and ui.last_turn(app))
        assert entry.state_text() == "Error"


# -- a shell command ------------------------------------------------------------------------


async def test_a_shell_command_from_another_client_shows_as_a_command_with_its_output() -> None:
    store = ui.make_store([session_updated(SID, title="Shell")])
    app = ui.make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        _, _, events = shell_run(SID, "ls", "README.md\nsrc\n")
        store.apply_all(events[:-3])  # running: the tool has printed, the run goes on
        view = await wait_for(pilot, app, lambda: ui.turns_shown(app) and ui.last_turn(app))
        await wait_for(pilot, app, lambda: view.prompt_text() == "$ ls")
        store.apply_all(events[-3:])
        await wait_for(pilot, app, lambda: view.state_text().startswith("Worked"))
        screen = on_screen(app)
        assert "$ ls" in screen and "README.md" in screen and "bash" in screen
        assert "The following tool" not in screen and "Interrupted" not in screen


async def test_a_shell_command_in_the_history_shows_as_a_command() -> None:
    store = Store(clock=ui.clock)
    store.apply_all(read_log(FIXTURES / "n_shell_from_another_client.jsonl"))
    [sid] = store.threads
    app = ui.make_app(store, thread=sid)
    async with app.run_test(size=SIZE) as pilot:
        entry = await wait_for(pilot, app, lambda: ui.turns_shown(app) and ui.last_turn(app))
        assert entry.prompt_text() == "$ echo hi"
        assert entry.state_text().startswith("Worked")
        drawn = entry.rendered_text()
        assert "$ echo hi" in drawn and "hi" in drawn.replace("$ echo hi", "")
        assert "The following tool" not in drawn


# -- reverted turns -------------------------------------------------------------------------


def two_turns() -> tuple[str, str, Store]:
    u1, _, _, first = prompt_run(SID, "first question")
    u2, _, _, second = prompt_run(SID, "second question")
    return u1, u2, ui.make_store([session_updated(SID, title="Undo"), *first, *second])


@pytest.mark.parametrize(("lang", "label"), [("en", "reverted (undone)"), ("zh", "已撤销")])
async def test_reverted_turns_in_the_history_are_dimmed_and_say_so(lang: str, label: str) -> None:
    u1, u2, store = two_turns()
    store.apply(session_updated(SID, title="Undo", revert=u2))
    app = ui.make_app(store, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        first, second = await wait_for(
            pilot, app, lambda: len(ui.turns_shown(app)) == 2 and ui.turns_shown(app)
        )
        assert label not in first.state_text()
        assert second.state_text().endswith(" · " + label)
        await wait_for(pilot, app, lambda: label in second.rendered_text())
        history = app.main.thread_view.history

        def dim(index: int) -> bool:
            segments = [s for strip in history.lines(index) for s in strip if s.text.strip()]
            return all(isinstance(s, Segment) and s.style is not None and s.style.dim for s in segments)

        assert dim(1) and not dim(0)
        # Redo (unrevert): the field goes, and so does the mark.
        store.apply(session_updated(SID, title="Undo"))
        await wait_for(pilot, app, lambda: label not in second.rendered_text())
        assert not dim(1)


async def test_a_live_turn_reverted_by_another_client_is_dimmed_until_redo() -> None:
    store = ui.make_store([session_updated(SID, title="Undo")])
    app = ui.make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        user, _, _, events = prompt_run(SID, "a question")
        store.apply_all(events[:6])  # it runs while the thread is open: a live widget
        view = await wait_for(pilot, app, lambda: ui.turns_shown(app) and ui.last_turn(app))
        assert isinstance(view, TurnView)
        store.apply_all(events[6:])
        await wait_for(pilot, app, lambda: view.state_text().startswith("Worked"))
        assert not view.has_class("-reverted")
        store.apply(session_updated(SID, title="Undo", revert=user))
        await wait_for(pilot, app, lambda: view.has_class("-reverted"))
        assert view.state_text().endswith(" · reverted (undone)")
        assert view.styles.opacity < 1
        store.apply(session_updated(SID, title="Undo"))
        await wait_for(pilot, app, lambda: not view.has_class("-reverted"))
        assert "reverted" not in view.state_text()


# -- the sidebar after a restart ------------------------------------------------------------


async def test_after_a_restart_an_error_then_a_success_shows_no_error_badge() -> None:
    """t3tui started again with --session on a thread whose 400 was followed by a success:
    the server's answers are the real capture's."""
    lines = list(read_log(FIXTURES / "p_error400_then_ok.jsonl"))
    [snap] = [o["snapshot"] for o in lines if "snapshot" in o and o["snapshot"]["kind"] == "messages"]
    sid, directory = snap["sessionID"], snap["directory"]
    [session] = [
        o["snapshot"]["data"] for o in lines if "snapshot" in o and o["snapshot"]["kind"] == "session"
    ]
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        server.rest["/session"] = [{**session, "title": "Failed, then fine"}]
        server.messages[sid] = json.loads(json.dumps(snap["data"]))
        app = T3App(
            OpencodeClient(server.url),
            directory=directory,
            clock=ui.clock,
            cursor_blink=False,
            initial_thread=sid,
        )
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: len(ui.turns_shown(app)) == 2)
            th = app.link.store.threads[sid]
            assert [turn.state for turn in th.sorted_turns()] == ["error", "completed"]
            await wait_for(pilot, app, lambda: "Failed, then fine" in on_screen(app))
            assert th.status == "ready"
            assert t("badge.error") not in on_screen(app)


async def test_a_thread_whose_latest_turn_failed_keeps_its_error_badge() -> None:
    app = ui.make_app(ui.errored())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, lambda: t("badge.error") in on_screen(app))
        app.link.store.apply(snapshot("sessions", [session_info(SID, DIR, title="Bad request")]))
        await wait_for(pilot, app, lambda: t("badge.error") in on_screen(app))


def test_a_settled_table_has_the_grid_the_streamed_one_had() -> None:
    """Streamed text is Textual's Markdown (a table with a grid); settled text is drawn by
    Rich, whose tables had no grid: one turn changed its look when it ended."""
    from rich.console import Console

    from t3tui.app.markdown import ThreadMarkdown

    console = Console(width=40, record=True, color_system=None)
    console.print(ThreadMarkdown("| name | value |\n|---|---|\n| alpha | 1 |\n| beta | 22 |\n"))
    drawn = console.export_text()
    assert "┌" in drawn and "┼" in drawn and "│ alpha" in drawn


def test_streamed_text_turns_urls_into_links_as_the_history_does() -> None:
    """The streaming parser leaves bare URLs as text, as Rich's Markdown in the history
    does (and linkify re-scanned the whole growing paragraph on every append: 40x the
    parse); written links stay links in both."""
    from markdown_it import MarkdownIt as HistoryParser  # Rich's Markdown parses with commonmark

    from t3tui.app.widgets.live_turn import streaming_parser

    text = "see https://example.com/a and [the docs](https://example.com/docs) **now**"

    def links(parser: Any) -> list[str]:
        inline = [tok for tok in parser.parse(text) if tok.type == "inline"][0]
        return [str(child.attrs.get("href")) for child in inline.children or () if child.type == "link_open"]

    assert links(streaming_parser()) == links(HistoryParser()) == ["https://example.com/docs"]
