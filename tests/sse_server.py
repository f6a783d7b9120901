"""A tiny scriptable opencode stand-in for the stream tests.

A hand-written HTTP/1.1 server on 127.0.0.1 (``asyncio.start_server``): each
``GET /global/event`` plays the next :class:`Script` (connected event, some events,
then an ending: clean EOF, stall, connection reset, heartbeats…, or an error status);
the REST endpoints the resync calls answer JSON from :attr:`SSEServer.rest`. Every
request is recorded (path, query, Authorization header, time) in
:attr:`SSEServer.requests`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import socket
import struct
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

Ending = Literal["eof", "stall", "reset", "heartbeat"]

_ids = itertools.count(1)


def event_id() -> str:
    """Unique ascending ids, like opencode's ``evt_…``."""
    return f"evt_{next(_ids):012d}"


def envelope(
    kind: str, properties: dict[str, Any] | None = None, directory: str | None = None
) -> dict[str, Any]:
    """A ``/global/event`` envelope (PROTOCOL.md §3)."""
    env: dict[str, Any] = {"payload": {"id": event_id(), "type": kind, "properties": properties or {}}}
    if directory is not None:
        env["directory"] = directory
    return env


def connected() -> dict[str, Any]:
    return envelope("server.connected")


def heartbeat() -> dict[str, Any]:
    return envelope("server.heartbeat")


@dataclass
class Script:
    """What one ``/global/event`` connection does.

    ``events`` are sent after ``server.connected`` (dicts as ``data: <json>``, bytes and
    str as they are, for malformed frames), ``interval`` seconds apart; then ``ending``:
    ``eof`` closes cleanly, ``stall`` sends nothing and keeps the socket open until the
    client goes, ``reset`` aborts the TCP connection (RST), ``heartbeat`` sends a
    heartbeat every ``heartbeat_every`` seconds, for ``heartbeat_for`` seconds (forever
    if None) and then closes cleanly. A ``status`` other than 200 answers that status
    with ``body`` instead.
    """

    events: list[Any] = field(default_factory=list)
    ending: Ending = "eof"
    status: int = 200
    body: Any = None
    interval: float = 0.0
    heartbeat_every: float = 0.2
    heartbeat_for: float | None = None
    send_connected: bool = True
    # Hostile modes: extra response headers (say ``Content-Encoding``), every frame
    # gzip-compressed, and raw bytes sent after the events: ``flood`` again and again
    # until ``flood_total`` bytes went out (a giant line, a stream with no newline, a
    # gzip bomb), unless the client hangs up first.
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False
    flood: bytes = b""
    flood_total: int = 0


@dataclass
class Reply:
    """A REST answer other than 200: ``server.rest[path] = Reply(500, {...})``."""

    status: int
    body: Any = None
    raw: bytes | None = None  # sent as it is instead of ``body`` as JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a frozen server: longer than the client waits)
    gate: asyncio.Event | None = None  # answered once the test sets it (a wait on a condition, not a time)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    time: float
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


