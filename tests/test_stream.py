"""EventStream against a local scriptable SSE server: reconnect, resync, watchdog, backoff, auth.

The server (tests/sse_server.py) is a hand-written HTTP/1.1 server on 127.0.0.1; each
``/global/event`` connection plays a script. Timings are small (watchdog 0.5 s, backoff
50-200 ms) so every test runs in well under 3 s; backoff is checked through the
``on_state`` callback (attempt, next_retry_in), not with timed assertions.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from sse_server import Reply, Script, SSEServer, _basic, envelope, free_port
from stream_support import FAST, Harness, Recorder, ev, finished, fixed, numbers, until

from t3tui import observations
from t3tui.opencode.stream import EventStream, ResyncTargets, store_targets
from t3tui.state.store import Store

DIR_A = "/work/project-a"
DIR_B = "/work/project-b"
SID = "ses_0001"


# -- 1. EOF: reconnect and resync after every open ---------------------------------------


async def test_eof_reconnects_and_resyncs_before_events(server: SSEServer, harness: Harness) -> None:
    server.scripts = [
        Script(events=[ev(1), ev(2)], ending="eof"),
        Script(events=[ev(3)], ending="eof"),
    ]  # then the default: a stalled third connection
    server.rest["/session/status"] = {SID: {"type": "busy"}}
    server.messages[SID] = [{"info": {"id": "msg_1", "role": "user", "sessionID": SID}, "parts": []}]
    rec = Recorder()
    client = harness.client(server.url)
    stream, _ = harness.start(client, rec, fixed([DIR_A, DIR_B, DIR_A], [(SID, DIR_A)]))

    per_connection = 2 * 4 + 1  # sessions/status/permissions/questions per directory + messages
    await until(
        lambda: (
            rec.opens() == 3
            and len(rec.snapshots()) == 3 * per_connection
            and rec.event_types().count("server.connected") == 3
        ),
        what="3 connections",
    )
    assert stream.connections == 3
    assert server.event_connections == 3
    assert stream.state == "open"

    expected_snapshots = [
        ("sessions", DIR_A),
        ("status", DIR_A),
        ("sessions", DIR_B),
        ("status", DIR_B),
        ("messages", DIR_A),
        ("permissions", DIR_A),
        ("questions", DIR_A),
        ("permissions", DIR_B),
        ("questions", DIR_B),
    ]
    segs = rec.segments()
    assert len(segs) == 3
    for i, seg in enumerate(segs):
        assert seg[0] == observations.stream_open()
        snaps = seg[1 : 1 + per_connection]
        assert all("snapshot" in o for o in snaps), f"connection {i}: snapshots must come first: {seg}"
        assert [(s["snapshot"]["kind"], s["snapshot"]["directory"]) for s in snaps] == expected_snapshots
        rest = seg[1 + per_connection :]
        assert not any("snapshot" in o for o in rest)
        # the events of this connection come after its snapshots, server.connected first
        assert rest and rest[0]["event"]["payload"]["type"] == "server.connected"
    msgs = [s for s in rec.snapshots() if s["kind"] == "messages"]
    assert all(s["sessionID"] == SID and s["data"] == server.messages[SID] for s in msgs)
    assert all(s["data"] == {SID: {"type": "busy"}} for s in rec.snapshots() if s["kind"] == "status")

    # each of the first two connections ends with a closed observation
    assert segs[0][-1] == observations.stream_closed("server closed the stream")
    assert segs[1][-1] == observations.stream_closed("server closed the stream")
    assert [o["stream"] for o in rec.streams()] == ["open", "closed", "open", "closed", "open"]
    assert numbers(rec) == [1, 2, 3]
    assert rec.event_types().count("server.connected") == 3

    # what the server was asked, per connection: every REST call between its stream and the next
    ev_times = [r.time for r in server.event_requests()]
    assert len(ev_times) == 3
    for i, start in enumerate(ev_times):
        end = ev_times[i + 1] if i + 1 < len(ev_times) else float("inf")
        rest_reqs = [r for r in server.requests if r.path != "/global/event" and start <= r.time < end]
        asked = sorted((r.path, r.query.get("directory")) for r in rest_reqs)
        assert asked == sorted(
            [
                ("/session", DIR_A),
                ("/session/status", DIR_A),
                ("/permission", DIR_A),
                ("/question", DIR_A),
                ("/session", DIR_B),
                ("/session/status", DIR_B),
                ("/permission", DIR_B),
                ("/question", DIR_B),
                (f"/session/{SID}/message", DIR_A),
            ]
        ), f"connection {i}"
    assert all(r.authorization is None for r in server.requests)


async def test_providers_are_fetched_when_asked(server: SSEServer, harness: Harness) -> None:
    rec = Recorder()
    targets = lambda: ResyncTargets(directories=[DIR_A], list_sessions=False, providers=True)  # noqa: E731
    harness.start(harness.client(server.url), rec, targets)
    await until(lambda: any(s["kind"] == "providers" for s in rec.snapshots()), what="providers snapshot")
    kinds = [s["kind"] for s in rec.snapshots()]
    assert kinds == ["status", "permissions", "questions", "providers"]
    assert not server.paths("/session")
    assert [r.query for r in server.paths("/provider")] == [{}]


async def test_reset_connection_reconnects(server: SSEServer, harness: Harness) -> None:
    server.scripts = [Script(events=[ev(1)], ending="reset"), Script(events=[ev(2)], ending="stall")]
    rec = Recorder()
    stream, _ = harness.start(harness.client(server.url), rec, fixed([DIR_A]))
    await until(lambda: numbers(rec) == [1, 2], what="event of the second connection")
    assert stream.connections == 2
    [closed] = rec.closed()
    assert closed["reason"] != "server closed the stream"
    assert server.url in closed["reason"]  # describe_transport_error names the server
    assert stream.state == "open"


async def test_failed_resync_request_is_skipped_not_fatal(server: SSEServer, harness: Harness) -> None:
    server.rest["/permission"] = Reply(500, {"name": "UnknownError", "data": {"message": "boom"}})
    server.scripts = [Script(events=[ev(1)], ending="stall")]
    rec = Recorder()
    stream, _ = harness.start(harness.client(server.url), rec, fixed([DIR_A]))
    await until(lambda: numbers(rec) == [1], what="event after a partial resync")
    assert [s["kind"] for s in rec.snapshots()] == ["sessions", "status", "questions"]
    assert stream.connections == 1 and not rec.closed()


# -- 2. watchdog ----------------------------------------------------------------------------


async def test_stalled_stream_is_declared_dead_by_watchdog(server: SSEServer, harness: Harness) -> None:
    server.scripts = [Script(events=[ev(1)], ending="stall"), Script(events=[ev(2)], ending="stall")]
    rec = Recorder()
    stream, _ = harness.start(harness.client(server.url), rec, fixed([DIR_A]), watchdog=0.5)
    await until(lambda: numbers(rec) == [1, 2], what="reconnect after the watchdog")
    [closed] = rec.closed()
    assert "no event" in closed["reason"] and "0.5" in closed["reason"]
    last_frame = rec.times[next(i for i, o in enumerate(rec.obs) if "event" in o and numbers_of(o) == 1)]
    closed_at = rec.times[rec.obs.index(closed)]
    assert 0.4 <= closed_at - last_frame <= 1.5
    assert stream.connections == 2
    assert stream.last_error == closed["reason"]


def numbers_of(obs: dict[str, Any]) -> int | None:
    props = obs["event"]["payload"]["properties"]
    return props.get("n")


async def test_heartbeats_keep_the_connection_alive(server: SSEServer, harness: Harness) -> None:
    server.scripts = [Script(ending="heartbeat", heartbeat_every=0.2)]
    rec = Recorder()
    stream, _ = harness.start(harness.client(server.url), rec, fixed([DIR_A]), watchdog=0.5)
    await until(lambda: rec.opens() == 1, what="open")
    await asyncio.sleep(1.5)
    assert stream.connections == 1
    assert len(server.event_requests()) == 1
    assert not rec.closed()
    assert stream.state == "open"
    assert rec.event_types().count("server.heartbeat") >= 5


# -- 4. backoff -----------------------------------------------------------------------------


def retries(rec: Recorder) -> list[dict[str, Any]]:
    """The on_state calls that announce a wait before the next attempt."""
    return [s for s in rec.states if s["state"] == "reconnecting" and s["next_retry_in"] is not None]


def check_delays(rec: Recorder, initial: float, cap: float) -> None:
    for r in retries(rec):
        nominal = min(cap, initial * 2 ** (r["attempt"] - 1))
        assert 0.8 * nominal - 1e-9 <= r["next_retry_in"] <= 1.2 * nominal + 1e-9, r
        assert r["next_retry_in"] <= cap * 1.2 + 1e-9


async def test_backoff_grows_capped_when_refused(harness: Harness) -> None:
    rec = Recorder()
    url = f"http://127.0.0.1:{free_port()}"
    stream, _ = harness.start(harness.client(url), rec, fixed([DIR_A]))
    await until(lambda: len(retries(rec)) >= 6, what="6 refused attempts")
    attempts = [r["attempt"] for r in retries(rec)]
    assert attempts[:6] == [1, 2, 3, 4, 5, 6]
    check_delays(rec, FAST["backoff_initial"], FAST["backoff_max"])
    assert "cannot connect" in (stream.last_error or "")
    assert stream.connections == 0
    assert not rec.obs  # never open, so nothing closed either
    assert rec.states[0]["state"] == "connecting"


async def test_server_that_never_answers_is_retried(harness: Harness) -> None:
    """opencode accepts connections while starting up and never answers some of them."""
    accepted: list[asyncio.StreamWriter] = []

    async def blackhole(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        await reader.read(65536)  # the request; no answer, ever

    srv = await asyncio.start_server(blackhole, "127.0.0.1", 0)
    try:
        rec = Recorder()
        url = f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}"
        stream, _ = harness.start(harness.client(url), rec, fixed([DIR_A]), watchdog=0.3)
        await until(lambda: len(accepted) >= 3, what="3 attempts")
        assert "did not answer" in (stream.last_error or "")
        assert stream.connections == 0 and not rec.obs
    finally:
        for w in accepted:
            w.close()
        srv.close()


async def test_backoff_resets_after_healthy_connection(server: SSEServer, harness: Harness) -> None:
    fail = Script(status=500, body={"name": "UnknownError", "data": {"message": "boom"}})
    server.scripts = [
        fail,
        fail,
        Script(ending="eof"),  # open but short-lived: not healthy, no reset
        fail,
        Script(ending="heartbeat", heartbeat_every=0.1, heartbeat_for=4.0),  # healthy (> 2 s)
        fail,
        fail,
    ]
    server.default = fail
    rec = Recorder()
    # "Healthy" is a connection that lived 2 s: wide margins on both sides, so that an EOF
    # answered late on a loaded machine is still short-lived, and the watchdog (5 s) never
    # closes the healthy one first.
    stream, _ = harness.start(
        harness.client(server.url), rec, fixed([DIR_A]), healthy_after=2.0, watchdog=5.0
    )
    await until(lambda: len(retries(rec)) >= 8, what="8 retries")
    attempts = [r["attempt"] for r in retries(rec)]
    assert attempts[:8] == [1, 2, 3, 4, 1, 2, 3, 4]
    check_delays(rec, FAST["backoff_initial"], FAST["backoff_max"])
    assert [r["last_error"] for r in retries(rec)][:2] == ["boom", "boom"]
    assert retries(rec)[4]["last_error"] == "server closed the stream"
    assert stream.connections == 2


async def test_retry_now_skips_the_wait(harness: Harness) -> None:
    rec = Recorder()
    url = f"http://127.0.0.1:{free_port()}"
    stream, _ = harness.start(harness.client(url), rec, fixed([]), backoff_initial=30, backoff_max=30)
    await until(lambda: len(retries(rec)) == 1, what="first retry")
    stream.retry_now()
    await until(
        lambda: len(retries(rec)) == 2, timeout=10.0, what="second attempt right away (the backoff is 30 s)"
    )
    # retry_now resets the attempt count, so the next wait starts over
    assert [r["attempt"] for r in retries(rec)] == [1, 1]


# -- 5. 401 ---------------------------------------------------------------------------------


async def test_401_stops_retrying_until_retry_now(server: SSEServer, harness: Harness) -> None:
    server.auth = ("opencode", "right")
    server.scripts = [Script(events=[ev(1)], ending="stall")]
    rec = Recorder()
    client = harness.client(server.url, password="wrong")
    stream, _ = harness.start(client, rec, fixed([DIR_A]))
    await until(lambda: stream.state == "auth_failed", what="auth_failed")
    await asyncio.sleep(1.0)
    assert len(server.event_requests()) == 1  # no retry storm
    assert len(server.requests) == 1
    assert stream.state == "auth_failed"
    assert "401" in (stream.last_error or "") and "password" in (stream.last_error or "")
    assert not rec.obs  # never opened
    assert [s["state"] for s in rec.states] == ["connecting", "auth_failed"]

    client.set_password("right")
    stream.retry_now()
    await until(lambda: numbers(rec) == [1], what="connect with the right password")
    assert stream.state == "open"
    assert stream.connections == 1
    good = _basic("opencode", "right")
    assert server.event_requests()[-1].authorization == good
    assert all(r.authorization == good for r in server.requests[1:])
    assert len(rec.snapshots()) == 4


async def test_401_during_resync_is_auth_failed(server: SSEServer, harness: Harness) -> None:
    server.rest["/session/status"] = Reply(401, None)
    server.scripts = [Script(events=[ev(1)], ending="stall")]
    rec = Recorder()
    stream, _ = harness.start(harness.client(server.url), rec, fixed([DIR_A]))
    await until(lambda: stream.state == "auth_failed", what="auth_failed")
    await asyncio.sleep(0.3)
    assert rec.streams() == [observations.stream_open(), observations.stream_closed("unauthorized")]
    assert numbers(rec) == []  # the events of a connection whose resync failed are not read
    assert len(server.event_requests()) == 1
    assert "401" in (stream.last_error or "")


# -- 6. malformed frames ----------------------------------------------------------------------


async def test_malformed_frames_are_skipped(server: SSEServer, harness: Harness) -> None:
    server.scripts = [
        Script(
            events=[
                ev(1),
                "data: not json\n\n",
                "data:\n\n",
                "data: \n\n",
                'data: {"payload": {"id": "evt_x", "type": "trunc\n\n',
                b"data: \xff\xfe\x00\n\n",
                "garbage line without a colon\n\n",
                ": a comment\n\n",
                "event: weird\n\n",
                ev(2),
                "data: {not: json}\r\n\r\n",
                ev(3),
            ],
            ending="stall",
        )
    ]
    rec = Recorder()
    stream, _ = harness.start(harness.client(server.url), rec, fixed([DIR_A]))
    await until(lambda: numbers(rec) == [1, 2, 3], what="good events around bad frames")
    await asyncio.sleep(0.05)
    assert rec.event_types() == ["server.connected", "test.event", "test.event", "test.event"]
    assert not rec.closed()
    assert stream.connections == 1
    assert stream.state == "open"


# -- 7. a store fed by the stream ------------------------------------------------------------


async def test_store_settles_busy_session_lost_across_reconnect(server: SSEServer, harness: Harness) -> None:
    info = {
        "id": SID,
        "slug": "witty-circuit",
        "projectID": "p1",
        "directory": DIR_A,
        "title": "hello",
        "version": "1.18.33",
        "time": {"created": 1795245204935, "updated": 1795245204972},
    }
    user = {
        "id": "msg_0001",
        "role": "user",
        "sessionID": SID,
        "time": {"created": 1795245204972},
        "agent": "build",
        "model": {"providerID": "mock", "modelID": "fast"},
    }
    server.scripts = [
        Script(
            events=[
                envelope("session.updated", {"sessionID": SID, "info": info}, DIR_A),
                envelope("message.updated", {"sessionID": SID, "info": user}, DIR_A),
                envelope("session.status", {"sessionID": SID, "status": {"type": "busy"}}, DIR_A),
            ],
            ending="eof",
        ),
        Script(ending="heartbeat", heartbeat_every=0.1),
    ]
    # What the resync of connection 2 finds: the run is over, the session idle (absent).
    server.rest["/session"] = [info]
    server.rest["/session/status"] = {}
    server.messages[SID] = [{"info": user, "parts": []}]

    store = Store()
    at_close: dict[str, Any] = {}
    mismatches: list[tuple[str, str]] = []

    def sink(obs: dict[str, Any]) -> None:
        store.apply(obs)
        if obs.get("stream") == "closed" and not at_close:
            th = store.threads.get(SID)
            at_close.update(status=th and th.status, connection=store.connection)

    class StoreRecorder(Recorder):
        def on_state(self, stream: EventStream) -> None:
            super().on_state(stream)
            # the store's connection follows the stream's state
            want = "open" if stream.state == "open" else "closed"
            if store.connection != want:
                mismatches.append((stream.state, store.connection))

    rec = StoreRecorder(then=sink)
    stream, task = harness.start(harness.client(server.url), rec, store_targets(store))
    await until(
        lambda: (
            stream.connections == 2
            and len(rec.segments()) == 2
            and any("snapshot" in o and o["snapshot"]["kind"] == "questions" for o in rec.segments()[1])
        ),
        what="second connection resynced",
    )
    # Connection 1 saw the session start running; the stream then closed.
    assert at_close == {"status": "running", "connection": "closed"}
    # Connection 2's resync: the status answer no longer lists the session.
    th = store.threads[SID]
    assert th.status == "ready"
    [turn] = th.sorted_turns()
    assert turn.id == "msg_0001" and turn.state == "interrupted"
    assert store.connection == "open" and stream.state == "open"
    assert store.rejected == 0
    assert not store.check_invariants()
    assert not mismatches
    # The resync asked for the directory the store learnt, and the running session's messages.
    second = server.event_requests()[1].time
    asked = {(r.path, r.query.get("directory")) for r in server.requests if r.time >= second}
    assert ("/session/status", DIR_A) in asked
    assert (f"/session/{SID}/message", DIR_A) in asked

    stream.stop()
    await finished(task, 1.0)
    assert store.connection == "closed" and store.connection_reason == "stopped"
    assert stream.state == "stopped"
    assert not mismatches


# -- 8. stop -----------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["heartbeat", "stall"])
async def test_stop_ends_run_promptly_while_open(server: SSEServer, harness: Harness, ending: str) -> None:
    server.scripts = [Script(events=[ev(1)], ending=ending, heartbeat_every=0.05)]
    rec = Recorder()
    stream, task = harness.start(harness.client(server.url), rec, fixed([DIR_A]), watchdog=10)
    await until(lambda: numbers(rec) == [1], what="open")
    t0 = time.monotonic()
    stream.stop()
    await finished(task, 1.0)  # returns, does not raise
    assert time.monotonic() - t0 < 0.5
    assert stream.state == "stopped"
    assert rec.streams()[-1] == observations.stream_closed("stopped")
    assert rec.states[-1]["state"] == "stopped"
    assert stream.connections == 1


async def test_stop_ends_run_promptly_while_waiting_to_retry(harness: Harness) -> None:
    rec = Recorder()
    url = f"http://127.0.0.1:{free_port()}"
    stream, task = harness.start(harness.client(url), rec, fixed([]), backoff_initial=30, backoff_max=30)
    await until(lambda: len(retries(rec)) == 1, what="waiting to retry")
    stream.stop()
    await finished(task, 0.5)
    assert stream.state == "stopped"


async def test_stop_ends_run_promptly_when_auth_failed(server: SSEServer, harness: Harness) -> None:
    server.auth = ("opencode", "right")
    rec = Recorder()
    stream, task = harness.start(harness.client(server.url), rec, fixed([]))
    await until(lambda: stream.state == "auth_failed", what="auth_failed")
    stream.stop()
    await finished(task, 0.5)
    assert stream.state == "stopped"
    assert len(server.event_requests()) == 1


async def test_cancel_while_open_reports_closed(server: SSEServer, harness: Harness) -> None:
    server.scripts = [Script(events=[ev(1)], ending="stall")]
    rec = Recorder()
    stream, task = harness.start(harness.client(server.url), rec, fixed([DIR_A]), watchdog=10)
    await until(lambda: numbers(rec) == [1], what="open")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await finished(task, 1.0)
    assert stream.state == "stopped"
    assert rec.streams()[-1] == observations.stream_closed("stopped")


async def test_stop_from_on_state_while_connecting(server: SSEServer, harness: Harness) -> None:
    server.scripts = [Script(ending="heartbeat", heartbeat_every=0.05)]
    rec = Recorder()

    def on_state(stream: EventStream) -> None:
        rec.on_state(stream)
        if stream.state == "connecting":
            stream.stop()

    client = harness.client(server.url)
    stream = EventStream(client, rec.sink, fixed([]), on_state=on_state, **{**FAST, "watchdog": 10})
    await finished(asyncio.ensure_future(stream.run()), 1.0)
    assert stream.state == "stopped"
    assert stream.connections == 0 and not rec.obs


async def test_retry_now_from_on_state_is_not_lost(server: SSEServer, harness: Harness) -> None:
    """A password supplied by the auth_failed callback itself (say, from a keyring)."""
    server.auth = ("opencode", "right")
    server.scripts = [Script(events=[ev(1)], ending="stall")]
    client = harness.client(server.url, password="wrong")

    class Retrying(Recorder):
        def on_state(self, stream: EventStream) -> None:
            super().on_state(stream)
            if stream.state == "auth_failed" and sum(s["state"] == "auth_failed" for s in self.states) == 1:
                client.set_password("right")
                stream.retry_now()

    rec = Retrying()
    stream, _ = harness.start(client, rec, fixed([]))
    await until(lambda: numbers(rec) == [1], timeout=10.0, what="connect after retry_now from on_state")
    assert len(server.event_requests()) == 2
    assert stream.state == "open"


async def test_stop_is_not_lost_when_a_frame_arrives_at_the_same_time(
    server: SSEServer, harness: Harness
) -> None:
    """A flood of heartbeats, so that stop() races with a frame being read: Python 3.11's
    ``asyncio.wait_for`` swallows a cancellation when the awaited read completes in the
    same loop iteration, and the stream then read on forever."""
    server.default = Script(ending="heartbeat", heartbeat_every=0)
    for _ in range(15):
        count = 0

        def sink(obs: dict[str, Any]) -> None:
            nonlocal count
            count += 1

        stream, task = harness.start(
            harness.client(server.url), Recorder(), fixed([]), sink=sink, watchdog=10
        )
        await until(lambda: count >= 30, what="heartbeats")  # noqa: B023
        stream.stop()
        await finished(task, 1.0)
        assert stream.state == "stopped"


# -- a resync asked for while the stream is open ------------------------------------------


async def test_a_requested_resync_runs_in_the_stream_between_events(
    server: SSEServer, harness: Harness
) -> None:
    """Asked for (after a dispose, say), a resync runs in the stream's own loop: at once on
    a quiet stream, and never while an event is being applied."""
    server.scripts = [Script(events=[ev(1)], ending="stall")]
    applying = False
    overlapped: list[dict[str, Any]] = []
    rec = Recorder()

    def sink(obs: dict[str, Any]) -> None:
        nonlocal applying
        if applying:
            overlapped.append(obs)
        applying = True
        try:
            rec.sink(obs)
        finally:
            applying = False

    stream, _ = harness.start(harness.client(server.url), rec, fixed([DIR_A]), sink=sink, watchdog=30)
    await until(lambda: numbers(rec) == [1], what="the first event")
    before = len(rec.snapshots())
    stream.request_resync()
    await until(lambda: len(rec.snapshots()) == 2 * before, what="a second resync on a quiet stream")
    assert rec.opens() == 1  # no reconnect was needed
    assert not overlapped


# -- 9. a burst, and the UI beside it -------------------------------------------------------


def burst_frames(n: int) -> bytes:
    """``n`` events in one write: a burst already buffered when the reader gets to it."""
    return b"".join(b"data: " + json.dumps(ev(k), separators=(",", ":")).encode() + b"\n\n" for k in range(n))


class Painter:
    """Stands in for the UI on the same event loop: counts the turns it gets while the
    burst is being applied (from its first event to its last)."""

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        self.turns = 0
        self.seen: list[int] = []  # events applied, at each turn during the burst
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            applied = len(numbers(self.rec))
            if applied:
                self.turns += 1
                self.seen.append(applied)
            await asyncio.sleep(0)

    def stop(self) -> None:
        self._task.cancel()


async def run_burst(server: SSEServer, harness: Harness, burst: int, then: Any) -> Painter:
    server.scripts = [Script(events=[burst_frames(burst)], ending="stall")]
    rec = Recorder(then=then)
    harness.start(harness.client(server.url), rec, fixed([DIR_A]), watchdog=30)
    painter = Painter(rec)
    try:
        await until(lambda: numbers(rec) == list(range(burst)), what="the whole burst applied")
    finally:
        painter.stop()
    return painter


async def test_a_preempted_app_applies_a_burst_in_a_few_turns_of_the_ui(
    server: SSEServer, harness: Harness
) -> None:
    """On a busy machine the process is descheduled for tens of ms at a time. That costs
    wall time, not CPU: the reader must not take it for work and hand the loop back after
    every event (then a 2,000-token burst took minutes to reach the screen, one event per
    frame painted). Here each event takes 6 ms of wall time and no CPU (a sleep)."""
    burst = 60
    painter = await run_burst(
        server, harness, burst, lambda obs: time.sleep(0.006) if "event" in obs else None
    )
    # Before: a turn of the UI after every event (60). Now: the burst in one or two.
    assert painter.turns < burst // 3, f"the UI ran {painter.turns} times during a burst of {burst}"


async def test_a_burst_that_costs_cpu_still_lets_the_ui_run(server: SSEServer, harness: Harness) -> None:
    """The other side: events that really cost CPU (2 ms each) hand the loop back every
    few events, so the UI keeps painting during a long burst."""
    burst = 60

    def spin(obs: dict[str, Any]) -> None:
        if "event" in obs:
            end = time.thread_time() + 0.002
            while time.thread_time() < end:
                pass

    painter = await run_burst(server, harness, burst, spin)
    steps = [b - a for a, b in zip([0, *painter.seen], painter.seen, strict=False)]
    assert max(steps) < burst // 2, f"the UI waited for {max(steps)} events at once"
