"""A compaction is a turn of its own, and the store says so (``Turn.compaction``).

What opencode 1.18.33 writes for ``POST /session/{id}/summarize`` (seen live): a user
message whose only part is ``{"type": "compaction", "auto": false}``, answered by an
assistant message with ``"mode": "compaction", "agent": "compaction", "summary": true``
whose text is the summary. The server's own compaction, when the context is full, says
``"auto": true``. The data below is shaped like the server's, streamed and from
``GET /session/{id}/message``.
"""

from __future__ import annotations

from typing import Any

from eventgen import (
    DIR,
    assistant_info,
    delta,
    idle,
    msg_updated,
    new_id,
    part_updated,
    prompt_run,
    session_updated,
    snapshot,
    status,
    stream,
    text_part,
    user_info,
)

from t3tui.state.store import Store

SID = "ses_dcbb006f2ffe2xQdiGP57s1MN3"
SUMMARY = "## Goal\nThe user asked two questions.\n\n## Done\nBoth were answered."


def compaction_user(sid: str, mid: str) -> dict[str, Any]:
    return user_info(sid, mid)


def compaction_part(sid: str, mid: str, pid: str, auto: bool = False) -> dict[str, Any]:
    return {"id": pid, "sessionID": sid, "messageID": mid, "type": "compaction", "auto": auto}


def summary_info(sid: str, mid: str, parent: str, done: bool = False) -> dict[str, Any]:
    info = assistant_info(sid, mid, parent, finish="stop" if done else None, completed=done)
    info.update(mode="compaction", agent="compaction", summary=True)
    info["path"] = {"cwd": DIR, "root": DIR}
    return info


def compaction_run(
    sid: str, summary: str = SUMMARY, auto: bool = False, chunks: int = 3, finish: bool = True
) -> tuple[str, str, list[dict[str, Any]]]:
    """The events of a compaction, as the server streams them: the user message and its
    compaction part, busy, the summary streamed in ``chunks`` deltas, then idle."""
    user, asst, upart, step, part = (new_id(p) for p in ("msg", "msg", "prt", "prt", "prt"))
    size = -(-len(summary) // chunks)
    pieces = [summary[i : i + size] for i in range(0, len(summary), size)]
    out = [
        msg_updated(compaction_user(sid, user)),
        part_updated(compaction_part(sid, user, upart, auto)),
        status(sid, "busy"),
        msg_updated(summary_info(sid, asst, user)),
        part_updated({"id": step, "sessionID": sid, "messageID": asst, "type": "step-start"}),
        part_updated(text_part(sid, asst, part, "", end=False)),
        *(delta(sid, asst, part, piece) for piece in pieces),
    ]
    if finish:
        out += [
            part_updated(text_part(sid, asst, part, summary, end=True)),
            msg_updated(summary_info(sid, asst, user, done=True)),
            *idle(sid),
        ]
    return user, asst, out


def compaction_messages(sid: str, summary: str = SUMMARY, auto: bool = False) -> list[dict[str, Any]]:
    """A compaction as ``GET /session/{id}/message`` lists it."""
    user, asst = new_id("msg"), new_id("msg")
    return [
        {"info": compaction_user(sid, user), "parts": [compaction_part(sid, user, new_id("prt"), auto)]},
        {
            "info": summary_info(sid, asst, user, done=True),
            "parts": [
                {"id": new_id("prt"), "sessionID": sid, "messageID": asst, "type": "step-start"},
                text_part(sid, asst, new_id("prt"), summary, end=True),
                {
                    "id": new_id("prt"),
                    "sessionID": sid,
                    "messageID": asst,
                    "type": "step-finish",
                    "reason": "stop",
                    "tokens": {"total": 20, "input": 10, "output": 10},
                },
            ],
        },
    ]


def question_messages(sid: str, text: str, answer: str) -> list[dict[str, Any]]:
    user, asst = new_id("msg"), new_id("msg")
    return [
        {"info": user_info(sid, user), "parts": [text_part(sid, user, new_id("prt"), text)]},
        {
            "info": assistant_info(sid, asst, user, finish="stop", completed=True),
            "parts": [text_part(sid, asst, new_id("prt"), answer, end=True)],
        },
    ]


def store_of(lines: list[Any]) -> Store:
    store = Store(clock=lambda: 1795245230.0)
    store.apply_all([stream("open"), session_updated(SID, title="Compacted"), *lines])
    return store


def test_a_streamed_compaction_is_one_completed_turn_with_the_summary() -> None:
    *_, ask = prompt_run(SID, "first question", tokens=2)
    user, _, events = compaction_run(SID)
    th = store_of([*ask, *events]).threads[SID]
    assert len(th.order) == 2
    first, compaction = th.sorted_turns()
    assert first.compaction is None and first.prompt == "first question"
    assert compaction.id == user
    assert compaction.compaction == "manual"
    assert compaction.prompt == ""  # no text: the marker stands in for it
    assert compaction.text == SUMMARY
    assert compaction.state == "completed"
    assert th.status == "ready"
    assert not th.problems()


def test_a_compaction_is_recognised_while_its_summary_streams() -> None:
    _, _, events = compaction_run(SID, finish=False)
    th = store_of(events).threads[SID]
    turn = th.turns[th.order[-1]]
    assert turn.compaction == "manual" and turn.state == "running"
    assert turn.text == SUMMARY  # every delta so far


def test_a_compaction_from_the_history_snapshot() -> None:
    data = [
        *question_messages(SID, "first question", "tok0 tok1 "),
        *compaction_messages(SID),
        *question_messages(SID, "after the summary", "tok0 "),
    ]
    th = store_of([snapshot("messages", data, session=SID)]).threads[SID]
    kinds = [turn.compaction for turn in th.sorted_turns()]
    assert kinds == [None, "manual", None]
    compaction = th.sorted_turns()[1]
    assert compaction.text == SUMMARY and compaction.state == "completed"
    assert compaction.model == "mock/fast"
    assert not th.problems()


def test_the_servers_own_compaction_says_auto() -> None:
    th = store_of([snapshot("messages", compaction_messages(SID, auto=True), session=SID)]).threads[SID]
    assert th.turns[th.order[0]].compaction == "auto"


def test_a_summary_seen_without_its_user_message_still_is_a_compaction() -> None:
    """Joined mid-compaction: only the answer (agent "compaction") is known."""
    asst, parent = new_id("msg"), new_id("msg")
    th = store_of([status(SID, "busy"), msg_updated(summary_info(SID, asst, parent))]).threads[SID]
    turn = th.turns[parent]
    assert turn.user is None and turn.compaction == "manual"


def test_an_ordinary_turn_and_a_shell_turn_are_no_compaction() -> None:
    _, _, _, events = prompt_run(SID, "compact this please", tokens=1)
    th = store_of(events).threads[SID]
    assert th.turns[th.order[0]].compaction is None


def test_a_compaction_part_with_a_strange_auto_value_is_a_manual_compaction() -> None:
    """Bad input never crashes: ``auto`` anything but true is not automatic."""
    user = new_id("msg")
    for auto in ("yes", None, 1, {"x": 1}):
        part = compaction_part(SID, user, new_id("prt"))
        part["auto"] = auto
        th = store_of([msg_updated(user_info(SID, user)), part_updated(part)]).threads[SID]
        assert th.turns[user].compaction == "manual"