REASONS = {200: "OK", 401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error"}


class SSEServer:
    def __init__(self, scripts: list[Script] | None = None, *, default: Script | None = None) -> None:
        self.scripts: list[Script] = list(scripts or [])
        # When the scripts run out: stall (a connection that never ends by itself).
        self.default = default or Script(ending="stall")
        self.requests: list[Request] = []
        # REST answers: path -> JSON (a callable gets the Request and returns JSON).
        self.rest: dict[str, Any] = {
            "/session": [],
            "/session/status": {},
            "/permission": [],
            "/question": [],
            "/provider": {"all": [], "default": {}, "connected": []},
        }
        self.messages: dict[str, Any] = {}  # session id -> GET /session/{id}/message answer
        self.auth: tuple[str, str] | None = None  # required basic-auth credentials
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.event_connections = 0
        self.event_opened = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> SSEServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in list(self._writers):
            w.transport.abort()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)

    async def __aenter__(self) -> SSEServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- what the tests look at -----------------------------------------------------

    def paths(self, path: str | None = None) -> list[Request]:
        return [r for r in self.requests if path is None or r.path == path]

    def event_requests(self) -> list[Request]:
        return self.paths("/global/event")

    # -- HTTP -----------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length") or 0)
                content = await reader.readexactly(length) if length else b""
                parts = urlsplit(target)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                req = Request(
                    method, parts.path, query, headers.get("authorization"), time.monotonic(), content
                )
                self.requests.append(req)
                if self.auth is not None and req.authorization != _basic(*self.auth):
                    await self._respond(
                        writer,
                        401,
                        {"name": "Unauthorized"} if parts.path != "/global/event" else None,
                        close=parts.path == "/global/event",
                    )
                    if parts.path == "/global/event":
                        return
                    continue
                if parts.path == "/global/event":
                    await self._event_stream(reader, writer)
                    return
                await self._rest(writer, req)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # the server is closing
        finally:
            if task is not None:
                self._tasks.discard(task)
            self._writers.discard(writer)
            if not writer.transport.is_closing():
                writer.close()

    async def _respond(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        data: Any,
        close: bool = False,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = raw if raw is not None else b"" if data is None else json.dumps(data).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n"
            "Content-Type: application/json\r\n"
            f"{extra}"
            f"Content-Length: {len(body)}\r\n"
            f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()

    async def _rest(self, writer: asyncio.StreamWriter, req: Request) -> None:
        path = req.path
        if path.startswith("/session/") and path.endswith("/message"):
            sid = path[len("/session/") : -len("/message")]
            data = self.messages.get(sid, [])
        elif path in self.rest:
            data = self.rest[path]
        elif path.rsplit("/", 1)[0] + "/*" in self.rest:  # "/session/ses_1/message/*"
            data = self.rest[path.rsplit("/", 1)[0] + "/*"]
        else:
            await self._respond(writer, 404, {"name": "NotFound", "data": {"message": f"no route {path}"}})
            return
        if callable(data):
            data = data(req)
        if isinstance(data, Reply):
            if data.delay:
                await asyncio.sleep(data.delay)
            if data.gate is not None:
                await data.gate.wait()
            await self._respond(writer, data.status, data.body, raw=data.raw, headers=data.headers)
            return
        await self._respond(writer, 200, data)

    async def _event_stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = self.event_connections
        self.event_connections += 1
        script = self.scripts[n] if n < len(self.scripts) else self.default
        if script.status != 200:
            await self._respond(writer, script.status, script.body, close=True)
            return
        headers = dict(script.headers)
        if script.gzip:
            headers["Content-Encoding"] = "gzip"
        writer.write(
            b"HTTP/1.1 200 OK\r\n"
            b"Content-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache, no-transform\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
            + b"Transfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n"
        )
        gz = zlib.compressobj(wbits=31) if script.gzip else None

        async def send(frame: Any) -> None:
            if isinstance(frame, dict):
                raw = b"data: " + json.dumps(frame, separators=(",", ":")).encode() + b"\n\n"
            elif isinstance(frame, str):
                raw = frame.encode("utf-8", errors="surrogatepass")
            else:
                raw = frame
            if gz is not None:
                raw = gz.compress(raw) + gz.flush(zlib.Z_SYNC_FLUSH)
            writer.write(b"%x\r\n%s\r\n" % (len(raw), raw))
            await writer.drain()

        if script.send_connected:
            await send(connected())
        self.event_opened.set()
        for frame in script.events:
            if script.interval:
                await asyncio.sleep(script.interval)
            await send(frame)
        sent = 0
        while script.flood and sent < script.flood_total:
            writer.write(b"%x\r\n%s\r\n" % (len(script.flood), script.flood))
            await writer.drain()
            sent += len(script.flood)
        if script.ending == "heartbeat":
            loop = asyncio.get_running_loop()
            until = None if script.heartbeat_for is None else loop.time() + script.heartbeat_for
            while until is None or loop.time() < until:
                await asyncio.sleep(script.heartbeat_every)
                await send(heartbeat())
            script = Script(ending="eof")
        if script.ending == "eof":
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            writer.close()
        elif script.ending == "stall":
            # Nothing more; wait for the client to hang up.
            await reader.read()
        elif script.ending == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()


def gzip_bomb(inflated: int, byte: bytes = b"a") -> bytes:
    """A gzip stream of ``inflated`` bytes of ``byte``: about a thousandth on the wire."""
    z = zlib.compressobj(9, wbits=31)
    block = byte * (1024 * 1024)
    out = [z.compress(block) for _ in range(inflated // len(block))]
    out.append(z.flush())
    return b"".join(out)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def free_port() -> int:
    """A port nothing listens on (for connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
