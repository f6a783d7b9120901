"""Property tests: generated event sequences of real shape never break the store.

Flows are those opencode really sends (PROTOCOL.md §4). Sessions are interleaved at
random (opencode interleaves sessions freely on the global stream), events are
duplicated (the same id twice), unknown types and garbage are mixed in, and the user
interrupts at random moments. After every observation the invariant of STATE.md must
hold: no queued or running turn in a ready or error thread.
"""

from __future__ import annotations

import json
from typing import Any

from eventgen import (
    ABORTED,
    DIR,
    CollidingLog,
    assistant_info,
    colliding_logs,
    delta,
    ev,
    idle,
    msg_updated,
    new_id,
    part_updated,
    permission_asked,
    question_asked,
    session_error,
    session_updated,
    snapshot,
    status,
    stream,
    text_part,
    user_info,
)
from hypothesis import given
from hypothesis import strategies as st

from t3tui import observations
from t3tui.eventlog import dump
from t3tui.state.store import OPEN, Store

DIRS = [DIR, "/home/dev/project-b"]
FLOWS = [
    "complete",
    "abort",
    "error400",
    "retry",
    "permission",
    "permission_abort",
    "question",
    "unknown_model",
]


def flow(sid: str, kind: str, directory: str, tokens: int) -> tuple[list[dict[str, Any]], str]:
    """Events of one turn and the state it must end in."""
    user, asst, part = new_id("msg"), new_id("msg"), new_id("prt")
    text = "".join(f"t{i} " for i in range(tokens))
    head = [
        msg_updated(user_info(sid, user), directory),
        part_updated(text_part(sid, user, new_id("prt"), "prompt"), directory),
        status(sid, "busy", directory),
    ]
    if kind == "unknown_model":
        err = session_error(sid, "UnknownError", "Model not found: mock/x.", directory)
        again = session_error(sid, "UnknownError", "Model not found: mock/x.", directory)
        return [*head, err, *idle(sid, directory), again], "error"
    head += [
        msg_updated(assistant_info(sid, asst, user), directory),
        part_updated(text_part(sid, asst, part, "", end=False), directory),
    ]
    deltas = [delta(sid, asst, part, f"t{i} ", directory) for i in range(tokens)]
    done = [
        part_updated(text_part(sid, asst, part, text, end=True), directory),
        msg_updated(assistant_info(sid, asst, user, finish="stop"), directory),
        msg_updated(assistant_info(sid, asst, user, finish="stop", completed=True), directory),
        status(sid, "busy", directory),
        *idle(sid, directory),
        msg_updated(user_info(sid, user), directory),
    ]
    aborted = [
        session_error(sid, "MessageAbortedError", "Aborted", directory),
        *idle(sid, directory),
        part_updated(text_part(sid, asst, part, text, end=True), directory),
        msg_updated(assistant_info(sid, asst, user, completed=True, error=ABORTED), directory),
        *idle(sid, directory),
    ]
    if kind == "complete":
        return head + deltas + done, "completed"
    if kind == "abort":
        return head + deltas + aborted, "interrupted"
    if kind == "error400":
        api = {"name": "APIError", "data": {"message": "scripted 400", "statusCode": 400}}
        return [
            *head,
            session_error(sid, "APIError", "scripted 400", directory),
            *idle(sid, directory),
            msg_updated(assistant_info(sid, asst, user, completed=True, error=api), directory),
            *idle(sid, directory),
        ], "error"
    if kind == "retry":
        retries = [status(sid, "retry", directory, attempt=n, message="boom", next=1) for n in (1, 2)]
        return head + retries + [status(sid, "busy", directory)] + deltas + done, "completed"
    if kind == "permission":
        rid = new_id("per")
        asked = [permission_asked(sid, rid, directory)]
        replied = [ev("permission.replied", {"sessionID": sid, "requestID": rid, "reply": "once"}, directory)]
        return head + asked + replied + deltas + done, "completed"
    if kind == "permission_abort":
        return head + [permission_asked(sid, new_id("per"), directory)] + deltas + aborted, "interrupted"
    rid = new_id("que")
    answered = [
        ev("question.replied", {"sessionID": sid, "requestID": rid, "answers": [["Blue"]]}, directory)
    ]
    return head + [question_asked(sid, rid, directory)] + answered + deltas + done, "completed"


