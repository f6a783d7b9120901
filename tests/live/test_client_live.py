"""Live tests of t3tui's own client, event stream and store against a real opencode.

No UI: a ``LiveClient`` (helpers.py) runs ``EventStream`` into a ``Store`` and sends prompts
and interrupts the way the app does. Each test asserts what a user would notice, through the
store, and the store's invariants after every observation (STATE.md is the contract).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from t3tui.eventlog import dump, thread_dump
from t3tui.opencode.client import AuthError

from . import mockmodel as mm
from .helpers import CountingTransport, LiveClient, StallProxy, wait_until
from .mockmodel import MockModel
from .opencode_server import OpencodeServer

REPO = Path(__file__).resolve().parents[2]


def has_text(lc: LiveClient, sid: str, mid: str, n: int = 1) -> bool:
    """The turn shows at least ``n`` streamed words."""
    return lc.turn(sid, mid).text.count(" ") >= n


# ---------------------------------------------------------------------------------------
# one prompt at a time
# ---------------------------------------------------------------------------------------


async def test_prompt_completes_with_full_text(opencode: OpencodeServer) -> None:
    proj = opencode.project_dir("a")
    async with LiveClient(opencode.url, [proj]) as lc:
        sid = await lc.new_session(proj)
        mid = await lc.prompt(sid, "hello", "fast")
        assert lc.turn(sid, mid).state == "running" and lc.thread(sid).status == "running"
        await lc.wait_until(lambda: lc.turn(sid, mid).state == "completed", what="turn completed")
        await lc.wait_until(lambda: lc.thread(sid).title == mm.TITLE_TEXT, what="title")
        th, turn = lc.thread(sid), lc.turn(sid, mid)
        assert turn.text == mm.FAST_TEXT
        assert turn.prompt == "hello"
        assert turn.user is not None and turn.error is None
        assert th.status == "ready" and th.directory == str(proj)
        assert lc.store.connection == "open"
        lc.assert_invariants()


async def test_interrupt_mid_stream(opencode: OpencodeServer) -> None:
    proj = opencode.project_dir("a")
    async with LiveClient(opencode.url, [proj]) as lc:
        sid = await lc.new_session(proj)
        mid = await lc.prompt(sid, "go slowly", "slow")
        await lc.wait_until(lambda: has_text(lc, sid, mid, 2), what="streamed text")
        assert lc.turn(sid, mid).state == "running"

        lc.interrupt_optimistic(sid)
        # At once, before the server has answered anything.
        assert lc.turn(sid, mid).state == "interrupted"
        assert lc.turn(sid, mid).settled_by == "user"
        await lc.interrupt_confirm(sid)

        # The server's own account (idle, then the aborted assistant message) does not
        # bring the turn back.
        await lc.wait_until(
            lambda: lc.thread(sid).status == "ready" and lc.turn(sid, mid).has_evidence(),
            what="idle and the aborted message",
        )
        turn = lc.turn(sid, mid)
        assert turn.state == "interrupted"
        assert turn.text.startswith("tok0 tok1 ")
        last = turn.last_assistant()
        assert last is not None and last.error is not None and last.error.aborted
        lc.assert_invariants()


async def test_persistent_500_shows_retrying_then_interrupt(opencode: OpencodeServer) -> None:
    proj = opencode.project_dir("a")
    async with LiveClient(opencode.url, [proj]) as lc:
        sid = await lc.new_session(proj)
        mid = await lc.prompt(sid, "flaky upstream", "error500")
        await lc.wait_until(
            lambda: lc.thread(sid).status == "retrying" and lc.thread(sid).retry is not None,
            what="retrying",
        )
        th = lc.thread(sid)
        assert th.retry is not None and th.retry.attempt >= 1
        assert th.retry.message == mm.ERROR500_MESSAGE
        assert lc.turn(sid, mid).state == "running"

        await lc.interrupt(sid)
        assert lc.turn(sid, mid).state == "interrupted"
        await lc.wait_until(lambda: lc.thread(sid).status == "ready", what="thread ready")
        # Let the server's late messages (the empty assistant message) come in.
        await lc.wait_until(lambda: lc.turn(sid, mid).has_evidence(), what="assistant message ended")
        th, turn = lc.thread(sid), lc.turn(sid, mid)
        assert turn.state == "interrupted" and turn.error is None
        assert th.status == "ready" and th.retry is None and th.last_error is None
        lc.assert_invariants()


async def test_400_is_an_error_with_the_servers_message(opencode: OpencodeServer) -> None:
    proj = opencode.project_dir("a")
    async with LiveClient(opencode.url, [proj]) as lc:
        sid = await lc.new_session(proj)
        mid = await lc.prompt(sid, "bad request", "error400")
        await lc.wait_until(lambda: lc.turn(sid, mid).state == "error", what="turn error")
        await lc.wait_until(lambda: lc.thread(sid).status == "error", what="thread error")
        # The assistant message with its error arrives after idle; nothing changes.
        await lc.wait_until(lambda: lc.turn(sid, mid).has_evidence(), what="assistant message ended")
        th, turn = lc.thread(sid), lc.turn(sid, mid)
        assert turn.state == "error"
        assert turn.error is not None and mm.ERROR400_MESSAGE in turn.error
        assert th.status == "error"
        assert th.last_error is not None and mm.ERROR400_MESSAGE in th.last_error

        # The next prompt clears the error.
        mid2 = await lc.prompt(sid, "again", "fast")
        assert lc.thread(sid).status == "running" and lc.thread(sid).last_error is None
        await lc.wait_until(lambda: lc.turn(sid, mid2).state == "completed", what="second turn completed")
        assert lc.thread(sid).status == "ready" and lc.turn(sid, mid2).text == mm.FAST_TEXT
        assert lc.turn(sid, mid).state == "error"
        lc.assert_invariants()


async def test_permission_asked_and_replied(opencode: OpencodeServer) -> None:
    proj = opencode.project_dir("a")
    async with LiveClient(opencode.url, [proj]) as lc:
        sid = await lc.new_session(proj)
        mid = await lc.prompt(sid, "read a file", "toolread")
        await lc.wait_until(lambda: lc.thread(sid).permissions, what="pending permission")
        th = lc.thread(sid)
        (req,) = th.permissions.values()
        assert req.permission == "external_directory"
        assert th.status == "running" and lc.turn(sid, mid).state == "running"

        assert await lc.client.reply_permission(req.id, th.directory, "once") is True
        await lc.wait_until(lambda: lc.turn(sid, mid).state == "completed", what="turn completed")
        th, turn = lc.thread(sid), lc.turn(sid, mid)
        assert turn.text == mm.TOOL_DONE_TEXT
        assert th.permissions == {} and th.status == "ready"
        lc.assert_invariants()


async def test_question_answered(opencode: OpencodeServer) -> None:
    proj = opencode.project_dir("a")
    async with LiveClient(opencode.url, [proj]) as lc:
        sid = await lc.new_session(proj)
        mid = await lc.prompt(sid, "ask me", "question")
        await lc.wait_until(lambda: lc.thread(sid).questions, what="pending question")
        th = lc.thread(sid)
        (req,) = th.questions.values()
        assert [q.question for q in req.questions] == ["Which colour?"]

        assert await lc.client.reply_question(req.id, th.directory, [["Blue"]]) is True
        await lc.wait_until(lambda: lc.turn(sid, mid).state == "completed", what="turn completed")
        th, turn = lc.thread(sid), lc.turn(sid, mid)
        assert turn.text == mm.TOOL_DONE_TEXT
        assert th.questions == {} and th.status == "ready"
        lc.assert_invariants()


# ---------------------------------------------------------------------------------------
# several at once
# ---------------------------------------------------------------------------------------


async def test_two_directories_at_once(opencode: OpencodeServer, mock_model: MockModel) -> None:
    proj_a, proj_b = opencode.project_dir("a"), opencode.project_dir("b")
    # Every run streams its first word, then waits for the gate; once it opens, the rest
    # (about a second). A timed run alone could end before the other one starts on a busy
    # machine. A default rather than a count of 2, so that no other request can take one
    # of them (titles never take an override).
    mock_model.hold("both")
    mock_model.set_mode("slow", interval=0.05, duration=1.0, hold="both")
    expected = mm.slow_text(20)
    async with LiveClient(opencode.url, [proj_a, proj_b]) as lc:
        sid_a, sid_b = await asyncio.gather(lc.new_session(proj_a), lc.new_session(proj_b))
        mid_a, mid_b = await asyncio.gather(
            lc.prompt(sid_a, "in a", "slow"), lc.prompt(sid_b, "in b", "slow")
        )
        # Both visibly running at the same time.
        await lc.wait_until(
            lambda: (
                lc.turn(sid_a, mid_a).text.startswith("tok0")
                and lc.turn(sid_b, mid_b).text.startswith("tok0")
                and lc.turn(sid_a, mid_a).state == "running"
                and lc.turn(sid_b, mid_b).state == "running"
            ),
            what="both streaming",
        )
        mock_model.release("both")
        await lc.wait_until(
            lambda: lc.turn(sid_a, mid_a).state == "completed" and lc.turn(sid_b, mid_b).state == "completed",
            what="both completed",
        )
        assert lc.thread(sid_a).directory == str(proj_a)
        assert lc.thread(sid_b).directory == str(proj_b)
        assert lc.turn(sid_a, mid_a).text == expected and lc.turn(sid_b, mid_b).text == expected
        assert lc.thread(sid_a).status == lc.thread(sid_b).status == "ready"
        assert {str(proj_a), str(proj_b)} <= set(lc.store.directories)
        lc.assert_invariants()


async def test_prompt_while_busy_is_queued(opencode: OpencodeServer, mock_model: MockModel) -> None:
    proj = opencode.project_dir("a")
    # Each run streams 15 words over 1.5 s, once the gate is open: the first one waits
    # after its first word until the test has seen the second one queued.
    mock_model.hold("first")
    mock_model.set_mode("slow", interval=0.1, duration=1.5, hold="first")
    async with LiveClient(opencode.url, [proj]) as lc:
        sid = await lc.new_session(proj)
        first = await lc.prompt(sid, "first", "slow")
        await lc.wait_until(lambda: has_text(lc, sid, first), what="first turn streaming")
        second = await lc.prompt(sid, "second", "slow")
        assert lc.turn(sid, second).state == "queued"  # at once, before the server echoes it
        # Once the server has the second user message, it waits behind the first.
        await lc.wait_until(lambda: lc.turn(sid, second).user is not None, what="second user message")
        assert lc.turn(sid, second).state == "queued"
        assert lc.turn(sid, first).state == "running"
        mock_model.release("first")
        await lc.wait_until(lambda: lc.turn(sid, first).state == "completed", what="first completed")
        await lc.wait_until(lambda: lc.turn(sid, second).state == "completed", what="second completed")
        await lc.wait_until(lambda: lc.thread(sid).status == "ready", what="thread ready")
        assert lc.turn(sid, first).text == mm.slow_text(15)
        assert lc.turn(sid, second).text == mm.slow_text(15)
        assert lc.turn(sid, second).prompt == "second"
        lc.assert_invariants()


# ---------------------------------------------------------------------------------------
# faults
# ---------------------------------------------------------------------------------------


async def test_server_killed_mid_turn_and_restarted(fresh_opencode: OpencodeServer) -> None:
    srv = fresh_opencode
    proj = srv.project_dir("a")
    port = srv.port
    # A short watchdog also bounds the wait for the stream's answer (min(watchdog, 10 s)):
    # a restarting opencode accepts connections for a moment and never answers them.
    async with LiveClient(srv.url, [proj], watchdog=4.0) as lc:
        sid = await lc.new_session(proj)
        mid = await lc.prompt(sid, "go slowly", "slow")
        await lc.wait_until(lambda: has_text(lc, sid, mid, 2), what="streamed text")
        await asyncio.to_thread(srv.kill, signal.SIGKILL)
        await lc.wait_until(lambda: lc.store.connection == "closed", 10, "stream closed")
        seen = lc.turn(sid, mid).text
        assert seen.startswith("tok0 tok1 ")
        # Disconnected: the last known state stays, nothing is settled without evidence.
        assert lc.turn(sid, mid).state == "running" and lc.thread(sid).active
        connections = lc.stream.connections

        await asyncio.to_thread(srv.restart)
        assert srv.port == port
        await lc.wait_until(
            lambda: lc.stream.connections > connections and lc.store.connection == "open",
            20,
            "reconnected by itself",
        )
        await lc.wait_until(lambda: lc.turn(sid, mid).state == "interrupted", what="killed turn settled")
        th, turn = lc.thread(sid), lc.turn(sid, mid)
        assert th.status == "ready"
        # The server stored "" for the part; what the user saw stays.
        assert turn.text == seen
        assert turn.error is None

        # And the thread is usable again.
        mid2 = await lc.prompt(sid, "again", "fast")
        await lc.wait_until(lambda: lc.turn(sid, mid2).state == "completed", what="new turn completed")
        assert lc.turn(sid, mid2).text == mm.FAST_TEXT
        assert lc.turn(sid, mid).state == "interrupted" and lc.turn(sid, mid).text == seen
        lc.assert_invariants()


async def test_stalled_stream_reconnects(opencode: OpencodeServer, mock_model: MockModel) -> None:
    proj = opencode.project_dir("a")
    assert opencode.port is not None
    mock_model.set_mode("slow", interval=0.1, duration=5.0)
    async with StallProxy(opencode.port) as proxy, LiveClient(proxy.url, [proj], watchdog=2.0) as lc:
        sid = await lc.new_session(proj)
        mid = await lc.prompt(sid, "stream through a bad network", "slow")
        await lc.wait_until(lambda: has_text(lc, sid, mid, 2), what="streamed text")
        # With a 2 s watchdog and heartbeats every 10 s an idle stream reconnects on its
        # own; while the turn streams (10 words/s) it must not, until the stall.
        before, reasons = lc.stream.connections, len(lc.closed_reasons)
        assert proxy.stall() == 1
        await lc.wait_until(lambda: lc.stream.connections > before, 10, "reconnect after the stall")
        assert lc.closed_reasons[reasons:] == ["no event for 2s"]
        # The run goes on; the turn ends with the server's full text (deltas lost in the
        # stall are made good by the final part).
        await lc.wait_until(lambda: lc.turn(sid, mid).state == "completed", 15, "slow turn completed")
        assert lc.turn(sid, mid).text == mm.slow_text(50)
        # And a new prompt works through the proxy.
        mock_model.set_mode(None)
        mid2 = await lc.prompt(sid, "and now?", "fast")
        await lc.wait_until(lambda: lc.turn(sid, mid2).state == "completed", what="fast turn completed")
        assert lc.turn(sid, mid2).text == mm.FAST_TEXT and lc.thread(sid).status == "ready"
        lc.assert_invariants()


async def test_wrong_password(opencode_auth: OpencodeServer) -> None:
    proj = opencode_auth.project_dir("a")
    transport = CountingTransport()
    async with LiveClient(
        opencode_auth.url, [proj], password="not-the-password", transport=transport, wait_open=False
    ) as lc:
        await lc.wait_until(lambda: lc.stream.state == "auth_failed", 10, "auth_failed")
        err = lc.stream.last_error or ""
        assert "401" in err and "password" in err
        # No retry storm: over two seconds, still the one attempt.
        await asyncio.sleep(2.0)
        assert lc.stream.state == "auth_failed"
        assert transport.count("/global/event") == 1, transport.requests
        assert lc.stream.connections == 0 and lc.store.connection == "closed"

        with pytest.raises(AuthError) as info:
            await lc.client.list_sessions(str(proj))
        assert info.value.status == 401
        assert "password" in info.value.message and "401" in info.value.message
        with pytest.raises(AuthError):
            await lc.client.create_session(str(proj))
        lc.assert_invariants()


async def test_right_password(opencode_auth: OpencodeServer) -> None:
    proj = opencode_auth.project_dir("a")
    assert opencode_auth.password
    async with LiveClient(opencode_auth.url, [proj], password=opencode_auth.password) as lc:
        sid = await lc.new_session(proj)
        mid = await lc.prompt(sid, "hello", "fast")
        await lc.wait_until(lambda: lc.turn(sid, mid).state == "completed", what="turn completed")
        assert lc.turn(sid, mid).text == mm.FAST_TEXT
        lc.assert_invariants()


# ---------------------------------------------------------------------------------------
# capture under faults (issue 3, §4)
# ---------------------------------------------------------------------------------------


def _log_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):  # a line being written
            out.append(json.loads(line))
    return out


def _opened(lines: list[dict], opens: int) -> list[dict] | None:
    """What the log holds after its ``opens``-th stream opening (None: not there yet)."""
    seen = 0
    for i, obs in enumerate(lines):
        if obs.get("stream") == "open":
            seen += 1
            if seen == opens:
                return lines[i + 1 :]
    return None


def _resynced(lines: list[dict], opens: int) -> bool:
    """The ``opens``-th opening is followed by a full resync (questions come last)."""
    after = _opened(lines, opens)
    return after is not None and any((o.get("snapshot") or {}).get("kind") == "questions" for o in after)


async def test_capture_under_faults_replays_to_the_live_state(
    fresh_opencode: OpencodeServer, tmp_path: Path
) -> None:
    srv = fresh_opencode
    proj = srv.project_dir("a")
    log = tmp_path / "capture.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCODE_SERVER")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    with open(tmp_path / "capture.stderr", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "t3tui", "capture", "--url", srv.url, "--output", str(log)],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        # No --directory: the capture knows no directory yet, so its first resync is empty;
        # it learns the project from the session's events.
        await wait_until(lambda: _opened(_log_lines(log), 1) is not None, 20, "capture connected")
        async with LiveClient(srv.url, [proj]) as lc:
            sid = await lc.new_session(proj)
            mid = await lc.prompt(sid, "go slowly", "slow")
            await lc.wait_until(lambda: has_text(lc, sid, mid, 2), what="streamed text")
            await lc.wait_until(lambda: lc.thread(sid).title == mm.TITLE_TEXT, what="title")
            await asyncio.to_thread(srv.kill, signal.SIGKILL)
            await lc.wait_until(lambda: lc.store.connection == "closed", 10, "stream closed")
            seen = lc.turn(sid, mid).text
            await asyncio.to_thread(srv.restart)
            await lc.wait_until(
                lambda: (
                    lc.stream.connections >= 2
                    and lc.turn(sid, mid).state == "interrupted"
                    and lc.thread(sid).status == "ready"
                ),
                20,
                "live store settled",
            )
            assert lc.turn(sid, mid).text == seen != ""
            # The capture reconnects on its own backoff (0.5 s doubling): wait for its resync.
            await wait_until(lambda: _resynced(_log_lines(log), 2), 45, "capture resynced")
            assert proc.poll() is None, "capture exited early"
            proc.send_signal(signal.SIGINT)
            code = await asyncio.to_thread(proc.wait, 15)
            assert code == 0, (tmp_path / "capture.stderr").read_text()
            lc.assert_invariants()
            live = dump(lc.store)
            live_thread = thread_dump(lc.thread(sid))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    r = subprocess.run(
        [sys.executable, "-m", "t3tui", "replay", str(log), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    replayed = json.loads(r.stdout)
    assert replayed["connection"] == "closed"  # the capture's own ending is in its log
    assert [t["id"] for t in replayed["threads"]] == [t["id"] for t in live["threads"]] == [sid]
    (rt,) = replayed["threads"]
    assert rt == live_thread
    assert rt["status"] == "ready"
    assert [(t["id"], t["state"], t["text"]) for t in rt["turns"]] == [(mid, "interrupted", seen)]
    stderr = (tmp_path / "capture.stderr").read_text()
    assert "reconnecting" in stderr and "wrote" in stderr
