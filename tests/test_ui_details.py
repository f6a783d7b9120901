"""Details on demand: a tool call in one line, its output and the reasoning on F6 (for the
thread), Enter or a click (for one turn or part); timestamps; the same look streamed live
and loaded from the history, in English and Chinese."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import ui_support as ui
from eventgen import (
    assistant_info,
    idle,
    msg_updated,
    new_id,
    part_updated,
    session_updated,
    status,
    text_part,
    user_info,
)
from test_ui_copy import app_on, history_row, server
from textual.pilot import Pilot
from ui_support import toasts, wait_for

from t3tui.app.app import T3App
from t3tui.app.widgets.history import HistoryView
from t3tui.app.widgets.live_turn import ReasoningView, ToolView

SIZE = (100, 30)
SID = ui.SID
OUTPUT = "line one of the file\nline two of the file\nline three"
THOUGHT = "I should read the file before answering."
USER_MS = 1795245218159  # when eventgen's prompts are sent


def tool_turn(prompt: str = "what is in app.py?") -> list[dict[str, Any]]:
    user, asst = new_id("msg"), new_id("msg")
    tool = {
        "id": new_id("prt"),
        "sessionID": SID,
        "messageID": asst,
        "type": "tool",
        "tool": "read",
        "callID": "call_1",
        "state": {
            "status": "completed",
            "input": {"filePath": "/home/dev/project/src/app.py"},
            "output": OUTPUT,
            "title": "src/app.py",
            "metadata": {},
            "time": {"start": 1795245218300, "end": 1795245218400},
        },
    }
    return [
        msg_updated(user_info(SID, user)),
        part_updated(text_part(SID, user, new_id("prt"), prompt)),
        status(SID, "busy"),
        msg_updated(assistant_info(SID, asst, user)),
        part_updated(text_part(SID, asst, new_id("prt"), THOUGHT, end=True, kind="reasoning")),
        part_updated(tool),
        part_updated(text_part(SID, asst, new_id("prt"), "It holds three lines.", end=True)),
        msg_updated(assistant_info(SID, asst, user, finish="stop", completed=True)),
        *idle(SID),
    ]


def lines(app: T3App) -> list[str]:
    history = app.main.thread_view.history
    return [history.render_line(y).text.rstrip() for y in range(history.total)]


def drawn(app: T3App) -> str:
    return "\n".join(lines(app))


async def test_a_tool_call_is_one_line_until_the_details_key() -> None:
    async with server() as srv:
        app = app_on(srv, [session_updated(SID, title="Details"), *tool_turn()])
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: "→ read src/app.py" in drawn(app))
            assert "  │ → read src/app.py  3 lines" in lines(app)
            assert "line two of the file" not in drawn(app) and THOUGHT not in drawn(app)
            await pilot.press("f6")  # the whole thread in full
            await wait_for(pilot, app, lambda: "line two of the file" in drawn(app))
            assert THOUGHT in drawn(app) and "● read · completed" in drawn(app)
            assert toasts(app)[-1].startswith("Details shown")
            await pilot.press("f6")  # folded again
            await wait_for(pilot, app, lambda: "line two of the file" not in drawn(app))
            assert THOUGHT not in drawn(app) and "→ read src/app.py  3 lines" in drawn(app)


async def test_a_click_on_a_tool_call_opens_that_call_and_enter_the_turn() -> None:
    async with server() as srv:
        app = app_on(srv, [session_updated(SID, title="Details"), *tool_turn()])
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: "→ read src/app.py" in drawn(app))
            x, y = history_row(app, "→ read")
            await pilot.click(HistoryView, offset=(x, y))
            await wait_for(pilot, app, lambda: "line two of the file" in drawn(app))
            assert THOUGHT not in drawn(app)  # only the call clicked
            await pilot.click(HistoryView, offset=history_row(app, "→ read"))
            await wait_for(pilot, app, lambda: "line two of the file" not in drawn(app))
            # Enter on the thread: every detail of the turn pointed at.
            app.main.thread_view.focus()
            await pilot.press("enter")
            await wait_for(pilot, app, lambda: THOUGHT in drawn(app) and "line two of the file" in drawn(app))
            await pilot.press("enter")
            await wait_for(pilot, app, lambda: THOUGHT not in drawn(app))


async def test_a_live_turn_looks_like_the_history_and_follows_the_key() -> None:
    async with server() as srv:
        app = app_on(srv, [session_updated(SID, title="Details"), *tool_turn("first")])
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: "→ read src/app.py" in drawn(app))
            events = tool_turn("second")
            for obs in events[:4]:  # it starts while the thread is open: a turn of widgets
                app.link.observe(obs)
            await wait_for(pilot, app, lambda: app.main.thread_view.mounted_turns == 1)
            for obs in events[4:]:
                app.link.observe(obs)
            await wait_for(pilot, app, lambda: app.query(ToolView))
            view = app.query_one(ToolView)

            def live() -> str:
                return str(view.render())

            await wait_for(pilot, app, lambda: live() == "→ read src/app.py  3 lines")
            reasoning = app.query_one(ReasoningView)
            assert (
                str(reasoning.render()) == f"▶ Reasoning ({len(THOUGHT)} characters): F6 or a click shows it"
            )
            history_line = next(line for line in lines(app) if "→ read" in line)
            assert history_line.strip() == "│ " + live()  # the bar is the card's border when live
            await pilot.press("f6")
            await wait_for(pilot, app, lambda: "line two of the file" in live())
            await wait_for(pilot, app, lambda: THOUGHT in str(reasoning.render()))
            assert "line two of the file" in drawn(app)  # the history too
            await pilot.click(ToolView)
            await wait_for(pilot, app, lambda: "line two of the file" not in live())


def timestamp() -> str:
    return datetime.fromtimestamp(USER_MS / 1000).strftime("%H:%M")


async def test_timestamps_toggle_and_are_remembered(tmp_path: Path) -> None:
    async with server() as srv:
        app = app_on(srv, [session_updated(SID, title="Details"), *tool_turn()], state_dir=tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: "→ read src/app.py" in drawn(app))
            entry = ui.last_turn(app)
            assert entry.state_text() == "Worked 0s"
            await app.view_options.toggle_timestamps()  # the palette's command
            await wait_for(pilot, app, lambda: f"Worked 0s · {timestamp()}" in drawn(app))
            assert entry.state_text() == f"Worked 0s · {timestamp()}"
            assert json.loads((tmp_path / "view.json").read_text()) == {"details": False, "timestamps": True}
        # The next start shows them; /timestamps hides them again.
        again = app_on(srv, [session_updated(SID, title="Details"), *tool_turn()], state_dir=tmp_path)
        async with again.run_test(size=SIZE) as pilot:
            await wait_for(pilot, again, lambda: f"Worked 0s · {timestamp()}" in drawn(again))
            again.composer.submit("/timestamps")
            await wait_for(
                pilot, again, lambda: "Worked 0s" in drawn(again) and timestamp() not in drawn(again)
            )
            assert toasts(again)[-1] == "Timestamps hidden"


# -- snapshots -------------------------------------------------------------------------------


def expanded(press: bool) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: T3App = pilot.app  # type: ignore[assignment]
        await wait_for(pilot, app, lambda: "read src/app.py" in drawn(app))
        if press:
            # F6 (a click on one call is checked in the Pilot tests above; under the
            # snapshot harness the first click can land before the history takes it).
            await pilot.press("f6")
            await wait_for(pilot, app, lambda: "line two of the file" in drawn(app))
        app.main.prompt.focus()
        await pilot.pause()

    return run_before


def snapshot_app(lang: str) -> T3App:
    store = ui.make_store([session_updated(SID, title="Details"), *tool_turn(), *tool_turn("and again?")])
    return ui.make_app(store, lang=lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_tool_calls_in_one_line(snap_compare: Callable[..., bool], lang: str) -> None:
    assert snap_compare(snapshot_app(lang), terminal_size=SIZE, run_before=expanded(False))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_one_tool_call_in_full(snap_compare: Callable[..., bool], lang: str) -> None:
    assert snap_compare(snapshot_app(lang), terminal_size=SIZE, run_before=expanded(True))
