"""``t3tui capture`` and ``t3tui replay`` on hostile input: they never crash, never stop
silently, and a replayed store keeps its promises (``Store.check_invariants()`` is empty).

The hostile logs are generated here: lone surrogates, nulls and numbers where strings
belong, JSON nested thousands of levels deep, garbage, and mutated lines of the real
captures in ``tests/fixtures``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sse_server import Script, SSEServer, envelope

from t3tui import observations
from t3tui.eventlog import EventLogWriter, dump, replay, summary
from t3tui.state.store import Store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
PY = sys.executable
SES = "ses_0001hostile"
DIR = "/home/dev/project"


def cli(*args: str, stdin: str | None = None, timeout: float = 60) -> Any:
    import subprocess

    return subprocess.run(
        [PY, "-m", "t3tui", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def write_log(path: Path, lines: list[Any]) -> Path:
    """``lines``: dicts (written with ensure_ascii, so a lone surrogate becomes ``\\ud800``) or
    raw str/bytes lines."""
    with open(path, "wb") as fh:
        for line in lines:
            if isinstance(line, dict):
                fh.write(json.dumps(line).encode() + b"\n")
            elif isinstance(line, str):
                fh.write(line.encode("utf-8", "surrogatepass") + b"\n")
            else:
                fh.write(line + b"\n")
    return path


def session_event(title: Any = "a title", sid: Any = SES, directory: Any = DIR) -> dict[str, Any]:
    info = {
        "id": sid,
        "slug": "s",
        "version": "1.18.33",
        "projectID": "p",
        "directory": directory,
        "title": title,
        "time": {"created": 1, "updated": 2},
    }
    return observations.event(
        {"directory": DIR, "payload": {"type": "session.updated", "properties": {"info": info}}}
    )


def deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def check_replayed(store: Store) -> None:
    """What every replay must give: a store that keeps its promises, a dump and a summary."""
    assert store.check_invariants() == []
    text = json.dumps(dump(store), ensure_ascii=False)
    text.encode("utf-8", "surrogatepass")
    summary(store)


# -- replay ---------------------------------------------------------------------------------


def test_replay_of_a_lone_surrogate_in_a_title(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl", [observations.stream_open(), session_event(title="bad \ud800 title")]
    )
    for args in ((), ("--json",)):
        r = cli("replay", str(log), *args)
        assert r.returncode == 0, r.stderr.decode()
        assert b"Traceback" not in r.stderr
        out = r.stdout.decode("utf-8")  # valid UTF-8 on stdout
        assert "bad" in out and "title" in out
        if args:
            assert json.loads(out)["threads"][0]["title"] == "bad \ud800 title"


def test_replay_of_null_and_numbers_in_actions(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "a.jsonl",
        [
            observations.stream_open(),
            session_event(),
            observations.prompt_sent(SES, "msg_2ok", "fine", None),
            # Fields of the wrong type: lines the builders would never write, made by hand.
            observations.action("prompt", sessionID=SES, messageID=None, text="null id"),
            observations.action("prompt", sessionID=SES, messageID=5, text=7),
            observations.action("prompt", sessionID=SES, messageID="msg_3", text=7),
            observations.action("prompt", sessionID=12, messageID="msg_4", text="x"),
            observations.action("interrupt", sessionID=SES, ok=False, error={"nested": 1}),
            {"action": {"kind": 5}},
            observations.action("refresh", status="pending", providerID=3, op=None),
            {"action": None},
        ],
    )
    store = replay(log)
    check_replayed(store)
    th = store.threads[SES]
    assert set(th.turns) == {"msg_2ok"}, "turns with a null or numeric id must not exist"
    assert store.rejected >= 5
    for args in ((), ("--json",)):
        r = cli("replay", str(log), *args)
        assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr.decode()
        assert b"skipped" in r.stderr


def test_replay_of_numbers_where_strings_belong_in_events(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "n.jsonl",
        [
            observations.stream_open(),
            session_event(title=5),
            session_event(sid=7),
            session_event(directory=3),
            observations.event({"directory": 5, "payload": {"type": 5, "properties": {}}}),
            observations.event(
                {"directory": DIR, "payload": {"id": 9, "type": "session.idle", "properties": 1}}
            ),
            observations.event(
                {
                    "directory": DIR,
                    "payload": {"type": "session.status", "properties": {"sessionID": SES, "status": 4}},
                }
            ),
            # Numbers where the format has strings: lines no builder writes, made by hand.
            {"stream": "closed", "reason": 42},
            {"stream": 1},
            {"snapshot": {"kind": "status", "directory": 4, "data": {SES: {"type": 5}}}},
            {"snapshot": {"kind": "messages", "directory": DIR, "sessionID": 5, "data": [1, None]}},
            {"snapshot": {"kind": 3}},
        ],
    )
    store = replay(log)
    check_replayed(store)
    r = cli("replay", str(log), "--json")
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr.decode()
    json.loads(r.stdout)


def test_replay_of_deeply_nested_json(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "d.jsonl",
        [
            observations.stream_open(),
            deep(3_000),
            '{"event":' + deep(5_000) + "}",
            "[" * 200_000 + "]" * 200_000,
            session_event(),
        ],
    )
    store = replay(log)
    check_replayed(store)
    assert SES in store.threads, "lines after the deep ones are still replayed"
    for args in ((), ("--json",)):
        r = cli("replay", str(log), *args)
        assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr.decode()
        assert b"skipped 3 of 5 lines" in r.stderr, r.stderr.decode()


def test_replay_of_garbage(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "g.jsonl",
        [
            b"\xff\xfe not utf-8 \x00",
            "not json at all",
            '{"t": 1, "event": ',
            "1e99999",
            "9" * 5000,
            '"a string"',
            "[]",
            "null",
            '{"t": NaN, "stream": "open"}',
            "\x1b]52;c;aGVsbG8=\x07\x1b[2J",
            observations.stream_open(),
            session_event(title="\x1b[2J\x1b]0;pwned\x07 title \x9b31m"),
        ],
    )
    store = replay(log)
    check_replayed(store)
    r = cli("replay", str(log))
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr.decode()
    assert b"\x1b" not in r.stdout and b"\xc2\x9b" not in r.stdout, "escape codes reach the terminal"
    r = cli("replay", str(log), "--json")
    assert r.returncode == 0 and b"\x1b" not in r.stdout and b"\xc2\x9b" not in r.stdout
    assert json.loads(r.stdout)["threads"][0]["title"].startswith("\x1b[2J")


def test_replay_of_a_missing_or_unreadable_file(tmp_path: Path) -> None:
    r = cli("replay", str(tmp_path / "nope.jsonl"))
    assert r.returncode == 2 and b"no such log file" in r.stderr
    r = cli("replay", str(tmp_path))
    assert r.returncode == 2 and b"Traceback" not in r.stderr


# -- replay: hypothesis on mutated real captures ---------------------------------------------

FIXTURE_LINES = {
    p.name: p.read_text(encoding="utf-8").splitlines()
    for p in sorted(FIXTURES.glob("*.jsonl"))
    if p.stat().st_size < 200_000
}
NASTY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "\ud800", "\udfff x", "\x1b[2J", "ses_", "msg_", "evt_", "global", "idle", "busy"]),
    st.text(max_size=8),
    st.just([]),
    st.just({}),
    st.just({"type": "busy"}),
    st.just([None, 1]),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:5]):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_line(draw: st.DrawFn, lines: list[str]) -> str:
    line = draw(st.sampled_from(lines))
    how = draw(st.sampled_from(["value", "value", "value", "drop", "cut", "bytes", "deep"]))
    if how == "cut":
        return line[: draw(st.integers(0, max(0, len(line) - 1)))]
    if how == "bytes":
        return draw(st.text(max_size=40))
    if how == "deep":
        return '{"event":' + deep(draw(st.sampled_from([900, 1_100, 4_000]))) + "}"
    obs = json.loads(line)
    paths = [p for p in _paths(obs) if p]
    if not paths:
        return line
    path = draw(st.sampled_from(paths))
    parent = obs
    for key in path[:-1]:
        parent = parent[key]
    if how == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(NASTY)
    return json.dumps(obs)


@st.composite
def hostile_log(draw: st.DrawFn) -> list[str]:
    name = draw(st.sampled_from(sorted(FIXTURE_LINES)))
    lines = list(FIXTURE_LINES[name])
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(lines)))
        bad = draw(mutated_line(FIXTURE_LINES[name]))
        if draw(st.booleans()):
            lines.insert(at, bad)
        elif lines:
            lines[min(at, len(lines) - 1)] = bad
    return lines


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_log())
def test_replay_of_mutated_real_captures_never_crashes(tmp_path_factory: Any, lines: list[str]) -> None:
    path = tmp_path_factory.mktemp("h") / "h.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    store = replay(path)
    check_replayed(store)


# -- the writer -------------------------------------------------------------------------------


def test_writer_escapes_lone_surrogates(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    with EventLogWriter(path) as w:
        w.write(session_event(title="bad \ud800 \udfff title"))
        w.write(observations.stream_closed("lost \udc80"))
        assert w.error is None
    raw = path.read_bytes()
    raw.decode("utf-8")  # strict: the file is valid UTF-8
    store = replay(path)
    assert store.threads[SES].title == "bad \ud800 \udfff title"
    assert store.connection_reason == "lost \udc80"
    assert store.rejected == 0


def test_writer_keeps_chinese_readable(tmp_path: Path) -> None:
    path = tmp_path / "zh.jsonl"
    with EventLogWriter(path) as w:
        w.write(session_event(title="你好 😀"))
    assert "你好 😀" in path.read_text(encoding="utf-8")


def test_writer_replaces_a_deep_event_by_a_marker_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    nested: Any = 1
    for _ in range(3_000):
        nested = {"a": nested}
    cyclic: dict[str, Any] = {"type": "x"}
    cyclic["self"] = cyclic
    with EventLogWriter(path) as w:
        w.write(observations.stream_open())
        w.write(
            observations.event(
                {"directory": DIR, "payload": {"type": "message.updated", "properties": nested}}
            )
        )
        w.write(observations.snapshot("messages", DIR, nested, SES))
        w.write(observations.action("prompt", deep=nested))
        w.write(observations.event({"payload": cyclic}))
        w.write(observations.event({"payload": {"type": "x", "value": float("nan")}}))
        w.write(observations.event({"payload": {"type": "x", "value": {1, 2}}}))
        w.write("not a dict")  # type: ignore[arg-type]
        w.write(session_event())
        assert w.error is None and w.lines == 9
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 9
    dropped = [line["dropped"] for line in lines if "dropped" in line]
    assert len(dropped) == 7
    assert dropped[0]["kind"] == "event" and dropped[0]["type"] == "message.updated"
    assert dropped[0]["nodes"] >= 3_000 and "deep" in dropped[0]["reason"]
    assert dropped[1]["kind"] == "snapshot" and dropped[2]["kind"] == "action"
    store = replay(path)
    assert store.rejected == 0 and SES in store.threads
    check_replayed(store)


def test_writer_never_raises_and_reports_a_full_disk(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    before = os.stat("/dev/full").st_mode
    w = EventLogWriter("/dev/full")
    w.write(observations.stream_open())
    assert w.error is not None and "No space left" in w.error
    w.write(observations.stream_open())  # and later writes are ignored, not raised
    w.close()
    assert os.stat("/dev/full").st_mode == before, "the writer must not chmod a device"


def test_capture_file_is_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "c.jsonl"
        EventLogWriter(path).close()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        existing = tmp_path / "old.jsonl"
        existing.write_text("x")
        existing.chmod(0o644)
        EventLogWriter(existing).close()
        assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    finally:
        os.umask(old)


# -- capture against a scripted server ---------------------------------------------------------


async def run_capture(
    server: SSEServer,
    out: Path,
    *args: str,
    url: str | None = None,
    until: Any = None,
    timeout: float = 20,
    stdin: bytes | None = None,
) -> tuple[int, str]:
    """``t3tui capture`` in a subprocess; SIGINT once ``until(out)`` holds (or it exits)."""
    proc = await asyncio.create_subprocess_exec(
        PY,
        "-m",
        "t3tui",
        "capture",
        "--url",
        url or server.url,
        "--output",
        str(out),
        *args,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "OPENCODE_SERVER_PASSWORD": ""},
    )
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        await proc.stdin.drain()
        proc.stdin.close()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while proc.returncode is None and loop.time() < deadline:
            if until is not None and until(out):
                proc.send_signal(signal.SIGINT)
                break
            await asyncio.sleep(0.05)
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return proc.returncode or 0, err.decode("utf-8", "replace")


def has_line(pred: Any) -> Any:
    def check(path: Path) -> bool:
        if not path.exists():
            return False
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                obs = json.loads(line)
            except ValueError:
                continue
            if pred(obs):
                return True
        return False

    return check


def titled(title: str) -> Any:
    return has_line(
        lambda o: (
            isinstance(o.get("event"), dict)
            and o["event"].get("payload", {}).get("properties", {}).get("info", {}).get("title") == title
        )
    )


def info_event(title: str) -> dict[str, Any]:
    return envelope("session.updated", session_event(title=title)["event"]["payload"]["properties"], DIR)


async def test_capture_of_a_lone_surrogate_in_a_title(tmp_path: Path) -> None:
    bad = info_event("x")
    bad["payload"]["properties"]["info"]["title"] = "bad \ud800"
    frames = [bad, info_event("after")]
    async with SSEServer([Script(events=frames, ending="stall")]) as server:
        out = tmp_path / "cap.jsonl"
        code, err = await run_capture(server, out, until=titled("after"))
    assert code == 0, err
    assert "Traceback" not in err
    out.read_bytes().decode("utf-8")
    store = replay(out)
    assert store.threads[SES].title == "after" and store.rejected == 0
    assert titled("bad \ud800")(out), "the event with the surrogate was dropped"
    lines = len(out.read_text(encoding="utf-8").splitlines())
    assert f"wrote {lines} lines" in err


async def test_capture_of_a_deep_event_does_not_stop_silently(tmp_path: Path) -> None:
    frames = ["data: " + deep(3_000) + "\n\n", info_event("after")]
    async with SSEServer([Script(events=frames, ending="stall")]) as server:
        out = tmp_path / "deep.jsonl"
        code, err = await run_capture(server, out, until=titled("after"), timeout=15)
    assert "Traceback" not in err, err
    # Either it went on capturing, or it stopped and said why with a non-zero exit.
    if not titled("after")(out):
        assert code != 0 and "error" in err, err
    for line in out.read_text(encoding="utf-8").splitlines():
        json.loads(line)


async def test_capture_to_a_full_disk_fails_loudly(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    async with SSEServer([Script(events=[info_event("t")], ending="stall")]) as server:
        code, err = await run_capture(server, Path("/dev/full"), timeout=15)
    assert code != 0, err
    assert "No space left" in err and "Traceback" not in err, err


async def test_capture_to_an_unwritable_path(tmp_path: Path) -> None:
    async with SSEServer() as server:
        code, err = await run_capture(server, tmp_path / "no" / "such" / "dir.jsonl", timeout=15)
        assert code == 2 and "cannot write" in err, err
        code, err = await run_capture(server, tmp_path, timeout=15)
        assert code == 2 and "cannot write" in err, err
