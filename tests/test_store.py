"""The settlement rule and its companions, one scenario at a time (STATE.md)."""

from __future__ import annotations

from typing import Any

from eventgen import (
    ABORTED,
    DIR,
    assistant_info,
    delta,
    ev,
    idle,
    msg_updated,
    new_id,
    part_updated,
    permission_asked,
    prompt_run,
    question_asked,
    session_error,
    session_updated,
    snapshot,
    status,
    stream,
    text_part,
    user_info,
)

from t3tui import observations
from t3tui.eventlog import dump
from t3tui.state.store import Store

DIR_B = "/home/dev/project-b"


def run(lines: list[dict[str, Any]]) -> Store:
    store = Store(clock=lambda: 1000.0)
    store.apply_all(lines)
    assert store.check_invariants() == []
    return store


def turn_states(store: Store, sid: str) -> list[str]:
    return [t.state for t in store.threads[sid].sorted_turns()]


def test_kill_and_restart_resync_settles_as_interrupted_and_keeps_text() -> None:
    sid = new_id("ses")
    user, asst, part, events = prompt_run(sid, "long answer", tokens=3, finish=False)
    killed_copy = [
        {"info": user_info(sid, user), "parts": [text_part(sid, user, new_id("prt"), "long answer")]},
        {"info": assistant_info(sid, asst, user), "parts": [text_part(sid, asst, part, "", end=False)]},
    ]
    store = run(
        [
            stream("open"),
            session_updated(sid),
            *events,
            stream("closed", "server closed the stream"),
        ]
    )
    # Disconnected: nothing is settled without evidence.
    assert store.threads[sid].status == "running"
    assert turn_states(store, sid) == ["running"]
    store.apply_all(
        [
            stream("open"),
            snapshot("sessions", [session_updated(sid)["event"]["payload"]["properties"]["info"]]),
            snapshot("status", {}),
            snapshot("messages", killed_copy, session=sid),
            snapshot("permissions", []),
            snapshot("questions", []),
        ]
    )
    th = dump(store)["threads"][0]
    assert th["status"] == "ready"
    assert th["turns"][0]["state"] == "interrupted"
    assert th["turns"][0]["text"] == "tok0 tok1 tok2 "
    assert store.connection == "open"


def test_snapshot_for_one_directory_does_not_settle_another() -> None:
    a, b = new_id("ses"), new_id("ses")
    _, _, _, run_a = prompt_run(a, finish=False)
    _, _, _, run_b = prompt_run(b, directory=DIR_B, finish=False)
    store = run([session_updated(a), session_updated(b, DIR_B), *run_a, *run_b])
    store.apply(snapshot("status", {b: {"type": "busy"}}, directory=DIR_B))
    assert store.threads[a].status == "running"
    assert store.threads[b].status == "running"
    store.apply(snapshot("status", {}, directory=DIR))
    assert store.threads[a].status == "ready"
    assert turn_states(store, a) == ["interrupted"]
    assert store.threads[b].status == "running"
    assert turn_states(store, b) == ["running"]
    assert store.threads[b].directory == DIR_B


def test_retry_status_keeps_attempt_message_and_next() -> None:
    sid = new_id("ses")
    _, _, _, events = prompt_run(sid, finish=False)
    store = run([*events, status(sid, "retry", attempt=3, message="upstream exploded", next=1795245311676)])
    th = store.threads[sid]
    assert th.status == "retrying"
    assert th.retry is not None and (th.retry.attempt, th.retry.message) == (3, "upstream exploded")
    assert th.retry.next == 1795245311676
    assert turn_states(store, sid) == ["running"]


def test_abort_during_retry_wait_is_interrupted_not_error() -> None:
    sid = new_id("ses")
    user = new_id("msg")
    asst = new_id("msg")
    store = run(
        [
            msg_updated(user_info(sid, user)),
            status(sid, "busy"),
            msg_updated(assistant_info(sid, asst, user)),
            status(sid, "retry", attempt=4, message="boom", next=1),
            msg_updated(assistant_info(sid, asst, user, completed=True)),
            *idle(sid),
        ]
    )
    assert store.threads[sid].status == "ready"
    assert turn_states(store, sid) == ["interrupted"]


