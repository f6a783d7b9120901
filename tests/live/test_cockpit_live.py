"""The cockpit against the real opencode: a thread in the background asks a permission
(the scripted model reads /etc/hostname, outside the project, so opencode asks
``external_directory``) while the user stays on another thread; the terminal gets the
bell and an OSC 9 notification for it (and none for the thread on screen); the user
answers from the cockpit (F9, Enter, o) and the background turn completes on the server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ui_support import terminal_writes

from t3tui.app.controllers.attention import AttentionSettings
from t3tui.app.screens.cockpit import CockpitScreen

from . import mockmodel as mm
from .mockmodel import MockModel
from .opencode_server import OpencodeServer
from .test_app_live import footer_text, live_app, send, send_and_finish, wait_for


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not inside tmux, whatever runs the tests: the sequence is the bare OSC 9."""
    monkeypatch.delenv("TMUX", raising=False)


def notified(writes: list[str]) -> list[str]:
    """The texts of the OSC 9 notifications written, each followed by the bell."""
    return re.findall(r"\x1b\]9;t3tui: ([^\x07]*)\x07\x07", "".join(writes))


async def test_a_background_permission_is_signalled_and_answered_from_the_cockpit(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path, attention=AttentionSettings(notify="osc9")) as (app, pilot):
        # The thread the user stays on.
        await send_and_finish(pilot, "the thread on screen")
        here = app.threads.current_id
        assert here is not None
        # The one that will ask: its model waits at a gate before it calls the tool.
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: app.threads.current_id is None, what="a new thread")
        mock_model.hold("read")
        steps: list[dict[str, Any]] = [
            {"tool": "read", "args": mm.TOOLREAD_ARGS, "hold": "read"},
            {"text": mm.TOOL_DONE_TEXT},
        ]
        mock_model.set_mode("script", count=2, steps=steps)
        await send(pilot, "read the hostname")
        await wait_for(
            pilot,
            lambda: app.threads.current is not None and app.threads.current.active,
            what="the background thread running",
        )
        there = app.threads.current_id
        assert there is not None and there != here
        await app.threads.open(here)
        writes = terminal_writes(app)
        mock_model.release("read")
        # The permission, asked in the background: one bell and one notification.
        await wait_for(pilot, lambda: notified(writes), what="the bell and the notification")
        [text] = notified(writes)
        title = app.link.store.threads[there].title
        assert text.endswith(": needs permission (external_directory)") and text.startswith(title[:20])
        assert app.threads.current_id == here
        # F9, shown now in the footer, opens the cockpit on it; Enter, then o allows it once.
        await wait_for(pilot, lambda: "Requests" in footer_text(app), what="F9 in the footer")
        await pilot.press("f9")
        await wait_for(
            pilot, lambda: isinstance(app.screen, CockpitScreen) and app.screen.rows, what="the cockpit"
        )
        cockpit = app.screen
        assert isinstance(cockpit, CockpitScreen)
        [pending] = cockpit.rows.values()
        assert pending.thread.id == there and pending.is_permission
        await pilot.press("enter")
        await wait_for(pilot, lambda: cockpit.permission.has_focus, what="the panel focused")
        await pilot.press("o")
        # The background turn goes on and completes, on the server; the user never left.
        th = app.link.store.threads[there]
        await wait_for(
            pilot,
            lambda: not th.active and th.order and th.turns[th.order[-1]].state == "completed",
            what="the background turn to complete",
        )
        data = await app.link.client.raw_messages(there, th.directory)
        last = data[-1]
        assert last["info"]["role"] == "assistant" and last["info"].get("finish") == "stop"
        assert any(p.get("text") == mm.TOOL_DONE_TEXT for p in last["parts"] if p.get("type") == "text")
        await wait_for(pilot, lambda: cockpit.ready and not cockpit.rows, what="the cockpit emptied")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CockpitScreen), what="the cockpit closed")
        assert app.threads.current_id == here
        # Its finish is signalled too (after the one-second gap), as "done".
        await wait_for(pilot, lambda: len(notified(writes)) == 2, what="the finish signalled")
        assert notified(writes)[1].endswith(": done")
        # A turn of the thread on screen, while the terminal has the focus: nothing.
        await send_and_finish(pilot, "again, on screen")
        await wait_for(pilot, lambda: True)
        assert len(notified(writes)) == 2 and app.attention.waiting == 0
        assert writes.count("\x07") == 0  # every bell came with its notification
