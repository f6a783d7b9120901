"""The stream against a hostile server: it never dies silently, and its memory stays bounded.

Each test names one way an adversarial review broke the reader (issue 11): a sink that
fails on one event, a reader that fails outright, JSON nested 3,000 levels deep, a giant
line, a stream with no newline, data lines with no blank line, a gzip bomb, NaN in a
time, and malformed REST answers. Memory itself is measured by
``tests/benchmarks/bench_hostile_memory.py``; here the caps are made small so that
going over them is quick to provoke.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sse_server import Reply, Script, SSEServer, envelope, gzip_bomb
from stream_support import Harness, Recorder, ev, fixed, numbers, until

from t3tui import observations
from t3tui.opencode import jsonsafe
from t3tui.opencode import stream as stream_module
from t3tui.opencode.client import OpencodeClient, ProtocolError
from t3tui.opencode.stream import store_targets
from t3tui.state.store import Store

DIR = "/work/project-a"
SID = "ses_0001"


BOMB = gzip_bomb(128 * 1024 * 1024)


def deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"a": [value]}
    return value


def deep_text(levels: int) -> str:
    return '{"a":[' * levels + '"bottom"' + "]}" * levels


def splice(value: Any, **raw: str) -> str:
    """``value`` as JSON, with each string ``"@name"`` replaced by the raw text ``raw[name]``:
    JSON that ``json.dumps`` will not write (3,000 levels deep, ``NaN``)."""
    text = json.dumps(value, separators=(",", ":"))
    for name, piece in raw.items():
        text = text.replace(json.dumps("@" + name), piece)
    return text


def frame(value: Any, **raw: str) -> str:
    return "data: " + splice(value, **raw) + "\n\n"


def tool_part_event(input_text: str) -> str:
    """A ``message.part.updated`` frame whose tool input is ``input_text`` (raw JSON)."""
    part = {
        "id": "prt_1",
        "sessionID": SID,
        "messageID": "msg_2",
        "type": "tool",
        "callID": "c1",
        "tool": "bash",
        "state": {"status": "running", "input": "@input", "time": {"start": 1}},
    }
    env = envelope("message.part.updated", {"sessionID": SID, "part": part}, DIR)
    return frame(env, input=input_text)


# -- a dead reader must never look alive ---------------------------------------------------


async def test_an_event_the_sink_fails_on_is_skipped_and_counted(server: SSEServer, harness: Harness) -> None:
    server.scripts = [Script(events=[ev(1), ev(2), ev(3)], ending="stall")]
    rec = Recorder()

    def sink(obs: dict[str, Any]) -> None:
        event = obs.get("event")
        if event and event["payload"].get("properties", {}).get("n") == 2:
            raise RuntimeError("a bug in applying event 2")
        rec.sink(obs)

    stream, _ = harness.start(harness.client(server.url), rec, fixed([]), sink=sink)
    await until(lambda: numbers(rec) == [1, 3], what="events 1 and 3")
    assert stream.skipped == 1
    assert "RuntimeError" in (stream.last_skip or "")
    assert stream.state == "open"
    assert rec.opens() == 1 and not rec.closed()


async def test_a_reader_that_fails_reconnects_and_resyncs(
    server: SSEServer, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.scripts = [Script(events=[ev(1)], ending="stall"), Script(events=[ev(2)], ending="stall")]
    real = stream_module.iter_events
    calls = 0

    def failing_once(resp: Any, max_event: int) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the reader broke")
        return real(resp, max_event)

    monkeypatch.setattr(stream_module, "iter_events", failing_once)
    rec = Recorder()
    stream, _ = harness.start(harness.client(server.url), rec, fixed([DIR]))
    await until(lambda: numbers(rec) == [2], what="event of the second connection")
    closed = rec.closed()
    assert len(closed) == 1 and "event reader failed" in closed[0]["reason"]
    assert "RuntimeError" in closed[0]["reason"]
    # The second connection resynced before its events, like any reconnect.
    second = rec.segments()[1]
    assert [o["snapshot"]["kind"] for o in second if "snapshot" in o][:2] == ["sessions", "status"]
    assert stream.state == "open" and stream.connections == 2


async def test_a_sink_that_fails_on_the_closed_marker_does_not_end_the_loop(
    server: SSEServer, harness: Harness
) -> None:
    server.scripts = [Script(events=[ev(1)], ending="eof"), Script(events=[ev(2)], ending="stall")]
    rec = Recorder()

    def sink(obs: dict[str, Any]) -> None:
        rec.sink(obs)
        if obs.get("stream") == "closed":
            raise ValueError("cannot write the closed marker")

    stream, task = harness.start(harness.client(server.url), rec, fixed([]), sink=sink)
    await until(lambda: numbers(rec) == [1, 2], what="both connections' events")
    assert not task.done()
    assert stream.skipped == 1


# -- deeply nested JSON --------------------------------------------------------------------


def test_deep_json_is_cut_at_a_safe_depth_and_says_so() -> None:
    text = deep_text(3000)
    with pytest.raises(RecursionError):
        json.loads(text)
    value = jsonsafe.loads(text)
    assert jsonsafe.depth(value) <= jsonsafe.MAX_DEPTH
    assert "nested deeper than" in json.dumps(value, ensure_ascii=False)
    # What is not too deep is untouched, brackets inside strings included.
    ok = '{"s": "[[[{{{", "n": [1, [2, [3]]], "t": "\\"]}"}'
    assert jsonsafe.loads(ok) == json.loads(ok)


async def test_a_deep_event_does_not_kill_the_stream(server: SSEServer, harness: Harness) -> None:
    server.scripts = [Script(events=[tool_part_event(deep_text(3000)), ev(7)], ending="stall")]
    store = Store()
    rec = Recorder(then=store.apply)
    stream, _ = harness.start(harness.client(server.url), rec, fixed([]))
    await until(lambda: numbers(rec) == [7], what="the event after the deep one")
    assert stream.skipped == 0 and stream.state == "open"
    part = store.index.parts["prt_1"]
    assert part.data is not None
    shown = json.dumps(part.data.model_dump(mode="json"), ensure_ascii=False)
    assert "nested deeper than" in shown  # the visible note on the part
    assert store.check_invariants() == []


async def test_a_deep_history_loads_instead_of_looking_empty(server: SSEServer) -> None:
    user = {"info": {"id": "msg_1", "role": "user", "sessionID": SID, "time": {"created": 1}}, "parts": []}
    assistant = {
        "id": "msg_2",
        "role": "assistant",
        "sessionID": SID,
        "parentID": "msg_1",
        "time": {"created": 2, "completed": 3},
        "finish": "stop",
    }
    tool = {
        "id": "prt_1",
        "sessionID": SID,
        "messageID": "msg_2",
        "type": "tool",
        "callID": "c1",
        "tool": "bash",
        "state": {"status": "completed", "input": "@input", "output": "ok", "title": "t"},
    }
    text = {"id": "prt_2", "sessionID": SID, "messageID": "msg_2", "type": "text", "text": "done"}
    body = splice([user, {"info": assistant, "parts": [tool, text]}], input=deep_text(3000))
    with pytest.raises(RecursionError):
        json.loads(body)
    server.messages[SID] = Reply(200, raw=body.encode())
    async with OpencodeClient(server.url) as client:
        data = await client.raw_messages(SID, DIR)
    store = Store()
    store.apply(observations.snapshot("messages", DIR, data, SID))
    turns = store.threads[SID].sorted_turns()
    assert len(turns) == 1
    assert turns[0].text == "done"
    assert turns[0].state == "completed"
    assert store.rejected == 0


# -- bounded memory ------------------------------------------------------------------------


async def test_a_giant_line_is_refused_and_the_stream_reconnects(server: SSEServer, harness: Harness) -> None:
    server.scripts = [
        Script(
            events=['data: {"payload": {"type": "x", "text": "'],
            flood=b"a" * 65536,
            flood_total=8 * 1024 * 1024,
            ending="stall",
        ),
        Script(events=[ev(5)], ending="stall"),
    ]
    rec = Recorder()
    stream, _ = harness.start(harness.client(server.url), rec, fixed([]))
    stream.max_event = 1024 * 1024
    await until(lambda: numbers(rec) == [5], timeout=10, what="the next connection's event")
    assert "longer than 1 MB" in rec.closed()[0]["reason"]


async def test_a_stream_with_no_newline_is_refused(server: SSEServer, harness: Harness) -> None:
    server.scripts = [
        Script(send_connected=False, flood=b"x" * 65536, flood_total=64 * 1024 * 1024, ending="stall"),
        Script(events=[ev(6)], ending="stall"),
    ]
    rec = Recorder()
    stream, _ = harness.start(harness.client(server.url), rec, fixed([]))
    stream.max_event = 1024 * 1024
    await until(lambda: numbers(rec) == [6], timeout=10, what="the next connection's event")
    assert "longer than" in rec.closed()[0]["reason"]


async def test_data_lines_without_blank_lines_still_get_through(server: SSEServer, harness: Harness) -> None:
    frames = "".join("data: " + json.dumps(ev(n)) + "\n" for n in (1, 2, 3)) + "\n"
    server.scripts = [Script(events=[frames], ending="stall")]
    rec = Recorder()
    stream, _ = harness.start(harness.client(server.url), rec, fixed([]))
    await until(lambda: numbers(rec) == [1, 2, 3], what="three unframed events")
    assert stream.skipped == 0


async def test_a_gzip_bomb_is_refused(server: SSEServer, harness: Harness) -> None:
    bomb = BOMB
    assert len(bomb) < 1024 * 1024
    server.scripts = [
        Script(send_connected=False, headers={"Content-Encoding": "gzip"}, flood=bomb, flood_total=len(bomb)),
        Script(events=[ev(9)], ending="stall"),
    ]
    rec = Recorder()
    harness.start(harness.client(server.url), rec, fixed([]))
    await until(lambda: numbers(rec) == [9], timeout=10, what="the next connection's event")
    assert "compression bomb" in rec.closed()[0]["reason"]


async def test_an_honest_gzip_stream_is_read(server: SSEServer, harness: Harness) -> None:
    server.scripts = [Script(events=[ev(1), ev(2)], gzip=True, ending="stall")]
    rec = Recorder()
    stream, _ = harness.start(harness.client(server.url), rec, fixed([]))
    await until(lambda: numbers(rec) == [1, 2], what="gzip-compressed events")
    assert stream.skipped == 0
    assert server.event_requests()  # asked for no compression, got it anyway: still fine


async def test_a_rest_gzip_bomb_is_an_error_not_a_gigabyte(server: SSEServer) -> None:
    server.rest["/session/status"] = Reply(200, raw=BOMB, headers={"Content-Encoding": "gzip"})
    async with OpencodeClient(server.url) as client:
        with pytest.raises(ProtocolError, match="compression bomb"):
            await client.raw_status(DIR)


# -- numbers and answers that are not what they should be -----------------------------------


async def test_nan_times_reach_the_store_without_a_crash(server: SSEServer, harness: Harness) -> None:
    info = {"id": SID, "directory": DIR, "title": "t", "time": {"created": "@nan", "updated": "@inf"}}
    session = frame(
        envelope("session.updated", {"sessionID": SID, "info": info}, DIR), nan="NaN", inf="Infinity"
    )
    status = {"type": "retry", "attempt": 1, "message": "m", "next": "@next"}
    retry = frame(envelope("session.status", {"sessionID": SID, "status": status}, DIR), next="-Infinity")
    server.scripts = [Script(events=[session, retry, ev(4)], ending="stall")]
    store = Store()
    rec = Recorder(then=store.apply)
    stream, _ = harness.start(harness.client(server.url), rec, fixed([]))
    await until(lambda: numbers(rec) == [4], what="the event after the NaN ones")
    assert stream.skipped == 0
    assert store.threads[SID].status == "retrying"


async def test_a_malformed_session_answer_is_an_error_with_a_message(server: SSEServer) -> None:
    server.rest["/session"] = []  # POST /session answers [] instead of a session
    async with OpencodeClient(server.url) as client:
        with pytest.raises(ProtocolError, match="cannot use"):
            await client.create_session(DIR)


async def test_an_answer_that_is_not_json_is_an_error(server: SSEServer) -> None:
    server.rest["/session/status"] = Reply(200, raw=b"<html>proxy error</html>")
    async with OpencodeClient(server.url) as client:
        with pytest.raises(ProtocolError, match="not JSON"):
            await client.raw_status(DIR)


async def test_malformed_resync_answers_are_rejected_and_the_stream_goes_on(
    server: SSEServer, harness: Harness
) -> None:
    server.rest["/session"] = {"not": "a list"}
    server.rest["/session/status"] = [1, 2, 3]
    server.rest["/permission"] = "nope"
    server.scripts = [Script(events=[ev(1), envelope("unknown.event.type", {"x": 1}, DIR), ev(2)])]
    store = Store()
    rec = Recorder(then=store.apply)
    stream, _ = harness.start(harness.client(server.url), rec, store_targets(store, [DIR]))
    await until(lambda: numbers(rec)[:2] == [1, 2], what="events after malformed snapshots")
    assert store.rejected >= 3
    assert stream.skipped == 0