def test_abort_during_permission_wait_drops_the_request() -> None:
    sid = new_id("ses")
    user, asst, part, events = prompt_run(sid, finish=False)
    store = run(
        [
            *events,
            permission_asked(sid, "per_1"),
            question_asked(sid, "que_1"),
            session_error(sid, "MessageAbortedError", "Aborted"),
            *idle(sid),
            msg_updated(assistant_info(sid, asst, user, completed=True, error=ABORTED)),
            *idle(sid),
        ]
    )
    th = dump(store)["threads"][0]
    assert th["pendingPermissions"] == [] and th["pendingQuestions"] == []
    assert th["turns"][0]["state"] == "interrupted"
    assert th["status"] == "ready"
    # A resync lists the stale request again (opencode keeps it): it stays dropped.
    store.apply(snapshot("permissions", [permission_asked(sid, "per_1")["event"]["payload"]["properties"]]))
    assert store.threads[sid].permissions == {}


def test_permission_snapshot_of_running_thread_is_shown() -> None:
    sid = new_id("ses")
    _, _, _, events = prompt_run(sid, finish=False)
    store = run(
        [*events, snapshot("permissions", [permission_asked(sid, "per_9")["event"]["payload"]["properties"]])]
    )
    assert list(store.threads[sid].permissions) == ["per_9"]
    store.apply(snapshot("permissions", []))
    assert store.threads[sid].permissions == {}


def test_dispose_during_run_interrupts() -> None:
    sid = new_id("ses")
    user, asst, part, events = prompt_run(sid, tokens=4, finish=False)
    store = run(
        [
            *events,
            session_error(sid, "MessageAbortedError", "Aborted"),
            *idle(sid),
            part_updated(text_part(sid, asst, part, "tok0 tok1 tok2 tok3 ", end=True)),
            msg_updated(assistant_info(sid, asst, user, completed=True, error=ABORTED)),
            *idle(sid),
            ev("server.instance.disposed", {"directory": DIR}, "global"),
            ev("global.disposed", {}, "global"),
        ]
    )
    th = dump(store)["threads"][0]
    assert (th["status"], th["turns"][0]["state"]) == ("ready", "interrupted")
    assert th["turns"][0]["text"] == "tok0 tok1 tok2 tok3 "
    assert store.disposed_count == 2


def test_error_without_assistant_message_unknown_model() -> None:
    sid = new_id("ses")
    user = new_id("msg")
    store = run(
        [
            session_updated(sid),
            msg_updated(user_info(sid, user)),
            session_error(sid, "UnknownError", "Model not found: mock/question."),
            *idle(sid),
            session_error(sid, "UnknownError", "Model not found: mock/question."),
        ]
    )
    th = dump(store)["threads"][0]
    assert th["status"] == "error"
    assert th["lastError"] == "Model not found: mock/question."
    assert th["turns"][0]["state"] == "error"
    assert th["turns"][0]["error"] == "Model not found: mock/question."


def test_error_with_busy_first_then_next_prompt_clears_it() -> None:
    sid = new_id("ses")
    user = new_id("msg")
    store = run(
        [
            msg_updated(user_info(sid, user)),
            status(sid, "busy"),
            session_error(sid, "APIError", "bad request"),
            *idle(sid),
        ]
    )
    assert store.threads[sid].status == "error"
    assert store.threads[sid].last_error == "bad request"
    _, _, _, events = prompt_run(sid)
    store.apply_all(events)
    assert store.threads[sid].status == "ready"
    assert store.threads[sid].last_error is None
    assert turn_states(store, sid) == ["error", "completed"]


