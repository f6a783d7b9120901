"""A scripted OpenAI-compatible model server for live tests against a real opencode.

Standard library only.  A ``ThreadingHTTPServer`` runs in a background thread on
127.0.0.1, so several streams can run at once.

Endpoints
---------
- ``GET  /v1/models``            the list of model ids below (``MODES``).
- ``POST /v1/chat/completions``  ``stream: true`` answers are SSE of ``chat.completion.chunk``
  objects (``data: {...}\\n\\n``), then a usage chunk (``choices: []``), then ``data: [DONE]``.
  ``stream: false`` gets one ``chat.completion`` object (only text modes; rarely used).
- ``POST /control``              ``{"mode": "error500", "count": 2}`` makes the next 2 non-title
  requests use that mode whatever model they name; ``{"mode": "slow"}`` (no count) sets a default
  mode for every later request; ``{"mode": null}`` / ``{"reset": true}`` clears both.
  Mode parameters can ride along: ``{"mode": "slow", "interval": 0.05, "duration": 2}``
  (``fast``: tokens, interval, hold; ``slow``: interval, duration, hold; ``bench``: chunks, interval).
  ``hold: NAME`` makes a ``fast`` or ``slow`` stream wait after its first chunk until ``release(NAME)``
  (``hold(NAME)`` closes the gate first; ``reset()`` opens every gate), so that a test can
  keep runs going until it has seen what it waits for, however slow the machine.
- ``GET  /control``              the current overrides and the request count.

The mode of a request is, in order: a queued ``/control`` override, the default override, the
request's ``model`` id, and ``fast`` for an unknown id.  Title-generation requests (the system
prompt mentions "title generator") always get ``TITLE_TEXT`` and never consume an override.

Deterministic outputs (one SSE chunk per word-with-its-trailing-space unless said otherwise)
--------------------------------------------------------------------------------------------
- ``fast``      ``FAST_TEXT`` = "tok0 tok1 ... tok9 " (10 chunks, no delay).
- ``slow``      "tok0 ", "tok1 ", ... one chunk every ``SLOW_INTERVAL`` (0.2 s) for
                ``SLOW_DURATION`` (60 s), i.e. ``slow_text(300)``; stops at once when the client
                disconnects (the log entry gets ``disconnected=True``) or the mock stops.
- ``bench``     ``BENCH_TEXT`` = "tok0 tok1 ... tok1999 " as 2,000 chunks back to back.
- ``reasoning`` ``REASONING_TEXT`` = "think0 think1 think2 think3 think4 " as
                ``reasoning_content`` deltas, then ``FAST_TEXT`` as content.
- ``tool``      first step: a ``bash`` tool call ``{"command": "echo hello-from-tool",
                "description": "Print a greeting"}``; once the conversation has a tool result
                after the last user message: ``TOOL_DONE_TEXT`` = "The tool ran fine."
- ``toolread``  a ``read`` call of ``{"filePath": "/etc/hostname"}`` (outside the project, so opencode
                asks the ``external_directory`` permission), then ``TOOL_DONE_TEXT``.
- ``question``  a ``question`` call with ``QUESTION_ARGS`` (one question "Which colour?", header
                "Colour", options Red/Blue), then ``TOOL_DONE_TEXT``.
- ``error500``  HTTP 500 ``{"error": {"message": ERROR500_MESSAGE, ...}}`` every time.
- ``error500ra``  the same with the header ``retry-after-ms: 300``.
- ``error400``  HTTP 400 ``{"error": {"message": ERROR400_MESSAGE, ...}}``.
- ``script``    a scripted agent loop: ``steps`` is a list, and request k after the last user
                message (k = the tool results since then) answers with ``steps[k]``:
                ``{"tool": NAME, "args": {...}}`` calls a tool, ``{"text": "..."}`` answers in words,
                ``{"tools": [[NAME, ARGS], ...]}`` calls several tools in one step; any step may
                carry ``"hold": NAME`` (wait at the gate before answering).  Past the last step:
                ``TOOL_DONE_TEXT``.  ``by_prompt: {TEXT: steps}`` gives a conversation whose last
                user message contains TEXT its own steps (a ``task`` tool's subagent, say).
                E.g. ``set_mode("script", count=3, steps=[{"tool": "todowrite", "args": {...}},
                {"tool": "edit", "args": {...}}, {"text": "done"}])``: one count per request.
- title         ``TITLE_TEXT`` = "Mock session title".

Tool call ids are ``call_mock_<n>`` (n counts requests).  Usage chunk: prompt_tokens 10,
completion_tokens = number of content+reasoning chunks sent.

Python API: ``MockModel(port=0)``, ``.start() -> port``, ``.stop()``, ``.port``, ``.base_url``
("http://127.0.0.1:<port>/v1"), ``.requests`` (a copy of the log), ``.set_mode(mode, count=None,
**params)``, ``.reset()``, ``.hold(name)``, ``.release(name)``, ``.clear_requests()``,
``.wait_for_request(pred, timeout)``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAST_TOKENS = 10
FAST_TEXT = "".join(f"tok{i} " for i in range(FAST_TOKENS))
SLOW_INTERVAL = 0.2
SLOW_DURATION = 60.0
BENCH_CHUNKS = 2000
BENCH_TEXT = "".join(f"tok{i} " for i in range(BENCH_CHUNKS))
REASONING_TEXT = "".join(f"think{i} " for i in range(5))
TITLE_TEXT = "Mock session title"
TOOL_DONE_TEXT = "The tool ran fine."
TOOL_COMMAND = "echo hello-from-tool"
TOOL_OUTPUT = "hello-from-tool\n"
TOOL_ARGS = {"command": TOOL_COMMAND, "description": "Print a greeting"}
TOOLREAD_PATH = "/etc/hostname"
TOOLREAD_ARGS = {"filePath": TOOLREAD_PATH}
QUESTION_ARGS = {
    "questions": [
        {
            "question": "Which colour?",
            "header": "Colour",
            "options": [
                {"label": "Red", "description": "warm"},
                {"label": "Blue", "description": "cool"},
            ],
        }
    ]
}
ERROR500_MESSAGE = "mock upstream exploded (scripted 500)"
ERROR400_MESSAGE = "mock upstream exploded (scripted 400)"
RETRY_AFTER_MS = "300"
HOLD_LIMIT = 120.0  # a held stream that nobody releases ends (disconnected) after this

MODES = (
    "fast",
    "slow",
    "bench",
    "reasoning",
    "tool",
    "toolread",
    "question",
    "error500",
    "error500ra",
    "error400",
    "script",
)


def slow_text(n: int) -> str:
    """The first ``n`` chunks of the ``slow`` mode, joined."""
    return "".join(f"tok{i} " for i in range(n))


def _words(text: str) -> list[str]:
    """Split into chunks that keep their trailing space: "a b." -> ["a ", "b."]."""
    out: list[str] = []
    for w in text.split(" "):
        out.append(w + " ")
    out[-1] = out[-1][:-1]
    return [w for w in out if w]


def _system_text(messages: list[dict]) -> str:
    parts: list[str] = []
    for m in messages:
        if m.get("role") != "system":
            continue
        c = m.get("content")
        if isinstance(c, str):
            parts.append(c)
        elif isinstance(c, list):
            parts.extend(str(x.get("text", "")) for x in c if isinstance(x, dict))
    return "\n".join(parts)


def is_title_request(body: dict) -> bool:
    """opencode's title request has a system prompt "You are a title generator..." and no tools."""
    return "title generator" in _system_text(body.get("messages") or []).lower()


