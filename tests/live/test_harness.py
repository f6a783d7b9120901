"""Smoke tests of the live harness: the mock model alone, then plain httpx against real opencode.

These do not use t3tui; they check that the fixtures give a server that behaves as
PROTOCOL.md describes, so later live tests of the client can rely on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from . import mockmodel as mm
from .mockmodel import MockModel
from .opencode_server import OPENCODE_VERSION, OpencodeServer

TIMEOUT = 60.0


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


class GlobalEvents:
    """Collects ``GET /global/event`` payloads in the background; ``wait_for`` scans all seen so far."""

    def __init__(self, server: OpencodeServer) -> None:
        self.server = server
        self.payloads: list[dict] = []
        self._cond = asyncio.Condition()
        self._task: asyncio.Task | None = None
        self._client = httpx.AsyncClient(
            base_url=server.url, auth=server.auth, timeout=httpx.Timeout(10, read=None)
        )
        self.closed = False

    async def __aenter__(self) -> GlobalEvents:
        self._task = asyncio.create_task(self._run())
        await self.wait_for(lambda p: p.get("type") == "server.connected")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._client.aclose()

    async def _run(self) -> None:
        try:
            async with self._client.stream("GET", "/global/event") as r:
                r.raise_for_status()
                async for line in r.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    env = json.loads(line[5:].strip())
                    async with self._cond:
                        self.payloads.append(env.get("payload") or {})
                        self._cond.notify_all()
        finally:
            async with self._cond:
                self.closed = True
                self._cond.notify_all()

    def find(self, pred: Callable[[dict], bool]) -> dict | None:
        for p in self.payloads:
            if pred(p):
                return p
        return None

    async def wait_closed(self, timeout: float = TIMEOUT) -> None:
        async def waiter() -> None:
            async with self._cond:
                await self._cond.wait_for(lambda: self.closed)

        await asyncio.wait_for(waiter(), timeout)

    async def wait_for(self, pred: Callable[[dict], bool], timeout: float = TIMEOUT) -> dict:
        async def waiter() -> dict:
            async with self._cond:
                while True:
                    hit = self.find(pred)
                    if hit is not None:
                        return hit
                    if self.closed:
                        raise AssertionError("event stream closed")
                    await self._cond.wait()

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except TimeoutError:
            types = [p.get("type") for p in self.payloads[-40:]]
            raise AssertionError(f"no matching event within {timeout}s; last types: {types}") from None


def of(session_id: str, type_: str, **props: Any) -> Callable[[dict], bool]:
    """Predicate: an event of ``type_`` for ``session_id`` whose properties include ``props``."""

    def pred(p: dict) -> bool:
        if p.get("type") != type_:
            return False
        pr = p.get("properties") or {}
        if pr.get("sessionID") != session_id:
            return False
        return all(pr.get(k) == v for k, v in props.items())

    return pred


async def start_turn(c: httpx.AsyncClient, directory: str, model: str, text: str = "hello") -> str:
    r = await c.post("/session", params={"directory": directory}, json={})
    r.raise_for_status()
    sid = r.json()["id"]
    r = await c.post(
        f"/session/{sid}/prompt_async",
        params={"directory": directory},
        json={"parts": [{"type": "text", "text": text}], "model": {"providerID": "mock", "modelID": model}},
    )
    assert r.status_code == 204, r.text
    return sid


async def messages(c: httpx.AsyncClient, sid: str, directory: str) -> list[dict]:
    r = await c.get(f"/session/{sid}/message", params={"directory": directory})
    r.raise_for_status()
    return r.json()


def assistant_parts(msgs: list[dict], type_: str) -> list[dict]:
    return [p for m in msgs if m["info"]["role"] == "assistant" for p in m["parts"] if p["type"] == type_]


def client(server: OpencodeServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, auth=server.auth, timeout=TIMEOUT)


# ---------------------------------------------------------------------------------------
# the mock model alone
# ---------------------------------------------------------------------------------------


def _sse(lines: list[str]) -> list[Any]:
    out = []
    for line in lines:
        if line.startswith("data: "):
            data = line[6:]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


@pytest.fixture
def own_mock() -> Iterator[MockModel]:
    with MockModel() as m:
        yield m


def test_mock_streams_chunks_and_logs_requests(own_mock: MockModel) -> None:
    mock_model = own_mock
    body = {"model": "fast", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(base_url=mock_model.base_url, timeout=10) as c:
        assert [m["id"] for m in c.get("/models").json()["data"]] == list(mm.MODES)
        with c.stream("POST", "/chat/completions", json=body, headers={"Authorization": "Bearer k"}) as r:
            assert r.status_code == 200
            events = _sse(list(r.iter_lines()))
        assert events[-1] == "[DONE]"
        assert events[-2]["choices"] == [] and events[-2]["usage"]["completion_tokens"] == mm.FAST_TOKENS
        assert events[-3]["choices"][0]["finish_reason"] == "stop"
        text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-2])
        assert text == mm.FAST_TEXT == "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 tok8 tok9 "

        # A title request wins over a queued override and does not consume it.
        mock_model.set_mode("error400", count=1)
        title_body = {
            "model": "fast",
            "stream": True,
            "messages": [
                {"role": "system", "content": "You are a title generator. ..."},
                {"role": "user", "content": "x"},
            ],
        }
        with c.stream("POST", "/chat/completions", json=title_body) as r:
            chunks = _sse(list(r.iter_lines()))
        assert "".join(e["choices"][0]["delta"].get("content") or "" for e in chunks[:-2]) == mm.TITLE_TEXT
        r = c.post("/chat/completions", json=body)
        assert r.status_code == 400 and r.json()["error"]["message"] == mm.ERROR400_MESSAGE
        r = c.post("/chat/completions", json={**body, "model": "error500ra"})
        assert r.status_code == 500 and r.headers["retry-after-ms"] == "300"

    log = mock_model.requests
    assert [e["mode"] for e in log] == ["fast", "title", "error400", "error500ra"]
    assert log[0]["authorization"] == "Bearer k" and log[0]["completed"]
    assert log[1]["title"] is True


def test_mock_tool_call_then_text(own_mock: MockModel) -> None:
    mock_model = own_mock
    msgs: list[dict] = [{"role": "user", "content": "use a tool"}]
    with httpx.Client(base_url=mock_model.base_url, timeout=10) as c:
        with c.stream(
            "POST", "/chat/completions", json={"model": "question", "stream": True, "messages": msgs}
        ) as r:
            events = _sse(list(r.iter_lines()))
        calls = [tc for e in events[:-2] for tc in e["choices"][0]["delta"].get("tool_calls") or []]
        assert calls[0]["id"].startswith("call_mock_") and calls[0]["function"]["name"] == "question"
        assert json.loads("".join(tc["function"]["arguments"] for tc in calls)) == mm.QUESTION_ARGS
        assert events[-3]["choices"][0]["finish_reason"] == "tool_calls"
        msgs += [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": calls[0]["id"], "type": "function"}],
            },
            {"role": "tool", "tool_call_id": calls[0]["id"], "content": "Blue"},
        ]
        with c.stream(
            "POST", "/chat/completions", json={"model": "question", "stream": True, "messages": msgs}
        ) as r:
            events = _sse(list(r.iter_lines()))
        assert (
            "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-2]) == mm.TOOL_DONE_TEXT
        )


def test_mock_slow_stops_when_client_disconnects(own_mock: MockModel) -> None:
    mock_model = own_mock
    body = {"model": "slow", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with (
        httpx.Client(base_url=mock_model.base_url, timeout=10) as c,
        c.stream("POST", "/chat/completions", json=body) as r,
    ):
        got = 0
        for line in r.iter_lines():
            if '"content": "tok' in line:
                got += 1
                if got == 2:
                    break  # leaving the block closes the connection mid-stream
    entry = mock_model.wait_for_request(lambda e: e["mode"] == "slow" and e["ended"] is not None, timeout=30)
    assert entry["disconnected"] and not entry["completed"]
    assert entry["chunks"] < 10


# ---------------------------------------------------------------------------------------
# real opencode
# ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_health(opencode: OpencodeServer) -> None:
    async with client(opencode) as c:
        r = await c.get("/global/health")
    assert r.status_code == 200
    assert r.json().get("healthy") is True
    assert r.json().get("version") == OPENCODE_VERSION


@pytest.mark.asyncio
async def test_fast_prompt_streams_text(opencode: OpencodeServer, mock_model: MockModel) -> None:
    proj = str(opencode.project_dir("a"))
    async with GlobalEvents(opencode) as ev, client(opencode) as c:
        sid = await start_turn(c, proj, "fast")
        await ev.wait_for(of(sid, "session.idle"))
        await ev.wait_for(
            lambda p: of(sid, "session.updated")(p) and p["properties"]["info"]["title"] == mm.TITLE_TEXT
        )
        deltas = [p["properties"]["delta"] for p in ev.payloads if of(sid, "message.part.delta")(p)]
        msgs = await messages(c, sid, proj)
    assert "".join(deltas) == mm.FAST_TEXT
    assert [p["text"] for p in assistant_parts(msgs, "text")] == [mm.FAST_TEXT]
    assistant = [m["info"] for m in msgs if m["info"]["role"] == "assistant"]
    assert assistant[-1]["finish"] == "stop" and assistant[-1]["time"].get("completed")
    sent = [e for e in mock_model.requests if not e["title"] and e["messages"][-1].get("content") == "hello"]
    assert sent and sent[-1]["authorization"] == "Bearer mock-key"
    assert set(sent[-1]["tools"]) >= {"bash", "question", "read"}


@pytest.mark.asyncio
async def test_bash_tool_completes(opencode: OpencodeServer) -> None:
    proj = str(opencode.project_dir("a"))
    async with GlobalEvents(opencode) as ev, client(opencode) as c:
        sid = await start_turn(c, proj, "tool", "use a tool")
        await ev.wait_for(of(sid, "session.idle"))
        msgs = await messages(c, sid, proj)
    (tool,) = assistant_parts(msgs, "tool")
    assert tool["tool"] == "bash" and tool["state"]["status"] == "completed"
    assert tool["state"]["input"]["command"] == mm.TOOL_COMMAND
    assert tool["state"]["output"].strip() == mm.TOOL_OUTPUT.strip()
    assert assistant_parts(msgs, "text")[-1]["text"] == mm.TOOL_DONE_TEXT


@pytest.mark.asyncio
async def test_read_outside_project_asks_permission(opencode: OpencodeServer) -> None:
    proj = str(opencode.project_dir("a"))
    async with GlobalEvents(opencode) as ev, client(opencode) as c:
        sid = await start_turn(c, proj, "toolread", "read a file")
        asked = await ev.wait_for(of(sid, "permission.asked"))
        props = asked["properties"]
        assert props["permission"] == "external_directory"
        assert props["metadata"]["filepath"] == mm.TOOLREAD_PATH
        pending = (await c.get("/permission", params={"directory": proj})).json()
        assert props["id"] in [p["id"] for p in pending]
        r = await c.post(
            f"/permission/{props['id']}/reply", params={"directory": proj}, json={"reply": "once"}
        )
        assert r.status_code == 200 and r.json() is True
        await ev.wait_for(of(sid, "permission.replied", requestID=props["id"], reply="once"))
        await ev.wait_for(of(sid, "session.idle"))
        msgs = await messages(c, sid, proj)
    (tool,) = assistant_parts(msgs, "tool")
    assert tool["tool"] == "read" and tool["state"]["status"] == "completed"
    assert assistant_parts(msgs, "text")[-1]["text"] == mm.TOOL_DONE_TEXT


@pytest.mark.asyncio
async def test_question_tool_reply(opencode: OpencodeServer, mock_model: MockModel) -> None:
    proj = str(opencode.project_dir("a"))
    async with GlobalEvents(opencode) as ev, client(opencode) as c:
        sid = await start_turn(c, proj, "question", "ask me")
        asked = await ev.wait_for(of(sid, "question.asked"))
        props = asked["properties"]
        assert props["questions"] == mm.QUESTION_ARGS["questions"]
        r = await c.post(
            f"/question/{props['id']}/reply", params={"directory": proj}, json={"answers": [["Blue"]]}
        )
        assert r.status_code == 200, r.text
        await ev.wait_for(of(sid, "question.replied", requestID=props["id"]))
        await ev.wait_for(of(sid, "session.idle"))
        msgs = await messages(c, sid, proj)
    (tool,) = assistant_parts(msgs, "tool")
    assert tool["tool"] == "question" and tool["state"]["status"] == "completed"
    assert tool["state"]["metadata"]["answers"] == [["Blue"]]
    assert assistant_parts(msgs, "text")[-1]["text"] == mm.TOOL_DONE_TEXT
    # The answer went back to the model as a tool result.
    last = [e for e in mock_model.requests if e["model"] == "question" and not e["title"]][-1]
    assert any(m.get("role") == "tool" and "Blue" in json.dumps(m) for m in last["messages"])


@pytest.mark.asyncio
async def test_error500_retries_then_abort(opencode: OpencodeServer) -> None:
    proj = str(opencode.project_dir("a"))
    async with GlobalEvents(opencode) as ev, client(opencode) as c:
        sid = await start_turn(c, proj, "error500")

        def retry1(p: dict) -> bool:
            st = (p.get("properties") or {}).get("status") or {}
            return of(sid, "session.status")(p) and st.get("type") == "retry" and st.get("attempt") == 1

        st = (await ev.wait_for(retry1))["properties"]["status"]
        assert st["message"] == mm.ERROR500_MESSAGE and isinstance(st["next"], int)
        # Stop the retry loop (it would run ~75 s); an abort in the wait ends the turn without an error.
        r = await c.post(f"/session/{sid}/abort", params={"directory": proj})
        assert r.status_code == 200
        await ev.wait_for(of(sid, "session.idle"))
        assert (await c.get("/session/status", params={"directory": proj})).json().get(sid) is None


@pytest.mark.asyncio
async def test_error400_gives_session_error(opencode: OpencodeServer) -> None:
    proj = str(opencode.project_dir("a"))
    async with GlobalEvents(opencode) as ev, client(opencode) as c:
        sid = await start_turn(c, proj, "error400")
        err = (await ev.wait_for(of(sid, "session.error")))["properties"]["error"]
        await ev.wait_for(of(sid, "session.idle"))
    assert err["name"] == "APIError"
    assert err["data"]["message"] == mm.ERROR400_MESSAGE
    assert err["data"]["statusCode"] == 400 and err["data"]["isRetryable"] is False


@pytest.mark.asyncio
async def test_password_needs_basic_auth(opencode_auth: OpencodeServer) -> None:
    assert opencode_auth.password
    async with httpx.AsyncClient(base_url=opencode_auth.url, timeout=TIMEOUT) as c:
        assert (await c.get("/global/health")).status_code == 401
        assert (await c.get("/global/health", auth=("opencode", "wrong"))).status_code == 401
        r = await c.get("/global/health", auth=("opencode", opencode_auth.password))
        assert r.status_code == 200 and r.json()["healthy"] is True
        r = await c.get(
            "/session", auth=opencode_auth.auth, params={"directory": str(opencode_auth.project_dir("a"))}
        )
        assert r.status_code == 200


@pytest.mark.asyncio
async def test_slow_abort_disconnects_model_and_kill_restart_keeps_sessions(
    fresh_opencode: OpencodeServer, mock_model: MockModel
) -> None:
    srv = fresh_opencode
    proj = str(srv.project_dir("a"))
    port = srv.port
    async with GlobalEvents(srv) as ev, client(srv) as c:
        sid = await start_turn(c, proj, "slow")
        await ev.wait_for(of(sid, "message.part.delta", delta="tok1 "))
        assert (await c.post(f"/session/{sid}/abort", params={"directory": proj})).json() is True
        await ev.wait_for(of(sid, "session.idle"))
        entry = mock_model.wait_for_request(
            lambda e: e["model"] == "slow" and not e["title"] and e["ended"] is not None, timeout=30
        )
        assert entry["disconnected"]

        sid2 = await start_turn(c, proj, "slow")
        await ev.wait_for(of(sid2, "message.part.delta", delta="tok1 "))
        old_pid = srv.pid
        srv.kill(signal.SIGKILL)
        await ev.wait_closed(timeout=30)  # SIGKILL ends the SSE stream with a plain EOF
    srv.restart()
    assert srv.port == port and srv.pid != old_pid
    async with client(srv) as c:
        assert (await c.get("/session/status", params={"directory": proj})).json() == {}
        ids = [s["id"] for s in (await c.get("/session", params={"directory": proj})).json()]
        assert sid in ids and sid2 in ids
        msgs = await messages(c, sid2, proj)
        last = msgs[-1]["info"]
        assert last["role"] == "assistant" and "completed" not in last["time"] and "error" not in last


@pytest.mark.asyncio
async def test_reasoning_then_text(opencode: OpencodeServer) -> None:
    proj = str(opencode.project_dir("a"))
    async with GlobalEvents(opencode) as ev, client(opencode) as c:
        sid = await start_turn(c, proj, "reasoning", "think")
        await ev.wait_for(of(sid, "session.idle"))
        msgs = await messages(c, sid, proj)
    assert [p["text"] for p in assistant_parts(msgs, "reasoning")] == [mm.REASONING_TEXT]
    assert [p["text"] for p in assistant_parts(msgs, "text")] == [mm.FAST_TEXT]


@pytest.mark.asyncio
async def test_bench_one_delta_per_chunk(opencode: OpencodeServer) -> None:
    proj = str(opencode.project_dir("a"))
    async with GlobalEvents(opencode) as ev, client(opencode) as c:
        sid = await start_turn(c, proj, "bench", "go fast")
        await ev.wait_for(of(sid, "session.idle"))
        deltas = [p["properties"]["delta"] for p in ev.payloads if of(sid, "message.part.delta")(p)]
        msgs = await messages(c, sid, proj)
    assert len(deltas) == mm.BENCH_CHUNKS and "".join(deltas) == mm.BENCH_TEXT
    assert [p["text"] for p in assistant_parts(msgs, "text")] == [mm.BENCH_TEXT]


@pytest.mark.asyncio
async def test_transient_500_via_control_then_success(
    opencode: OpencodeServer, mock_model: MockModel
) -> None:
    proj = str(opencode.project_dir("a"))
    # Two scripted failures (retry-after-ms 300, which opencode honours), then the model's own mode.
    async with httpx.AsyncClient(timeout=TIMEOUT) as raw:
        r = await raw.post(
            mock_model.base_url.removesuffix("/v1") + "/control", json={"mode": "error500ra", "count": 2}
        )
        assert r.json()["queue"] == ["error500ra", "error500ra"]
    async with GlobalEvents(opencode) as ev, client(opencode) as c:
        sid = await start_turn(c, proj, "fast", "flaky")
        await ev.wait_for(of(sid, "session.idle"))
        retries = [
            p["properties"]["status"]["attempt"]
            for p in ev.payloads
            if of(sid, "session.status")(p) and p["properties"]["status"]["type"] == "retry"
        ]
        msgs = await messages(c, sid, proj)
    assert retries == [1, 2]
    assert [p["text"] for p in assistant_parts(msgs, "text")] == [mm.FAST_TEXT]
    assert len([m for m in msgs if m["info"]["role"] == "assistant"]) == 1


@pytest.mark.asyncio
async def test_error500ra_exhausts_retries(opencode: OpencodeServer) -> None:
    proj = str(opencode.project_dir("a"))
    async with GlobalEvents(opencode) as ev, client(opencode) as c:
        sid = await start_turn(c, proj, "error500ra")
        err = (await ev.wait_for(of(sid, "session.error")))["properties"]["error"]
        await ev.wait_for(of(sid, "session.idle"))
        attempts = [
            p["properties"]["status"]["attempt"]
            for p in ev.payloads
            if of(sid, "session.status")(p) and p["properties"]["status"]["type"] == "retry"
        ]
    assert attempts == [1, 2, 3, 4, 5]
    assert err["name"] == "APIError" and err["data"]["isRetryable"] is True
    assert err["data"]["message"] == mm.ERROR500_MESSAGE and err["data"]["statusCode"] == 500


@pytest.mark.asyncio
async def test_script_mode_runs_todowrite_write_and_edit(
    opencode: OpencodeServer, mock_model: MockModel
) -> None:
    """``script``: one step per request, so a whole agent loop (todos, a new file, an edit) runs."""
    proj = opencode.project_dir("scripted")
    todos = [
        {"content": "Write notes", "status": "completed", "priority": "high"},
        {"content": "Edit notes", "status": "in_progress", "priority": "medium"},
    ]
    steps = [
        {"tool": "todowrite", "args": {"todos": todos}},
        {"tool": "write", "args": {"filePath": str(proj / "notes.txt"), "content": "one\ntwo\nthree\n"}},
        {"tool": "edit", "args": {"filePath": str(proj / "notes.txt"), "oldString": "two", "newString": "2"}},
        {"text": "All done."},
    ]
    mock_model.set_mode("script", steps=steps)
    async with GlobalEvents(opencode) as ev, client(opencode) as c:
        sid = await start_turn(c, str(proj), "fast", "take notes")
        await ev.wait_for(of(sid, "session.idle"), timeout=60)
        msgs = await messages(c, sid, str(proj))
        todo = (await c.get(f"/session/{sid}/todo", params={"directory": str(proj)})).json()
    tools = assistant_parts(msgs, "tool")
    assert [(t["tool"], t["state"]["status"]) for t in tools] == [
        ("todowrite", "completed"),
        ("write", "completed"),
        ("edit", "completed"),
    ]
    assert (proj / "notes.txt").read_text() == "one\n2\nthree\n"
    assert [(t["content"], t["status"]) for t in todo] == [(t["content"], t["status"]) for t in todos]
    assert assistant_parts(msgs, "text")[-1]["text"] == "All done."
    assert any(of(sid, "todo.updated")(p) for p in ev.payloads)