def test_late_join_delta_before_anything_then_snapshot() -> None:
    sid, user, asst, part = new_id("ses"), new_id("msg"), new_id("msg"), new_id("prt")
    store = run(
        [
            stream("open"),
            delta(sid, asst, part, "tok5 "),
            delta(sid, asst, part, "tok6 "),
            snapshot("status", {sid: {"type": "busy"}}),
            snapshot(
                "messages",
                [
                    {"info": user_info(sid, user), "parts": [text_part(sid, user, new_id("prt"), "go")]},
                    {
                        "info": assistant_info(sid, asst, user),
                        "parts": [text_part(sid, asst, part, "", end=False)],
                    },
                ],
                session=sid,
            ),
            delta(sid, asst, part, "tok7 "),
        ]
    )
    th = store.threads[sid]
    assert th.status == "running"
    turns = th.sorted_turns()
    assert [(t.id, t.state) for t in turns] == [(user, "running")]
    assert turns[0].text == "tok5 tok6 tok7 "
    assert turns[0].prompt == "go"
    store.apply_all(
        [
            part_updated(text_part(sid, asst, part, "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 ", end=True)),
            msg_updated(assistant_info(sid, asst, user, finish="stop", completed=True)),
            *idle(sid),
        ]
    )
    assert turn_states(store, sid) == ["completed"]
    assert store.threads[sid].sorted_turns()[0].text == "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 "


def test_server_empty_copy_never_shortens_streamed_text_until_final() -> None:
    sid = new_id("ses")
    user, asst, part, events = prompt_run(sid, tokens=3, finish=False)
    store = run([*events, part_updated(text_part(sid, asst, part, "", end=False))])
    assert store.threads[sid].sorted_turns()[0].text == "tok0 tok1 tok2 "
    store.apply(part_updated(text_part(sid, asst, part, "final", end=True)))
    assert store.threads[sid].sorted_turns()[0].text == "final"


def test_interrupt_is_immediate_and_survives_idle() -> None:
    sid = new_id("ses")
    user, asst, part, events = prompt_run(sid, finish=False)
    store = run(events)
    store.apply(observations.interrupt(sid))
    assert turn_states(store, sid) == ["interrupted"]
    # In-flight events (repeated busy, more deltas) must not bring it back.
    store.apply_all([status(sid, "busy"), delta(sid, asst, part, "late ")])
    assert turn_states(store, sid) == ["interrupted"]
    store.apply(observations.interrupt_answered(sid))
    store.apply_all(
        [
            session_error(sid, "MessageAbortedError", "Aborted"),
            *idle(sid),
            msg_updated(assistant_info(sid, asst, user, completed=True, error=ABORTED)),
        ]
    )
    assert turn_states(store, sid) == ["interrupted"]
    assert store.threads[sid].status == "ready"
    assert store.check_invariants() == []


def test_failed_interrupt_puts_the_turn_back() -> None:
    sid = new_id("ses")
    _, _, _, events = prompt_run(sid, finish=False)
    store = run(events)
    store.apply(observations.interrupt(sid))
    store.apply(observations.interrupt_answered(sid, "connection refused"))
    assert turn_states(store, sid) == ["running"]
    assert store.threads[sid].status == "running"
    assert store.threads[sid].interrupt_error == "connection refused"


def test_failed_interrupt_after_server_idle_changes_nothing() -> None:
    sid = new_id("ses")
    _, _, _, events = prompt_run(sid, finish=False)
    store = run(events)
    store.apply(observations.interrupt(sid))
    store.apply_all(idle(sid))
    store.apply(observations.interrupt_answered(sid, "x"))
    assert turn_states(store, sid) == ["interrupted"]
    assert store.check_invariants() == []


def test_optimistic_prompt_then_server_copy_and_refusal() -> None:
    sid = new_id("ses")
    store = run([session_updated(sid)])
    mid = new_id("msg")
    store.apply(observations.prompt_sent(sid, mid, "hi there", None))
    th = store.threads[sid]
    assert th.status == "running"
    assert [(t.id, t.state, t.prompt) for t in th.sorted_turns()] == [(mid, "running", "hi there")]
    # The server's copy of the user message matches the same turn.
    store.apply(msg_updated(user_info(sid, mid)))
    assert [t.id for t in th.sorted_turns()] == [mid]
    assert th.sorted_turns()[0].state == "running"
    mid2 = new_id("msg")
    store.apply(observations.prompt_sent(sid, mid2, "again", None))
    assert turn_states(store, sid) == ["running", "queued"]
    store.apply(observations.prompt_refused(sid, mid2, "nope"))
    assert turn_states(store, sid) == ["running", "error"]
    assert th.turns[mid2].error == "nope"


def test_refused_only_prompt_leaves_thread_in_error() -> None:
    sid = new_id("ses")
    store = run([session_updated(sid)])
    mid = new_id("msg")
    store.apply(observations.prompt_sent(sid, mid, "x", None))
    store.apply(observations.prompt_refused(sid, mid, "404"))
    th = store.threads[sid]
    assert th.status == "error" and th.last_error == "404"
    assert store.check_invariants() == []


