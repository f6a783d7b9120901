"""How turns end and look (issue 12): the status after a restart, shell commands, reverted
turns, and who settled each turn (docs/state-rules.md)."""

from __future__ import annotations

from typing import Any

from eventgen import (
    ABORTED,
    DIR,
    assistant_info,
    ev,
    global_disposed,
    idle,
    instance_disposed,
    msg_updated,
    new_id,
    part_updated,
    prompt_run,
    session_error,
    session_info,
    session_updated,
    shell_run,
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
API400 = {"name": "APIError", "data": {"message": "mock upstream exploded (scripted 400)"}}


class Clock:
    """A clock the test moves (seconds)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def run(lines: list[dict[str, Any]], clock: Clock | None = None) -> Store:
    store = Store(clock=clock or Clock())
    store.apply_all(lines)
    assert store.check_invariants() == []
    return store


def entry(info: dict[str, Any], *parts: dict[str, Any]) -> dict[str, Any]:
    return {"info": info, "parts": list(parts)}


def history_error_then_ok(sid: str) -> list[dict[str, Any]]:
    """``GET /session/{id}/message`` of a thread whose first turn failed (a 400) and whose
    second completed (shapes of tests/fixtures/p_error400_then_ok.jsonl)."""
    u1, a1, u2, a2 = new_id("msg"), new_id("msg"), new_id("msg"), new_id("msg")
    return [
        entry(user_info(sid, u1), text_part(sid, u1, new_id("prt"), "bad request")),
        entry(assistant_info(sid, a1, u1, completed=True, error=API400)),
        entry(user_info(sid, u2), text_part(sid, u2, new_id("prt"), "again")),
        entry(
            assistant_info(sid, a2, u2, finish="stop", completed=True),
            text_part(sid, a2, new_id("prt"), "tok0 tok1 ", end=True),
        ),
    ]


def restart(sid: str, history: list[dict[str, Any]], **session: Any) -> Store:
    """t3tui started with ``--session sid``: the sessions, the status, then the thread's messages."""
    return run(
        [
            stream("open"),
            snapshot("sessions", [session_info(sid, **session)]),
            snapshot("status", {}),
            snapshot("messages", history, session=sid),
        ]
    )


# -- 1. the latest turn decides the status -----------------------------------------------


def test_history_of_an_error_then_a_success_leaves_the_thread_ready() -> None:
    sid = new_id("ses")
    store = restart(sid, history_error_then_ok(sid))
    th = store.threads[sid]
    assert [t.state for t in th.sorted_turns()] == ["error", "completed"]
    assert th.status == "ready"
    assert th.last_error is None
    assert dump(store)["threads"][0]["lastError"] is None


def test_history_whose_latest_turn_failed_is_in_error() -> None:
    sid = new_id("ses")
    u1, a1, u2, a2 = new_id("msg"), new_id("msg"), new_id("msg"), new_id("msg")
    history = [
        entry(user_info(sid, u1), text_part(sid, u1, new_id("prt"), "fine")),
        entry(assistant_info(sid, a1, u1, finish="stop", completed=True)),
        entry(user_info(sid, u2), text_part(sid, u2, new_id("prt"), "bad request")),
        entry(assistant_info(sid, a2, u2, completed=True, error=API400)),
    ]
    store = restart(sid, history)
    assert store.threads[sid].status == "error"
    assert store.threads[sid].last_error == "mock upstream exploded (scripted 400)"


def test_history_loaded_after_a_live_error_and_success_stays_ready() -> None:
    sid = new_id("ses")
    history = history_error_then_ok(sid)
    store = restart(sid, history)
    store.apply(snapshot("messages", history, session=sid))  # opened again: the same answer
    assert store.threads[sid].status == "ready"


# -- 2. a shell command run from another client -------------------------------------------


def test_a_shell_command_from_another_client_is_a_completed_command() -> None:
    sid = new_id("ses")
    user, asst, events = shell_run(sid, "echo hi", "hi\n")
    store = run([stream("open"), session_updated(sid), *events])
    th = store.threads[sid]
    [turn] = th.sorted_turns()
    assert turn.prompt == "$ echo hi"
    assert "The following tool" not in turn.prompt
    assert turn.state == "completed"
    assert turn.settled_by == "server"
    assert th.status == "ready"
    [tool] = [p.data for m in turn.messages() for p in m.sorted_parts() if p.type == "tool"]
    assert tool.state.output == "hi\n"
    assert dump(store)["threads"][0]["turns"][0]["prompt"] == "$ echo hi"


def test_a_shell_command_shows_its_command_while_it_runs() -> None:
    sid = new_id("ses")
    _, _, events = shell_run(sid, "sleep 5", "", done=False)
    store = run([stream("open"), session_updated(sid), *events])
    [turn] = store.threads[sid].sorted_turns()
    assert turn.prompt == "$ sleep 5"
    assert turn.state == "running"


def test_a_shell_command_in_the_history_is_completed() -> None:
    sid = new_id("ses")
    user, asst, events = shell_run(sid, "ls", "a\nb\n")
    live = run([stream("open"), session_updated(sid), *events])
    # What GET /session/{id}/message returns for it: the same messages and parts.
    th = live.threads[sid]
    [turn] = th.sorted_turns()
    history = [
        entry(
            user_info(sid, user),
            {
                "id": "prt_u",
                "sessionID": sid,
                "messageID": user,
                "type": "text",
                "synthetic": True,
                "text": "The following tool was executed by the user",
            },
        ),
        entry(
            assistant_info(sid, asst, user, completed=True),
            turn.messages()[0].sorted_parts()[0].data.model_dump(mode="json"),  # type: ignore[union-attr]
        ),
    ]
    store = restart(sid, history)
    [turn] = store.threads[sid].sorted_turns()
    assert (turn.prompt, turn.state, turn.settled_by) == ("$ ls", "completed", "server")


def test_a_shell_tool_that_completes_after_idle_completes_the_turn() -> None:
    sid = new_id("ses")
    _, _, events = shell_run(sid, "echo hi", "hi\n")
    # The tool's last copy after idle (late truth refines the settled turn).
    events = [*events[:-3], *events[-2:], events[-3]]
    store = run([stream("open"), session_updated(sid), *events])
    [turn] = store.threads[sid].sorted_turns()
    assert turn.state == "completed"


def test_an_aborted_shell_command_is_interrupted() -> None:
    sid = new_id("ses")
    _, _, events = shell_run(sid, "sleep 100", "", done=False)
    store = run([stream("open"), session_updated(sid), *events, *idle(sid)])
    [turn] = store.threads[sid].sorted_turns()
    assert turn.prompt == "$ sleep 100"
    assert turn.state == "interrupted"


def test_a_model_turn_that_ran_bash_is_not_a_shell_command() -> None:
    sid = new_id("ses")
    user, asst, part, events = prompt_run(sid, "list files", tokens=0, finish=False)
    bash = {
        "id": new_id("prt"),
        "sessionID": sid,
        "messageID": asst,
        "type": "tool",
        "callID": "call_1",
        "tool": "bash",
        "state": {"status": "completed", "input": {"command": "ls"}, "output": "a\n"},
    }
    store = run(
        [
            stream("open"),
            *events,
            part_updated(bash),
            msg_updated(assistant_info(sid, asst, user, completed=True)),
            *idle(sid),
        ]
    )
    [turn] = store.threads[sid].sorted_turns()
    assert turn.prompt == "list files"
    assert turn.state == "interrupted"


# -- 3. reverted turns --------------------------------------------------------------------


def two_turns(sid: str, second_fails: bool = False) -> tuple[str, str, list[dict[str, Any]]]:
    u1, _, _, first = prompt_run(sid, "first")
    u2, a2, _, second = prompt_run(sid, "second", finish=not second_fails)
    if second_fails:
        second += [
            session_error(sid, "APIError", "mock upstream exploded (scripted 400)"),
            *idle(sid),
            msg_updated(assistant_info(sid, a2, u2, completed=True, error=API400)),
        ]
    return u1, u2, [stream("open"), session_updated(sid), *first, *second]


def test_an_undo_marks_the_turns_from_its_message_on_and_a_redo_clears_them() -> None:
    sid = new_id("ses")
    u1, u2, lines = two_turns(sid)
    store = run([*lines, session_updated(sid, revert=u2)])
    th = store.threads[sid]
    assert [t.reverted for t in th.sorted_turns()] == [False, True]
    assert [t["reverted"] for t in dump(store)["threads"][0]["turns"]] == [False, True]
    assert th.latest_turn() is th.turns[u1]
    store.apply(session_updated(sid, revert=u1))
    assert [t.reverted for t in th.sorted_turns()] == [True, True]
    store.apply(session_updated(sid))  # unrevert: the field goes
    assert [t.reverted for t in th.sorted_turns()] == [False, False]
    assert sid in store.dirty


def test_an_undo_seen_in_a_session_snapshot_marks_the_turns() -> None:
    sid = new_id("ses")
    u1, u2, lines = two_turns(sid)
    store = run([*lines, snapshot("sessions", [session_info(sid, revert=u2)])])
    assert [t.reverted for t in store.threads[sid].sorted_turns()] == [False, True]


def test_undoing_the_failed_latest_turn_leaves_the_thread_ready_and_redo_brings_it_back() -> None:
    sid = new_id("ses")
    u1, u2, lines = two_turns(sid, second_fails=True)
    store = run(lines)
    th = store.threads[sid]
    assert th.status == "error"
    store.apply(session_updated(sid, revert=u2))
    assert (th.status, th.last_error) == ("ready", None)
    store.apply(session_updated(sid))
    assert th.status == "error"
    assert th.last_error == "mock upstream exploded (scripted 400)"


def test_a_prompt_after_an_undo_removes_the_reverted_turns() -> None:
    sid = new_id("ses")
    u1, u2, lines = two_turns(sid)
    a2 = run(lines).threads[sid].turns[u2].assistant[0]
    _, _, _, third = prompt_run(sid, "third")
    store = run(
        [
            *lines,
            session_updated(sid, revert=u2),
            # As opencode 1.18.33 does on the next prompt: the reverted messages go, then the field.
            ev("message.removed", {"sessionID": sid, "messageID": u2}),
            ev("message.removed", {"sessionID": sid, "messageID": a2}),
            session_updated(sid),
            *third,
        ]
    )
    th = store.threads[sid]
    assert [t.prompt for t in th.sorted_turns()] == ["first", "third"]
    assert not any(t.reverted for t in th.sorted_turns())


def test_a_malformed_revert_does_not_lose_the_session() -> None:
    sid = new_id("ses")
    bad = session_info(sid, title="Still here")
    for revert in ("x", {"messageID": 3}, {"snapshot": "abc"}, None, [1]):
        store = run(
            [stream("open"), ev("session.updated", {"sessionID": sid, "info": {**bad, "revert": revert}})]
        )
        assert store.rejected == 0
        assert store.threads[sid].title == "Still here"
        assert store.threads[sid].revert_id is None


# -- 4. who settled a turn -----------------------------------------------------------------


def settled(store: Store, sid: str) -> list[tuple[str, str | None]]:
    return [(t.state, t.settled_by) for t in store.threads[sid].sorted_turns()]


def aborted_run(sid: str, directory: str = DIR) -> tuple[str, list[dict[str, Any]]]:
    """A slow turn that opencode aborts (c_abort's order): session.error, idle, the
    aborted message after idle."""
    user, asst, _, events = prompt_run(sid, "count slowly", tokens=3, finish=False, directory=directory)
    return user, [
        *events,
        session_error(sid, "MessageAbortedError", "Aborted", directory),
        *idle(sid, directory),
        msg_updated(assistant_info(sid, asst, user, completed=True, error=ABORTED), directory),
        *idle(sid, directory),
    ]


def test_a_completed_or_failed_turn_was_settled_by_the_server() -> None:
    sid = new_id("ses")
    _, _, lines = two_turns(sid, second_fails=True)
    assert settled(run(lines), sid) == [("completed", "server"), ("error", "server")]


def test_you_interrupted_it() -> None:
    sid = new_id("ses")
    user, events = aborted_run(sid)
    # The user's interrupt comes right after the streamed text, before the server's abort.
    store = run([stream("open"), *events[:8], observations.interrupt(sid), *events[8:]])
    assert settled(store, sid) == [("interrupted", "user")]


def test_queued_turns_ended_by_your_interrupt_say_so_too() -> None:
    sid = new_id("ses")
    _, _, _, first = prompt_run(sid, "first", finish=False)
    queued = new_id("msg")
    store = run(
        [
            stream("open"),
            *first,
            msg_updated(user_info(sid, queued)),
            observations.interrupt(sid),
            session_error(sid, "MessageAbortedError", "Aborted"),
            *idle(sid),
        ]
    )
    assert settled(store, sid) == [("interrupted", "user"), ("interrupted", "user")]


def test_an_interrupt_that_failed_is_not_yours() -> None:
    sid = new_id("ses")
    _, _, _, events = prompt_run(sid, "first", finish=False)
    store = run(
        [
            stream("open"),
            *events,
            observations.interrupt(sid),
            observations.interrupt_answered(sid, "timeout"),
        ]
    )
    assert settled(store, sid) == [("running", None)]
    store.apply_all(idle(sid))
    assert settled(store, sid) == [("interrupted", "local")]


def test_aborted_from_another_client() -> None:
    sid = new_id("ses")
    _, events = aborted_run(sid)
    store = run([stream("open"), *events])
    assert settled(store, sid) == [("interrupted", "aborted")]


def test_an_abort_said_only_by_the_message_is_aborted_too() -> None:
    sid = new_id("ses")
    _, events = aborted_run(sid)
    without_session_error = [e for e in events if e["event"]["payload"]["type"] != "session.error"]
    store = run([stream("open"), *without_session_error])
    assert settled(store, sid) == [("interrupted", "aborted")]


def test_the_server_went_idle_without_saying_how() -> None:
    sid = new_id("ses")
    _, _, _, events = prompt_run(sid, "first", finish=False)
    store = run([stream("open"), *events, *idle(sid)])
    assert settled(store, sid) == [("interrupted", "local")]


def test_a_resync_after_a_reconnect_settles_as_resync_and_a_busy_reopens_it() -> None:
    sid = new_id("ses")
    _, _, _, events = prompt_run(sid, "first", finish=False)
    lines = [stream("open"), *events, stream("closed", "server closed the stream"), stream("open")]
    store = run([*lines, snapshot("status", {})])
    assert settled(store, sid) == [("interrupted", "resync")]
    store.apply(status(sid, "busy"))  # the snapshot was stale: the same turn runs
    assert settled(store, sid) == [("running", None)]


def test_a_dispose_while_the_run_goes_closes_it() -> None:
    sid = new_id("ses")
    _, _, _, events = prompt_run(sid, "first", finish=False)
    store = run([stream("open"), *events, instance_disposed(), *idle(sid)])
    assert settled(store, sid) == [("interrupted", "disposed")]


def test_a_dispose_right_after_an_abort_closed_it() -> None:
    # opencode aborts the runs first, then says it disposed (g2 and h fixtures).
    for dispose in (instance_disposed(), global_disposed()):
        sid = new_id("ses")
        _, events = aborted_run(sid)
        store = run([stream("open"), *events, dispose])
        assert settled(store, sid) == [("interrupted", "disposed")]


def test_a_dispose_of_another_directory_or_much_later_or_after_a_new_run_does_not() -> None:
    sid = new_id("ses")
    _, events = aborted_run(sid)
    store = run([stream("open"), *events, instance_disposed(DIR_B)])
    assert settled(store, sid) == [("interrupted", "aborted")]

    from t3tui.state.store import DISPOSE_WINDOW_MS

    clock = Clock()
    store = run([stream("open"), *events], clock)
    clock.now += DISPOSE_WINDOW_MS / 1000 + 1
    store.apply(global_disposed())
    assert settled(store, sid) == [("interrupted", "aborted")]

    _, _, _, again = prompt_run(sid, "again")
    store = run([stream("open"), *events, *again, global_disposed()])
    assert settled(store, sid) == [("interrupted", "aborted"), ("completed", "server")]


def test_your_interrupt_stays_yours_through_a_dispose() -> None:
    sid = new_id("ses")
    _, events = aborted_run(sid)
    store = run([stream("open"), *events[:8], observations.interrupt(sid), *events[8:]] + [global_disposed()])
    assert settled(store, sid) == [("interrupted", "user")]


def test_an_abort_seen_only_in_the_history_is_the_servers_record() -> None:
    sid = new_id("ses")
    user, asst = new_id("msg"), new_id("msg")
    store = restart(
        sid,
        [
            entry(user_info(sid, user), text_part(sid, user, new_id("prt"), "count slowly")),
            entry(assistant_info(sid, asst, user, completed=True, error=ABORTED)),
        ],
    )
    # Who aborted it, before this client was watching, is not known.
    assert settled(store, sid) == [("interrupted", "server")]


def test_the_dump_says_who_settled_each_turn() -> None:
    sid = new_id("ses")
    _, events = aborted_run(sid)
    _, _, _, ok = prompt_run(sid, "again", finish=False)
    store = run([stream("open"), *events, *ok])
    assert [t["settledBy"] for t in dump(store)["threads"][0]["turns"]] == ["aborted", None]