def _tool_result_after_last_user(messages: list[dict]) -> bool:
    last_user = -1
    for i, m in enumerate(messages):
        if m.get("role") == "user":
            last_user = i
    return any(m.get("role") == "tool" for m in messages[last_user + 1 :])


def _last_user_text(messages: list[dict]) -> str:
    """The text of the last user message (a string, or the text of its parts)."""
    for m in reversed(messages):
        if m.get("role") == "user":
            content = m.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
            return ""
    return ""


def _steps_done(messages: list[dict]) -> int:
    """How many model steps ended in tool calls since the last user message."""
    last_user = -1
    for i, m in enumerate(messages):
        if m.get("role") == "user":
            last_user = i
    return sum(1 for m in messages[last_user + 1 :] if m.get("role") == "assistant" and m.get("tool_calls"))


class _Disconnected(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    # ---- helpers -------------------------------------------------------------------------
    def _read_json(self) -> Any:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return {}
        return json.loads(raw)

    def _send_json(self, status: int, obj: Any, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    # ---- routes --------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        mock = self.server.mock
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [{"id": m, "object": "model", "created": 0, "owned_by": "mock"} for m in MODES],
                },
            )
        elif self.path.rstrip("/") == "/control":
            self._send_json(200, mock._control_state())
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:  # noqa: N802
        mock = self.server.mock
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            body = self._read_json()
        except ValueError:
            self._send_json(400, {"error": {"message": "body is not JSON"}})
            return
        if path == "/control":
            try:
                mock._control(body)
            except (ValueError, TypeError) as e:
                self._send_json(400, {"error": {"message": str(e)}})
                return
            self._send_json(200, mock._control_state())
            return
        if path not in ("/v1/chat/completions", "/chat/completions"):
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        entry = mock._log_request(self, body)
        outcome = {"completed": False, "disconnected": False}
        try:
            self._completion(mock, entry, body)
            outcome["completed"] = True
        except (_Disconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            outcome["disconnected"] = True
            self.close_connection = True
        finally:
            mock._update(entry, ended=time.time(), **outcome)

    # ---- completions ---------------------------------------------------------------------
    def _completion(self, mock: MockModel, entry: dict, body: dict) -> None:
        mode = entry["mode"]
        params = entry["params"]
        if mode in ("error500", "error500ra"):
            entry["status"] = 500
            extra = {"retry-after-ms": RETRY_AFTER_MS} if mode == "error500ra" else None
            self._send_json(
                500,
                {"error": {"message": ERROR500_MESSAGE, "type": "server_error", "code": "mock_500"}},
                extra,
            )
            return
        if mode == "error400":
            entry["status"] = 400
            self._send_json(
                400,
                {"error": {"message": ERROR400_MESSAGE, "type": "invalid_request_error", "code": "mock_400"}},
            )
            return
        entry["status"] = 200
        stream = _Stream(self, mock, entry, body)
        messages = body.get("messages") or []
        if mode == "title":
            stream.text(_words(TITLE_TEXT))
        elif mode == "fast":
            n = int(params.get("tokens", FAST_TOKENS))
            stream.text(
                [f"tok{i} " for i in range(n)],
                interval=float(params.get("interval", 0)),
                gate=mock._held(params),
            )
        elif mode == "slow":
            interval = float(params.get("interval", SLOW_INTERVAL))
            duration = float(params.get("duration", SLOW_DURATION))
            n = max(1, int(round(duration / interval)))
            stream.text([f"tok{i} " for i in range(n)], interval=interval, gate=mock._held(params))
        elif mode == "bench":
            n = int(params.get("chunks", BENCH_CHUNKS))
            stream.text([f"tok{i} " for i in range(n)], interval=float(params.get("interval", 0)))
        elif mode == "reasoning":
            stream.reasoning_then_text(_words(REASONING_TEXT), _words(FAST_TEXT))
        elif mode in ("tool", "toolread", "question"):
            if _tool_result_after_last_user(messages):
                stream.text(_words(TOOL_DONE_TEXT))
            else:
                name, args = {
                    "tool": ("bash", TOOL_ARGS),
                    "toolread": ("read", TOOLREAD_ARGS),
                    "question": ("question", QUESTION_ARGS),
                }[mode]
                stream.tool_call(name, args)
        elif mode == "script":
            steps = list(params.get("steps") or [])
            asked = _last_user_text(messages)
            for needle, script in (params.get("by_prompt") or {}).items():
                if needle in asked:  # a subagent's own prompt gets its own script
                    steps = list(script)
                    break
            k = _steps_done(messages)
            step = steps[k] if k < len(steps) else {"text": TOOL_DONE_TEXT}
            if step.get("hold") is not None:
                stream._hold(mock._gate(str(step["hold"])))
            if "tools" in step:
                stream.tool_calls([(str(n), dict(a)) for n, a in step["tools"]])
            elif "tool" in step:
                stream.tool_call(str(step["tool"]), dict(step.get("args") or {}))
            else:
                stream.text(_words(str(step.get("text", TOOL_DONE_TEXT))))
        else:  # pragma: no cover - _pick_mode never returns anything else
            stream.text(_words(FAST_TEXT))


class _Stream:
    """Writes one chat.completion.chunk SSE answer (or a plain completion if stream is false)."""

    def __init__(self, h: _Handler, mock: MockModel, entry: dict, body: dict):
        self.h = h
        self.mock = mock
        self.entry = entry
        self.streaming = bool(body.get("stream"))
        self.model = str(body.get("model") or "fast")
        self.id = f"chatcmpl-mock-{entry['n']}"
        self.created = int(time.time())
        self.sent = 0
        self.started = False

    # low level
    def _start(self) -> None:
        if self.started:
            return
        self.started = True
        h = self.h
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True

    def _write(self, data: bytes) -> None:
        if self.mock._stopping.is_set():
            raise _Disconnected()
        self.h.wfile.write(data)
        self.h.wfile.flush()

    def _chunk(self, delta: dict, finish: str | None = None) -> None:
        obj = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        self._write(b"data: " + json.dumps(obj).encode() + b"\n\n")

    def _finish(self, reason: str) -> None:
        self._chunk({}, reason)
        usage = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": {"prompt_tokens": 10, "completion_tokens": self.sent, "total_tokens": 10 + self.sent},
        }
        self._write(b"data: " + json.dumps(usage).encode() + b"\n\n")
        self._write(b"data: [DONE]\n\n")

    def _wait(self, interval: float) -> None:
        if interval > 0 and self.mock._stopping.wait(interval):
            raise _Disconnected()

    def _plain(self, message: dict, finish: str) -> None:
        obj = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
        }
        self.h._send_json(200, obj)

    # scripted answers
    def _hold(self, gate: threading.Event) -> None:
        deadline = time.monotonic() + HOLD_LIMIT
        while not gate.wait(0.05):
            if self.mock._stopping.is_set() or time.monotonic() > deadline:
                raise _Disconnected()

    def text(self, chunks: list[str], interval: float = 0.0, gate: threading.Event | None = None) -> None:
        if not self.streaming:
            self._plain({"role": "assistant", "content": "".join(chunks)}, "stop")
            return
        self._start()
        self._chunk({"role": "assistant", "content": ""})
        for i, c in enumerate(chunks):
            if i == 1 and gate is not None:
                self._hold(gate)
            if i:
                self._wait(interval)
            self._chunk({"content": c})
            self.sent += 1
            self.entry["chunks"] = self.sent
        self._finish("stop")

    def reasoning_then_text(self, thoughts: list[str], chunks: list[str]) -> None:
        if not self.streaming:
            self._plain({"role": "assistant", "content": "".join(chunks)}, "stop")
            return
        self._start()
        self._chunk({"role": "assistant", "content": ""})
        for c in thoughts:
            self._chunk({"reasoning_content": c})
            self.sent += 1
        for c in chunks:
            self._chunk({"content": c})
            self.sent += 1
        self.entry["chunks"] = self.sent
        self._finish("stop")

    def tool_call(self, name: str, args: dict) -> None:
        self.tool_calls([(name, args)])

    def tool_calls(self, calls: list[tuple[str, dict]]) -> None:
        """One step calling each of ``calls`` (name, args), ids ``call_mock_<n>`` then ``_<i>``."""
        ids = [f"call_mock_{self.entry['n']}" + (f"_{i}" if i else "") for i in range(len(calls))]
        self.entry["tool_call"] = {"id": ids[0], "name": calls[0][0], "arguments": calls[0][1]}
        pairs = list(zip(ids, calls, strict=True))
        self.entry["tool_calls"] = [{"id": i, "name": n, "arguments": a} for i, (n, a) in pairs]
        if not self.streaming:
            self._plain(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": i, "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
                        for i, (n, a) in zip(ids, calls, strict=True)
                    ],
                },
                "tool_calls",
            )
            return
        self._start()
        for index, (call_id, (name, args)) in enumerate(zip(ids, calls, strict=True)):
            arguments = json.dumps(args)
            self._chunk(
                {
                    **({"role": "assistant", "content": None} if index == 0 else {}),
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call_id,
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }
                    ],
                }
            )
            # Stream the JSON arguments in a few pieces, like real providers do.
            step = max(1, len(arguments) // 4)
            for i in range(0, len(arguments), step):
                piece = arguments[i : i + step]
                self._chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
                self.sent += 1
        self.entry["chunks"] = self.sent
        self._finish("tool_calls")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    mock: MockModel


class MockModel:
    """The scripted model server.  ``start()`` returns the port; ``stop()`` ends every stream."""

    def __init__(self, port: int = 0) -> None:
        self._want_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._requests: list[dict] = []
        self._n = 0
        self._queue: list[tuple[str, dict]] = []  # (mode, params), one per coming request
        self._default: tuple[str, dict] | None = None
        self._stopping = threading.Event()
        self._gates: dict[str, threading.Event] = {}
        self.port: int | None = None

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> int:
        if self._server is not None:
            assert self.port is not None
            return self.port
        self._stopping.clear()
        srv = _Server(("127.0.0.1", self._want_port), _Handler)
        srv.mock = self
        self._server = srv
        self.port = srv.server_address[1]
        self._thread = threading.Thread(
            target=srv.serve_forever, kwargs={"poll_interval": 0.05}, name="mockmodel", daemon=True
        )
        self._thread.start()
        return self.port

    def stop(self) -> None:
        srv, self._server = self._server, None
        if srv is None:
            return
        self._stopping.set()
        srv.shutdown()
        srv.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> MockModel:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("MockModel is not started")
        return f"http://127.0.0.1:{self.port}/v1"

    # ---- modes ---------------------------------------------------------------------------
    def set_mode(self, mode: str | None, count: int | None = None, **params: Any) -> None:
        """Force ``mode`` for the next ``count`` non-title requests, or as default when count is None.

        ``set_mode(None)`` clears the default and the queue.
        """
        self._control({"mode": mode, "count": count, **params})

    def reset(self) -> None:
        """Clear mode overrides and open every gate (the request log stays; see ``clear_requests``)."""
        self._control({"reset": True})
        with self._lock:
            gates, self._gates = list(self._gates.values()), {}
        for gate in gates:
            gate.set()

    def _gate(self, name: str) -> threading.Event:
        with self._lock:
            return self._gates.setdefault(name, threading.Event())

    def _held(self, params: dict) -> threading.Event | None:
        hold = params.get("hold")
        return self._gate(str(hold)) if hold is not None else None

    def hold(self, name: str) -> None:
        """Close gate ``name``: ``slow`` streams with ``hold=name`` wait after their first chunk."""
        self._gate(name).clear()

    def release(self, name: str) -> None:
        """Open gate ``name``: the streams held there go on."""
        self._gate(name).set()

    def _control(self, body: dict) -> None:
        body = dict(body)
        with self._lock:
            if body.pop("reset", False):
                self._queue.clear()
                self._default = None
            if "mode" not in body:
                return
            mode = body.pop("mode")
            count = body.pop("count", None)
            if mode is None:
                self._queue.clear()
                self._default = None
                return
            if mode not in MODES:
                raise ValueError(f"unknown mock mode {mode!r}")
            if count is None:
                self._default = (mode, body)
            else:
                self._queue.extend([(mode, body)] * int(count))

    def _control_state(self) -> dict:
        with self._lock:
            return {
                "queue": [m for m, _ in self._queue],
                "default": self._default[0] if self._default else None,
                "requests": len(self._requests),
            }

    def _pick_mode(self, body: dict, title: bool) -> tuple[str, dict]:
        if title:
            return "title", {}
        if self._queue:
            return self._queue.pop(0)
        if self._default is not None:
            return self._default
        model = str(body.get("model") or "")
        return (model if model in MODES else "fast"), {}

    # ---- request log ---------------------------------------------------------------------
    def _log_request(self, h: _Handler, body: dict) -> dict:
        title = is_title_request(body)
        headers = {k.lower(): v for k, v in h.headers.items()}
        with self._cond:
            self._n += 1
            mode, params = self._pick_mode(body, title)
            entry = {
                "n": self._n,
                "time": time.time(),
                "path": h.path,
                "model": body.get("model"),
                "mode": mode,
                "params": dict(params),
                "title": title,
                "headers": headers,
                "authorization": headers.get("authorization"),
                "messages": body.get("messages") or [],
                "tools": [t.get("function", {}).get("name") for t in body.get("tools") or []],
                "body": body,
                "status": None,
                "chunks": 0,
                "completed": False,
                "disconnected": False,
                "ended": None,
            }
            self._requests.append(entry)
            self._cond.notify_all()
        return entry

    def _update(self, entry: dict, **fields: Any) -> None:
        with self._cond:
            entry.update(fields)
            self._cond.notify_all()

    @property
    def requests(self) -> list[dict]:
        """A snapshot of the request log (the dicts are live: ``disconnected``/``completed`` update)."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def wait_for_request(self, pred: Callable[[dict], bool] = lambda e: True, timeout: float = 30.0) -> dict:
        """Block until a logged request satisfies ``pred``; returns it (TimeoutError otherwise)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for e in self._requests:
                    if pred(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no matching request reached the mock model")
                self._cond.wait(left)


if __name__ == "__main__":  # manual use: python tests/live/mockmodel.py [port]
    import sys

    m = MockModel(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(m.start(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        m.stop()