def test_child_sessions_keep_parent() -> None:
    parent, child = new_id("ses"), new_id("ses")
    store = run([session_updated(parent), session_updated(child, parent=parent)])
    assert dump(store)["threads"][1]["parentID"] == parent


def test_unknown_and_malformed_input_is_skipped() -> None:
    sid = new_id("ses")
    _, _, _, events = prompt_run(sid)
    junk: list[Any] = [
        None,
        42,
        "text",
        observations.event({"payload": {"type": "totally.new.event", "properties": {"x": 1}}}),
        observations.event({"payload": {"type": "sync", "syncEvent": {}}}),
        observations.event({"payload": {"type": "message.updated"}}),
        observations.event({"payload": {"type": "message.part.delta", "properties": {"partID": 3}}}),
        observations.event(
            {"directory": 5, "payload": {"type": "session.status", "properties": {"sessionID": sid}}}
        ),
        observations.snapshot("status", None, "nope"),
        observations.snapshot("unknown-kind", None, 1),
        observations.action("interrupt"),
        # Hand-built on purpose: lines of a kind (or a state) no builder makes.
        {"mystery": True},
        {"stream": "sideways"},
    ]
    store = run([*junk[:6], *events, *junk[6:]])
    th = dump(store)["threads"][0]
    assert th["turns"][0]["state"] == "completed"
    assert store.rejected >= 5


def test_duplicate_event_ids_apply_once() -> None:
    sid = new_id("ses")
    user, asst, part, events = prompt_run(sid, tokens=3)
    doubled = [e for e in events for _ in range(2)]
    store = run(doubled)
    assert store.threads[sid].sorted_turns()[0].text == "tok0 tok1 tok2 "


def test_deleted_session_disappears() -> None:
    sid = new_id("ses")
    _, _, _, events = prompt_run(sid)
    store = run([session_updated(sid), *events])
    store.apply(ev("session.deleted", {"sessionID": sid, "info": {"id": sid}}))
    assert store.threads == {}


def test_resync_begun_before_a_prompt_does_not_settle_it() -> None:
    sid = new_id("ses")
    store = run([stream("open"), session_updated(sid), *idle(sid)])
    mid = new_id("msg")
    store.apply(observations.prompt_sent(sid, mid, "hi", None))
    # This status answer was fetched before the prompt reached the server.
    store.apply(snapshot("status", {}))
    assert turn_states(store, sid) == ["running"] and store.threads[sid].status == "running"
    # A later reconnect's resync (the server knows of no run) does settle it.
    store.apply_all([stream("closed"), stream("open"), snapshot("status", {})])
    assert turn_states(store, sid) == ["interrupted"] and store.threads[sid].status == "ready"
    assert store.check_invariants() == []


def test_server_copy_confirms_the_prompt() -> None:
    sid = new_id("ses")
    store = run([stream("open"), session_updated(sid)])
    mid = new_id("msg")
    store.apply(observations.prompt_sent(sid, mid, "hi", None))
    store.apply(msg_updated(user_info(sid, mid)))
    store.apply(snapshot("status", {}))
    assert turn_states(store, sid) == ["interrupted"]


def test_trailing_idle_of_the_previous_run_does_not_settle_a_new_prompt() -> None:
    sid = new_id("ses")
    user = new_id("msg")
    store = run(
        [
            msg_updated(user_info(sid, user)),
            status(sid, "busy"),
            session_error(sid, "APIError", "bad request"),
            *idle(sid),
        ]
    )
    mid = new_id("msg")
    store.apply(observations.prompt_sent(sid, mid, "again", None))
    store.apply_all(idle(sid))  # opencode's second idle pair for the failed run
    assert store.threads[sid].status == "running" and store.threads[sid].last_error is None
    assert turn_states(store, sid) == ["error", "running"]
    store.apply_all([msg_updated(user_info(sid, mid)), status(sid, "busy"), *idle(sid)])
    assert turn_states(store, sid) == ["error", "interrupted"] and store.threads[sid].status == "ready"
    assert store.check_invariants() == []
