"""Replays of real opencode 1.18.33 captures: the states a user would expect.

Expectations were written by reading each log (see PROTOCOL.md for the flows).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from t3tui import observations
from t3tui.eventlog import dump, read_log, replay
from t3tui.state.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
TOKENS_20 = "".join(f"tok{i} " for i in range(20))


def state(name: str) -> dict[str, Any]:
    return dump(replay(FIXTURES / name))


def only_thread(d: dict[str, Any]) -> dict[str, Any]:
    assert len(d["threads"]) == 1, [t["id"] for t in d["threads"]]
    return d["threads"][0]


def test_connect_only_has_no_threads() -> None:
    d = state("a_global_connect.jsonl")
    assert d == {"connection": "open", "threads": []}


@pytest.mark.parametrize("name", ["b_prompt.jsonl", "b2_prompt_warm.jsonl"])
def test_prompt_completes_with_full_text(name: str) -> None:
    d = state(name)
    assert d["connection"] == "closed"
    th = only_thread(d)
    assert th["status"] == "ready"
    assert th["title"] == "Mock session title"
    assert th["directory"] == "/home/dev/project"
    assert th["lastError"] is None
    [turn] = th["turns"]
    assert turn["state"] == "completed"
    assert turn["prompt"] == "Say something"
    assert turn["text"] == TOKENS_20
    assert turn["error"] is None


def test_reasoning_is_not_text_and_join_mid_turn_works() -> None:
    # The capture starts at the first busy: the user message's parts were never seen.
    th = only_thread(state("b3_reasoning.jsonl"))
    [turn] = th["turns"]
    assert turn["id"] == "msg_1fcf426d2001HXZ7TlFdw8r1GY"
    assert turn["state"] == "completed"
    assert turn["text"] == TOKENS_20
    assert "think" not in turn["text"]
    store = replay(FIXTURES / "b3_reasoning.jsonl")
    turn_obj = store.threads[th["id"]].turns[turn["id"]]
    reasoning = [p for m in turn_obj.messages() for p in m.sorted_parts() if p.type == "reasoning"]
    assert [p.text for p in reasoning] == ["think0 think1 think2 think3 think4 "]


def test_abort_is_interrupted_keeps_partial_text_and_no_phantom_thread() -> None:
    th = only_thread(state("c_abort.jsonl"))
    assert th["status"] == "ready"
    [turn] = th["turns"]
    assert turn["state"] == "interrupted"
    assert turn["prompt"] == "Count slowly"
    assert turn["text"] == "tok0 tok1 tok2 tok3 "
    assert turn["error"] is None


def test_error_400_is_an_error_with_the_servers_message() -> None:
    th = only_thread(state("d_error400.jsonl"))
    assert th["status"] == "error"
    assert th["lastError"] == "mock upstream exploded (scripted 400)"
    [turn] = th["turns"]
    assert turn["state"] == "error"
    assert turn["error"] == "mock upstream exploded (scripted 400)"
    assert turn["prompt"] == "bad request"


def test_transient_500_retries_then_completes() -> None:
    store = Store()
    seen_retry: list[int] = []
    for obs in read_log(FIXTURES / "d_error500_transient.jsonl"):
        store.apply(obs)
        for th in store.threads.values():
            if th.status == "retrying" and th.retry is not None:
                seen_retry.append(th.retry.attempt)
    assert sorted(set(seen_retry)) == [1, 2]
    th = only_thread(dump(store))
    assert th["status"] == "ready"
    assert th["turns"][0]["state"] == "completed"
    assert th["turns"][0]["text"] == TOKENS_20


@pytest.mark.parametrize(
    "name", ["e_tool_bash.jsonl", "e_tool_question_reply.jsonl", "e_tool_read_permission_once.jsonl"]
)
def test_tool_turns_complete_across_two_assistant_messages(name: str) -> None:
    th = only_thread(state(name))
    [turn] = th["turns"]
    assert turn["state"] == "completed"
    assert turn["prompt"] == "use a tool"
    assert turn["text"] == "The tool ran fine."
    assert th["pendingPermissions"] == [] and th["pendingQuestions"] == []


def test_bash_tool_output_is_kept() -> None:
    store = replay(FIXTURES / "e_tool_bash.jsonl")
    [th] = store.threads.values()
    [turn] = th.sorted_turns()
    tools = [p.data for m in turn.messages() for p in m.sorted_parts() if p.type == "tool"]
    assert len(tools) == 1
    assert tools[0].state.status == "completed"
    assert tools[0].state.output == "hello-from-tool\n"
    assert tools[0].state.title == "echo hello-from-tool"


def _prefix_until(name: str, predicate: Any) -> Store:
    store = Store()
    for obs in read_log(FIXTURES / name):
        store.apply(obs)
        if predicate(obs):
            break
    return store


def test_permission_is_pending_until_replied() -> None:
    store = _prefix_until(
        "e_tool_read_permission_once.jsonl",
        lambda o: "event" in o and o["event"]["payload"]["type"] == "permission.asked",
    )
    [th] = store.threads.values()
    assert th.status == "running"
    assert list(th.permissions) == ["per_1fcfa1c0e001ejKoVupnvJip68"]
    assert th.permissions["per_1fcfa1c0e001ejKoVupnvJip68"].patterns == ["/etc/*"]


def test_question_is_pending_until_replied() -> None:
    store = _prefix_until(
        "e_tool_question_reply.jsonl",
        lambda o: "event" in o and o["event"]["payload"]["type"] == "question.asked",
    )
    [th] = store.threads.values()
    [q] = th.questions.values()
    assert q.questions[0].question == "Which colour?"
    assert [o.label for o in q.questions[0].options] == ["Red", "Blue"]


def test_auth_and_dispose_logs_have_no_threads() -> None:
    assert state("f_auth.jsonl") == {"connection": "closed", "threads": []}
    store = replay(FIXTURES / "g_global_dispose_idle.jsonl")
    assert store.threads == {}
    assert store.disposed_count >= 1


def test_kill_leaves_turn_running_while_disconnected() -> None:
    # No evidence yet: the stream just ended. The last state stays, marked stale.
    th = only_thread(state("i_kill_sigkill.jsonl"))
    assert th["status"] == "running"
    assert th["turns"][0]["state"] == "running"
    assert th["turns"][0]["text"] == "tok0 tok1 tok2 "


def test_busy_prompt_is_queued_then_completed() -> None:
    store = Store()
    states: list[tuple[str, ...]] = []
    for obs in read_log(FIXTURES / "k_busy_prompt.jsonl"):
        store.apply(obs)
        for th in store.threads.values():
            snap = tuple(th.turns[t].state for t in th.order)
            if not states or states[-1] != snap:
                states.append(snap)
    assert ("running", "queued") in states
    th = only_thread(dump(store))
    assert [t["prompt"] for t in th["turns"]] == ["first (slow)", "second while busy", "sync prompt"]
    assert [t["state"] for t in th["turns"]] == ["completed"] * 3
    slow = "".join(f"tok{i} " for i in range(60))
    assert [t["text"] for t in th["turns"]] == [slow, TOKENS_20, TOKENS_20]


def test_burst_keeps_every_token() -> None:
    th = only_thread(state("m_bench_2000.jsonl"))
    [turn] = th["turns"]
    assert turn["state"] == "completed"
    assert turn["text"] == "".join(f"tok{i} " for i in range(2000))


def test_replay_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    from t3tui.cli import main

    assert main(["replay", str(FIXTURES / "d_error400.jsonl"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["threads"][0]["status"] == "error"


def test_replay_cli_summary_and_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    from t3tui.cli import main

    assert main(["replay", str(FIXTURES / "c_abort.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "interrupted" in out and "Count slowly" in out
    assert main(["replay", str(FIXTURES / "nope.jsonl")]) == 2
    assert "no such log file" in capsys.readouterr().err


# -- how turns end and look (issue 12): real captures of opencode 1.18.33 ------------------


def settled_by(name: str) -> list[tuple[str, str | None]]:
    return [(t["state"], t["settledBy"]) for th in state(name)["threads"] for t in th["turns"]]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Completed or failed: the server said how.
        ("b_prompt.jsonl", [("completed", "server")]),
        ("d_error400.jsonl", [("error", "server")]),
        # The capture aborted the run with POST /abort; t3tui did not ask: another client.
        ("c_abort.jsonl", [("interrupted", "aborted")]),
        # Killed mid-run: the stream just ended, nothing is settled without evidence.
        ("i_kill_sigkill.jsonl", [("running", None)]),
        # A dispose while a turn runs: opencode aborts it, then says it disposed.
        ("g2_global_dispose_running.jsonl", [("interrupted", "disposed")]),
        ("h_instance_dispose_running.jsonl", [("interrupted", "disposed")]),
        # A dispose of idle instances ends nothing.
        ("g_global_dispose_idle.jsonl", []),
    ],
)
def test_who_settled_each_turn_of_the_real_captures(name: str, expected: list[tuple[str, Any]]) -> None:
    assert settled_by(name) == expected


def test_a_killed_server_restarted_settles_its_turn_by_the_resync() -> None:
    store = replay(FIXTURES / "i_kill_sigkill.jsonl")
    [th] = store.threads.values()
    # The restarted server (PROTOCOL.md, i): idle, and its copy of the turn has no end.
    store.apply(observations.stream_open())
    store.apply(observations.snapshot("status", th.directory, {}))
    [turn] = th.sorted_turns()
    assert (turn.state, turn.settled_by) == ("interrupted", "resync")
    assert turn.text == "tok0 tok1 tok2 "


def test_a_shell_command_run_from_another_client_is_a_completed_command() -> None:
    # POST /session/{id}/shell {"command": "echo hi", "agent": "build"}, seen live, then
    # the thread's messages loaded again (the last line of the capture).
    th = only_thread(state("n_shell_from_another_client.jsonl"))
    [turn] = th["turns"]
    assert turn["prompt"] == "$ echo hi"
    assert turn["state"] == "completed"
    assert th["status"] == "ready"
    store = replay(FIXTURES / "n_shell_from_another_client.jsonl")
    [th_obj] = store.threads.values()
    [tool] = [p.data for m in th_obj.sorted_turns()[0].messages() for p in m.sorted_parts()]
    assert (tool.tool, tool.state.status, tool.state.output) == ("bash", "completed", "hi\n")


def test_a_reverted_turn_is_marked_and_an_unrevert_clears_it() -> None:
    # Two prompts, an undo of the second, a redo, the undo again (POST revert/unrevert).
    store = Store()
    seen: list[tuple[bool, ...]] = []
    for obs in read_log(FIXTURES / "o_revert_unrevert_revert.jsonl"):
        store.apply(obs)
        for th in store.threads.values():
            marks = tuple(t.reverted for t in th.sorted_turns())
            if marks and (not seen or seen[-1] != marks):
                seen.append(marks)
    assert seen == [(False,), (False, False), (False, True), (False, False), (False, True)]
    th = only_thread(dump(store))
    assert [(t["prompt"], t["reverted"]) for t in th["turns"]] == [("first", False), ("second", True)]
    assert th["status"] == "ready"


def test_a_thread_whose_error_was_followed_by_a_success_is_ready_after_a_restart() -> None:
    # t3tui restarted with --session: the sessions, the status, then the thread's messages
    # (the capture's last line, GET /session/{id}/message after a 400 and a success).
    lines = list(read_log(FIXTURES / "p_error400_then_ok.jsonl"))
    [messages] = [o for o in lines if "snapshot" in o and o["snapshot"]["kind"] == "messages"]
    store = Store()
    store.apply(observations.stream_open())
    store.apply(observations.snapshot("status", messages["snapshot"]["directory"], {}))
    store.apply(messages)
    th = only_thread(dump(store))
    assert [t["state"] for t in th["turns"]] == ["error", "completed"]
    assert th["status"] == "ready"
    assert th["lastError"] is None
    # The live run said the same.
    assert only_thread(state("p_error400_then_ok.jsonl"))["status"] == "ready"