GARBAGE = st.sampled_from(
    [
        None,
        [],
        "junk",
        observations.event({"payload": {"type": "plugin.added", "properties": {"id": "x"}}}),
        observations.event({"payload": {"type": "server.heartbeat", "properties": {}}}),
        observations.event({"payload": {"type": "sync", "syncEvent": {"id": "evt_x"}}}),
        observations.event({"payload": {"type": "message.part.delta", "properties": {}}}),
        observations.event(
            {"payload": {"type": "session.status", "properties": {"sessionID": "ses_zz", "status": {}}}}
        ),
        observations.event({"payload": {"type": "message.updated", "properties": {"info": {"id": 5}}}}),
        observations.event(
            {"payload": {"type": "message.part.updated", "properties": {"part": {"type": "tool"}}}}
        ),
        observations.event({"payload": {"type": "session.error", "properties": {"error": "weird"}}}),
        observations.event({"payload": {"type": "question.asked", "properties": {"id": "q"}}}),
        observations.snapshot("messages", None, [{"info": {}}], "ses_zz"),
        observations.snapshot("status", DIR, {"ses_zz": {"type": "wat"}}),
        observations.action("prompt", sessionID="ses_zz"),
        {"t": 1, "who-knows": 1},  # a line kind no builder makes: replay skips it
    ]
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Any], dict[str, list[str]]]:
    n_sessions = draw(st.integers(1, 3))
    per_session: list[list[dict[str, Any]]] = []
    expected: dict[str, list[str]] = {}
    for _ in range(n_sessions):
        sid = new_id("ses")
        directory = draw(st.sampled_from(DIRS))
        events = [session_updated(sid, directory)]
        expected[sid] = []
        for kind in draw(st.lists(st.sampled_from(FLOWS), min_size=1, max_size=3)):
            evs, end = flow(sid, kind, directory, draw(st.integers(0, 6)))
            events += evs
            expected[sid].append(end)
        per_session.append(events)
    # Interleave the sessions at random, keeping each session's own order.
    merged: list[Any] = []
    cursors = [0] * n_sessions
    while any(c < len(s) for c, s in zip(cursors, per_session, strict=True)):
        live = [i for i, s in enumerate(per_session) if cursors[i] < len(s)]
        i = draw(st.sampled_from(live))
        line = per_session[i][cursors[i]]
        cursors[i] += 1
        merged.append(line)
        roll = draw(st.integers(0, 19))
        if roll == 0:
            merged.append(line)  # duplicate delivery, same id
        elif roll == 1:
            merged.append(draw(GARBAGE))
    return merged, expected


@given(scenarios())
def test_generated_flows_end_as_opencode_says(case: tuple[list[Any], dict[str, list[str]]]) -> None:
    lines, expected = case
    store = Store(clock=lambda: 1.0)
    for line in lines:
        store.apply(line)
        assert store.check_invariants() == []
    for sid, states in expected.items():
        th = store.threads[sid]
        assert [t.state for t in th.sorted_turns()] == states
        assert not th.active
        assert th.status == ("error" if states[-1] == "error" else "ready")


