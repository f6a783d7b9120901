"""Subagents: a task card says what its child session is doing, Alt+→ opens it, Alt+← goes back.

The pure part runs on the real capture ``q_todo_write_edit_task.jsonl`` (opencode 1.18.33: a
``task`` call whose subagent ran to the end); the UI on a store built from events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eventgen import (
    assistant_info,
    ev,
    idle,
    msg_updated,
    part_updated,
    permission_asked,
    session_info,
    status,
    text_part,
    user_info,
)
from ui_support import SID, make_app, make_store, toasts, wait_for

from t3tui.eventlog import replay
from t3tui.state.subagents import child_session, child_state, children, step

FIXTURE = Path(__file__).parent / "fixtures" / "q_todo_write_edit_task.jsonl"
PARENT = "ses_dcb057ad8ffeVZa3WbFIhVb7Tv"
CHILD = "ses_dcb055568ffeaY1TO7nv3tqjLH"
KID = "ses_e030be698ffekR7lV1Ew0yneZ7"  # the subagent in the UI tests
KID2 = "ses_e030be698ffekR7lV1Ew0yneZ8"


# -- pure, on the real capture --------------------------------------------------------


def test_the_real_task_card_names_its_child_and_the_child_ended_done() -> None:
    store = replay(FIXTURE)
    parent = store.threads[PARENT]
    tasks = [p for th in [parent] for t in th.sorted_turns() for m in t.messages() for p in m.sorted_parts()]
    named = [child_session(p.data) for p in tasks if p.type == "tool"]
    assert CHILD in named and named.count(CHILD) == 1  # only the task call names it
    assert [c.id for c in children(store.threads.values(), PARENT)] == [CHILD]
    assert child_state(store.threads[CHILD]) == "done"
    assert store.threads[CHILD].parent_id == PARENT


class _Data:
    def __init__(self, tool: Any, metadata: Any) -> None:
        self.tool = tool
        self.state = type("S", (), {"metadata": metadata})()


@pytest.mark.parametrize(
    ("tool", "metadata", "expected"),
    [
        ("task", {"sessionId": "ses_a"}, "ses_a"),
        ("task", {"sessionID": "ses_b"}, "ses_b"),
        ("task", {"sessionId": ""}, None),
        ("task", {"sessionId": 7}, None),
        ("task", None, None),
        ("task", ["ses_a"], None),
        ("bash", {"sessionId": "ses_a"}, None),
        (None, {}, None),
    ],
)
def test_a_child_is_read_only_from_a_task_calls_metadata(tool: Any, metadata: Any, expected: Any) -> None:
    assert child_session(_Data(tool, metadata)) == expected


def test_step_wraps_among_siblings() -> None:
    assert step(["a", "b", "c"], "c", 1) == "a"
    assert step(["a", "b", "c"], "a", -1) == "c"
    assert step(["a"], "a", 1) is None
    assert step(["a", "b"], "x", 1) is None


# -- the UI -----------------------------------------------------------------------------


def task_part(sid: str, mid: str, pid: str, child: str | None, state: str = "running") -> dict[str, Any]:
    st: dict[str, Any] = {
        "status": state,
        "input": {"description": "look around", "prompt": "list files", "subagent_type": "general"},
        "time": {"start": 1795245218300},
    }
    if child is not None:
        st["metadata"] = {"sessionId": child, "model": {"modelID": "fast", "providerID": "mock"}}
    if state == "completed":
        st.update(output="task_id: x\n<task_result>\nfound 3 files\n</task_result>", title="look around")
        st["time"] = {"start": 1795245218300, "end": 1795245219000}
    return {
        "id": pid,
        "sessionID": sid,
        "messageID": mid,
        "type": "tool",
        "callID": "call_1",
        "tool": "task",
        "state": st,
    }


def parent_running(*kids: str) -> list[dict[str, Any]]:
    """The parent runs a task call for each of ``kids``; each kid runs, the last asks a permission."""
    out = [
        ev("session.updated", {"sessionID": SID, "info": session_info(SID, title="Parent work")}),
        msg_updated(user_info(SID, "msg_u1")),
        part_updated(text_part(SID, "msg_u1", "prt_u1", "look around with a subagent")),
        status(SID, "busy"),
        msg_updated(assistant_info(SID, "msg_a1", "msg_u1")),
    ]
    for i, kid in enumerate(kids):
        out += [
            ev(
                "session.updated",
                {
                    "sessionID": kid,
                    "info": session_info(kid, title=f"look around {i} (@general subagent)", parent=SID),
                },
            ),
            part_updated(task_part(SID, "msg_a1", f"prt_t{i}", kid)),
            status(kid, "busy"),
            msg_updated(user_info(kid, f"msg_k{i}")),
            part_updated(text_part(kid, f"msg_k{i}", f"prt_k{i}", "list files")),
        ]
    return out


def card_text(app: Any) -> str:
    view = app.main.thread_view
    return "\n".join(str(w.render()) for w in view.query(".tool-part"))


def footer_keys(app: Any) -> set[str]:
    return {b.binding.action for b in app.screen.active_bindings.values() if b.enabled and b.binding.show}


async def test_the_card_follows_the_subagent_and_alt_arrows_go_in_and_back() -> None:
    store = make_store(parent_running(KID))
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, app, lambda: "working" in card_text(app))
        assert "look around" in card_text(app)
        assert "enter_subagent" in footer_keys(app) and "leave_subagent" not in footer_keys(app)
        # The subagent asks a permission: its parent's card says so.
        store.apply(permission_asked(KID, "per_k"))
        app.frames.request()
        await wait_for(pilot, app, lambda: "needs permission" in card_text(app))
        # Alt+→: into the subagent; the footer now offers the way back.
        await pilot.press("alt+right")
        await wait_for(pilot, app, lambda: app.threads.current_id == KID)
        assert "leave_subagent" in footer_keys(app)
        await wait_for(pilot, app, lambda: app.main.permission.display)  # its request, to answer
        await pilot.press("alt+left")
        await wait_for(pilot, app, lambda: app.threads.current_id == SID)
        # The subagent ends: the card says done.
        store.apply(ev("permission.replied", {"sessionID": KID, "requestID": "per_k", "reply": "once"}))
        store.apply(msg_updated(assistant_info(KID, "msg_ka", "msg_k0", finish="stop", completed=True)))
        store.apply_all(idle(KID))
        app.frames.request()
        await wait_for(pilot, app, lambda: "done" in card_text(app))
        assert "needs permission" not in card_text(app)


async def test_alt_right_opens_the_clicked_cards_subagent_and_walks_siblings() -> None:
    store = make_store(parent_running(KID, KID2))
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, app, lambda: card_text(app).count("working") == 2)
        cards = list(app.main.thread_view.query(".tool-part"))
        await pilot.click(cards[0])  # the first subagent's card
        await pilot.press("alt+right")
        await wait_for(pilot, app, lambda: app.threads.current_id == KID)
        await pilot.press("alt+right")  # in a subagent: its next sibling
        await wait_for(pilot, app, lambda: app.threads.current_id == KID2)
        await pilot.press("alt+right")
        await wait_for(pilot, app, lambda: app.threads.current_id == KID)
        await pilot.press("alt+left")
        await wait_for(pilot, app, lambda: app.threads.current_id == SID)
        # Without a clicked card: the newest subagent.
        app.main.thread_view.details.pointed_part = None
        await pilot.press("alt+right")
        await wait_for(pilot, app, lambda: app.threads.current_id == KID2)


async def test_a_thread_without_subagents_offers_neither_key() -> None:
    store = make_store(parent_running())
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not {"enter_subagent", "leave_subagent"} & footer_keys(app)
        await app.subagents.enter()
        await app.subagents.leave()
        await wait_for(pilot, app, lambda: "This thread has no subagent." in toasts(app))
        await wait_for(pilot, app, lambda: "This thread is not a subagent." in toasts(app))
        assert app.threads.current_id == SID


async def test_the_card_in_chinese() -> None:
    store = make_store(parent_running(KID))
    store.apply(permission_asked(KID, "per_k"))
    app = make_app(store, lang="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, app, lambda: "需要权限" in card_text(app))
        assert "子代理" in {b.binding.description for b in app.screen.active_bindings.values() if b.enabled}
