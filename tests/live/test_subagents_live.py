"""Subagents against the real opencode: the scripted model calls ``task``; opencode runs a
child session (the subagent), whose own model waits at a gate. The parent's card says the
subagent is working, Alt+→ opens the child thread with its prompt, Alt+← goes back, and
when the gate opens the card says done and the parent's turn completes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .mockmodel import MockModel
from .opencode_server import OpencodeServer
from .test_app_live import live_app, send, wait_for

CHILD_PROMPT = "list the files, as a subagent"


def cards(app: Any) -> str:
    return "\n".join(str(w.render()) for w in app.main.thread_view.query(".tool-part"))


async def test_a_task_cards_subagent_shows_its_state_and_opens_with_alt_right(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    mock_model.hold("kid")
    parent_steps: list[dict[str, Any]] = [
        {
            "tool": "task",
            "args": {"description": "look around", "prompt": CHILD_PROMPT, "subagent_type": "general"},
        },
        {"text": "The parent is done."},
    ]
    child_steps = [{"text": "The subagent found nothing.", "hold": "kid"}]
    mock_model.set_mode("script", steps=parent_steps, by_prompt={CHILD_PROMPT: child_steps})
    async with live_app(opencode, tmp_path) as (app, pilot):
        await send(pilot, "use a subagent")
        await wait_for(pilot, lambda: "working" in cards(app), what="the task card saying working")
        parent = app.threads.current_id
        assert parent is not None
        assert "look around" in cards(app)
        # Into the subagent: its thread, with the prompt the parent gave it.
        await pilot.press("alt+right")
        await wait_for(
            pilot, lambda: app.threads.current_id not in (None, parent), what="the subagent opened"
        )
        child = app.threads.current
        assert child is not None and child.parent_id == parent
        await wait_for(
            pilot,
            lambda: any(CHILD_PROMPT in (t.prompt or "") for t in child.sorted_turns()),
            what="the subagent's prompt",
        )
        # Back, then let the subagent finish: the card says done, the parent completes.
        await pilot.press("alt+left")
        await wait_for(pilot, lambda: app.threads.current_id == parent, what="back to the parent")
        mock_model.release("kid")
        await wait_for(pilot, lambda: "done" in cards(app), what="the card saying done")
        th = app.threads.current
        await wait_for(
            pilot,
            lambda: th is not None and not th.active and th.turns[th.order[-1]].state == "completed",
            what="the parent's turn to complete",
        )
        data = await app.link.client.raw_messages(child.id, child.directory)
        texts = [p.get("text") for m in data for p in m["parts"] if p.get("type") == "text"]
        assert "The subagent found nothing." in texts
