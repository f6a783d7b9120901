"""Copy and export against a scripted server: what reaches the terminal (the OSC 52
sequence), what a selection in the history gives, and the file ``/export`` writes.
(The live test runs a real turn: tests/live/test_copy_export_live.py.)"""

from __future__ import annotations

import os
import stat
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
from sse_server import Script, SSEServer
from textual.pilot import Pilot
from ui_support import osc52, terminal_writes, toasts, wait_for

from t3tui.app.app import T3App
from t3tui.app.widgets.history import HistoryView
from t3tui.opencode.client import OpencodeClient

SIZE = (100, 30)
SID = ui.SID
FIRST = "The **first** answer:\n\n- one\n- two"
SECOND = "## Second\n\nA `code` span and a [link](https://example.com).\n\nLast line."


def turn(prompt: str, reply: str, tool: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """A settled turn: the prompt, an optional tool call, then the reply."""
    user, asst = new_id("msg"), new_id("msg")
    events = [
        msg_updated(user_info(SID, user)),
        part_updated(text_part(SID, user, new_id("prt"), prompt)),
        status(SID, "busy"),
        msg_updated(assistant_info(SID, asst, user)),
    ]
    if tool is not None:
        part = {"id": new_id("prt"), "sessionID": SID, "messageID": asst, "type": "tool", **tool}
        events.append(part_updated(part))
    events += [
        part_updated(text_part(SID, asst, new_id("prt"), reply, end=True)),
        msg_updated(assistant_info(SID, asst, user, finish="stop", completed=True)),
        *idle(SID),
    ]
    return events


def two_turns() -> list[dict[str, Any]]:
    return [session_updated(SID, title="Copy me"), *turn("first question", FIRST), *turn("second", SECOND)]


def server() -> SSEServer:
    srv = SSEServer(default=Script(ending="heartbeat"))
    srv.rest.update({"/agent": [], "/command": []})
    return srv


def app_on(srv: SSEServer, lines: list[dict[str, Any]], **kw: Any) -> T3App:
    return ui.make_app(ui.make_store(lines), connect=True, client=OpencodeClient(srv.url), **kw)


def history_row(app: T3App, needle: str) -> tuple[int, int]:
    """The (x, y) in the history where ``needle`` is drawn."""
    history = app.main.thread_view.history
    for y in range(history.total):
        text = history.render_line(y).text
        if needle in text:
            return text.index(needle), y
    raise AssertionError(f"{needle!r} is not drawn")


async def shown(pilot: Pilot[Any], app: T3App) -> None:
    await wait_for(pilot, app, lambda: len(ui.turns_shown(app)) == 2 and app.main.thread_view.history.total)


async def test_the_copy_key_sends_the_last_reply_as_markdown_through_osc52() -> None:
    async with server() as srv:
        app = app_on(srv, two_turns())
        async with app.run_test(size=SIZE) as pilot:
            await shown(pilot, app)
            writes = terminal_writes(app)
            await pilot.press("f5")
            await wait_for(pilot, app, lambda: osc52(writes))
            assert osc52(writes) == [SECOND]  # the Markdown source, not the drawn text
            assert app.clipboard == SECOND
            assert toasts(app)[-1] == "Copied the reply (5 lines)"
            # /copy does the same.
            app.composer.submit("/copy")
            await wait_for(pilot, app, lambda: len(osc52(writes)) == 2)
            assert osc52(writes)[-1] == SECOND


async def test_the_copy_key_copies_the_turn_clicked() -> None:
    async with server() as srv:
        app = app_on(srv, two_turns(), lang="zh")
        async with app.run_test(size=SIZE) as pilot:
            await shown(pilot, app)
            writes = terminal_writes(app)
            x, y = history_row(app, "first question")
            await pilot.click(HistoryView, offset=(x, y))
            await wait_for(pilot, app, lambda: app.main.thread_view.pointed is not None)
            await pilot.press("f5")
            await wait_for(pilot, app, lambda: osc52(writes))
            assert osc52(writes) == [FIRST]
            assert toasts(app)[-1] == "已复制对“first question”的回复（4 行）"


async def test_text_selected_in_the_history_is_what_is_copied() -> None:
    async with server() as srv:
        app = app_on(srv, two_turns())
        async with app.run_test(size=SIZE) as pilot:
            await shown(pilot, app)
            writes = terminal_writes(app)
            x, y = history_row(app, "first question")
            end_x, end_y = history_row(app, "one")
            # Drag from the "q" of the prompt to the end of "one" (a list item below).
            await pilot.mouse_down(HistoryView, offset=(x + 6, y))
            await pilot.hover(HistoryView, offset=(end_x + 2, end_y))
            await pilot.mouse_up(HistoryView, offset=(end_x + 2, end_y))
            selected = app.screen.get_selected_text()
            assert selected is not None
            lines = selected.split("\n")
            assert lines[0] == "question" and lines[-1].endswith("one")
            assert "The first answer:" in lines  # as drawn: no bar, no indent, no Markdown marks
            assert not any("█" in line for line in lines) and lines[-1].strip() == "• one"
            # The selection shows in the screen's selection style.
            history = app.main.thread_view.history
            style = app.screen.get_component_rich_style("screen--selection")
            drawn = [s for s in history.render_line(y) if "question" in s.text]
            assert drawn and drawn[0].style is not None and drawn[0].style.bgcolor == style.bgcolor
            await pilot.press("f5")
            await wait_for(pilot, app, lambda: osc52(writes))
            assert osc52(writes) == [selected]
            assert toasts(app)[-1] == f"Copied the selection ({len(lines)} lines)"
            # Ctrl+C is Textual's own copy of the selection, also from the prompt (which
            # has no selection of its own, so it hands the key on).
            app.main.prompt.focus()
            await pilot.pause()
            await pilot.press("ctrl+c")
            await wait_for(pilot, app, lambda: len(osc52(writes)) == 2)
            assert osc52(writes)[-1] == selected


async def test_a_double_click_selects_the_turn() -> None:
    async with server() as srv:
        app = app_on(srv, two_turns())
        async with app.run_test(size=SIZE) as pilot:
            await shown(pilot, app)
            x, y = history_row(app, "span and")
            await pilot.click(HistoryView, offset=(x + 3, y), times=2)
            await wait_for(pilot, app, lambda: app.screen.get_selected_text())
            selected = app.screen.get_selected_text() or ""
            assert selected.startswith("second\n") and "Last line." in selected
            assert "first question" not in selected and "Worked" in selected


async def test_nothing_to_copy_says_so() -> None:
    async with server() as srv:
        app = app_on(srv, [session_updated(SID, title="Empty")])
        async with app.run_test(size=SIZE) as pilot:
            writes = terminal_writes(app)
            await pilot.press("f5")
            await wait_for(pilot, app, lambda: "Nothing to copy: no reply yet" in toasts(app))
            assert osc52(writes) == []


# -- export ---------------------------------------------------------------------------------


async def test_export_writes_a_private_file_and_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    os.umask(0o022)
    async with server() as srv:
        app = app_on(srv, two_turns())
        async with app.run_test(size=SIZE) as pilot:
            await shown(pilot, app)
            app.composer.submit("/export")
            target = tmp_path / "copy-me.md"
            await wait_for(pilot, app, lambda: f"Exported the thread to {target}" in toasts(app))
            text = target.read_text(encoding="utf-8")
            assert text.startswith("# Copy me\n")
            assert "first question" in text and FIRST in text and SECOND in text
            assert (
                text.index("first question") < text.index(FIRST) < text.index("second") < text.index(SECOND)
            )
            assert stat.S_IMODE(target.stat().st_mode) == 0o600
            # Again: a new name, the first file untouched.
            target.write_text("mine", encoding="utf-8")
            app.composer.submit("/export")
            second = tmp_path / "copy-me-2.md"
            await wait_for(pilot, app, lambda: f"Exported the thread to {second}" in toasts(app))
            assert target.read_text(encoding="utf-8") == "mine" and SECOND in second.read_text()
            # A path given: written there; an existing file named is refused.
            app.composer.submit(f"/export {tmp_path / 'out' / 'x.md'}")
            await wait_for(pilot, app, lambda: any("Could not export" in m for m in toasts(app)))
            app.composer.submit(f"/export {target}")
            await wait_for(
                pilot, app, lambda: any("exists and was not overwritten" in m for m in toasts(app))
            )
            assert target.read_text(encoding="utf-8") == "mine"
            # From the palette's command (no path): a third file.
            app.exporter.export()
            assert (tmp_path / "copy-me-3.md").is_file()