@given(scenarios(), st.data())
def test_interrupts_disconnects_and_resyncs_never_break_the_invariant(
    case: tuple[list[Any], dict[str, list[str]]], data: st.DataObject
) -> None:
    lines, expected = case
    store = Store(clock=lambda: 1.0)
    sids = list(expected)
    for line in lines:
        store.apply(line)
        roll = data.draw(st.integers(0, 29))
        if roll == 0:
            sid = data.draw(st.sampled_from(sids))
            store.apply(observations.interrupt(sid))
            ok = data.draw(st.sampled_from([True, False, None]))
            if ok is not None:
                store.apply(observations.interrupt_answered(sid, None if ok else "x"))
        elif roll == 1:
            store.apply(stream("closed"))
            store.apply(stream("open"))
            directory = data.draw(st.sampled_from(DIRS))
            active = {
                th.id: {"type": "busy"}
                for th in store.threads.values()
                if th.directory == directory and th.active and data.draw(st.booleans())
            }
            store.apply(snapshot("status", active, directory))
        elif roll == 2:
            sid = data.draw(st.sampled_from(sids))
            store.apply(observations.prompt_sent(sid, new_id("msg"), "x", None))
            if data.draw(st.booleans()):
                store.apply(observations.prompt_refused(sid, "msg_none", "refused"))
        assert store.check_invariants() == []
    dumped = dump(store)
    assert [t["id"] for t in dumped["threads"]] == sorted(t["id"] for t in dumped["threads"])
    for th in store.threads.values():
        for turn in th.turns.values():
            if not th.active:
                assert turn.state not in OPEN


@given(st.lists(GARBAGE, max_size=30))
def test_garbage_alone_never_raises(lines: list[Any]) -> None:
    store = Store()
    store.apply_all(lines)
    assert store.check_invariants() == []


# -- colliding ids (issue 11, item 5) ---------------------------------------------------


def check_colliding(log: CollidingLog) -> Store:
    store = Store(clock=lambda: 1.0)
    for line in log.lines:
        store.apply(line)  # never raises
        assert store.check_invariants() == []
    assert store.rejected == 0  # well-formed input, however its ids collide
    # After the final idle no thread runs and no turn is open.
    for th in store.threads.values():
        assert not th.active, th.id
        assert th.open == [] and th.running == []
    # No streamed text is lost: every part has the text it must have, in a turn that
    # shows it (as the prompt of the turn whose user message it is, or in its answer).
    shown = json.dumps(dump(store))
    for (sid, pid), text in log.streamed().items():
        th = store.threads[sid]
        part = th.parts[pid]
        assert part.text == text
        msg = part.message
        turn = th.turns[msg.turn_id or ""]
        assert text in (turn.prompt if turn.user is msg else turn.text)
        assert json.dumps(text)[1:-1] in shown
    return store


@given(colliding_logs())
def test_colliding_ids_never_lose_a_turn_or_text(log: CollidingLog) -> None:
    check_colliding(log)


@given(colliding_logs(max_steps=60), st.randoms(use_true_random=False))
def test_colliding_ids_in_any_order_of_arrival(log: CollidingLog, rnd: Any) -> None:
    """The same lines shuffled, the final idles kept last: arrival order is arbitrary.

    A prompt's server copy is sent again after the shuffled lines: an idle is not the
    end of a prompt the server has not shown yet (docs/state-rules.md), so without it
    the final idle would rightly leave that turn open.
    """
    cut = len(log.lines) - 2 * len(log.sessions)
    body, tail = log.lines[:cut], log.lines[cut:]
    rnd.shuffle(body)
    prompts = [line["action"] for line in body if line.get("action", {}).get("kind") == "prompt"]
    again = [
        msg_updated(user_info(a["sessionID"], a["messageID"]), log.directories[a["sessionID"]])
        for a in prompts
    ]
    check_colliding(CollidingLog(lines=[*body, *again, *tail], directories=log.directories))


@given(colliding_logs(removals=True))
def test_colliding_ids_with_removals_and_refusals_keep_the_store_whole(log: CollidingLog) -> None:
    store = Store(clock=lambda: 1.0)
    for line in log.lines:
        store.apply(line)
        assert store.check_invariants() == []
    assert store.rejected == 0
    for th in store.threads.values():
        assert not th.active and th.open == []
    json.dumps(dump(store))
