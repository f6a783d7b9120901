"""A recording HTTP reverse proxy on loopback, for live tests that must see the wire.

``RecordingProxy(upstream_url)`` listens on 127.0.0.1 and forwards every request to the
upstream server (a real ``opencode serve``), streaming the answer back, server-sent events
included. Each request is recorded (``.requests``: method, path, query, body, time, and
whether it was forwarded). Tests can:

- ``answer(method, path, status, body, times=1)``: answer matching requests here instead of
  forwarding them (a scripted failure, a server that defers its dispose…);
- ``inject(envelope)``: write one SSE frame into every ``/global/event`` stream running
  through the proxy, between two whole upstream frames.

The body of every answer is re-framed with ``Transfer-Encoding: chunked``; upstream
``/global/event`` bytes are forwarded frame by frame (``data: …\\n\\n``), so an injected frame
never lands inside another one. Requests to the upstream ask for ``identity`` encoding.
Everything stays in memory: nothing is written to disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "content-encoding",
}


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    body: bytes
    time: float  # time.time() when the request arrived
    forwarded: bool = True
    status: int | None = None

    @property
    def line(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class _Canned:
    method: str
    path: str
    status: int
    body: Any
    times: int | None


@dataclass
class _Stream:
    writer: asyncio.StreamWriter
    injected: list[bytes] = field(default_factory=list)


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class RecordingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.port: int | None = None
        self.requests: list[Recorded] = []
        self._canned: list[_Canned] = []
        self._streams: list[_Stream] = []
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.http = httpx.AsyncClient(
            base_url=self.upstream, timeout=httpx.Timeout(30.0, read=None), trust_env=False
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> RecordingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.http.aclose()

    # -- what tests use ---------------------------------------------------------------

    def answer(self, method: str, path: str, status: int, body: Any, times: int | None = 1) -> None:
        """Answer the next ``times`` (None: every) ``method path`` requests here."""
        self._canned.append(_Canned(method.upper(), path, status, body, times))

    def inject(self, envelope: dict[str, Any]) -> int:
        """Write one ``data:`` frame into every open ``/global/event`` stream; returns how many."""
        frame = b"data: " + json.dumps(envelope, separators=(",", ":")).encode() + b"\n\n"
        n = 0
        for stream in list(self._streams):
            if stream.writer.is_closing():
                continue
            stream.writer.write(_chunk(frame))
            stream.injected.append(frame)
            n += 1
        return n

    @property
    def event_streams(self) -> int:
        return sum(1 for s in self._streams if not s.writer.is_closing())

    def seen(self, method: str, path: str, *, forwarded: bool | None = True) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.method == method.upper()
            and r.path == path
            and (forwarded is None or r.forwarded == forwarded)
        ]

    def index(self, method: str, path: str, after: int = -1) -> int | None:
        """Position in ``requests`` of the first ``method path`` after position ``after``."""
        for i, r in enumerate(self.requests):
            if i > after and r.method == method.upper() and r.path == path:
                return i
        return None

    def lines(self) -> list[str]:
        return [r.line + ("" if r.forwarded else " (answered by the proxy)") for r in self.requests]

    # -- plumbing ---------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers: list[tuple[str, str]] = []
                for line in lines[1:]:
                    if not line:
                        continue
                    name, _, value = line.partition(":")
                    headers.append((name.strip(), value.strip()))
                lower = {k.lower(): v for k, v in headers}
                if lower.get("transfer-encoding", "").lower() == "chunked":
                    body = await self._read_chunked(reader)
                else:
                    body = await reader.readexactly(int(lower.get("content-length") or 0))
                parts = urlsplit(target)
                rec = Recorded(method.upper(), parts.path, parts.query, body, time.time())
                self.requests.append(rec)
                canned = self._match(rec)
                if canned is not None:
                    rec.forwarded = False
                    rec.status = canned.status
                    payload = json.dumps(canned.body).encode()
                    writer.write(
                        b"HTTP/1.1 %d Scripted\r\ncontent-type: application/json\r\n"
                        b"content-length: %d\r\n\r\n%s" % (canned.status, len(payload), payload)
                    )
                    await writer.drain()
                    continue
                keep_open = await self._forward(rec, target, headers, writer)
                if not keep_open:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            # Closing the proxy: end quietly (asyncio logs handler tasks that end cancelled).
            return
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        out = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return out
            out += await reader.readexactly(size)
            await reader.readexactly(2)

    def _match(self, rec: Recorded) -> _Canned | None:
        for canned in self._canned:
            if canned.method == rec.method and canned.path == rec.path and canned.times != 0:
                if canned.times is not None:
                    canned.times -= 1
                return canned
        return None

    async def _forward(
        self, rec: Recorded, target: str, headers: list[tuple[str, str]], writer: asyncio.StreamWriter
    ) -> bool:
        up_headers = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP | {"host", "accept-encoding"}]
        up_headers.append(("accept-encoding", "identity"))
        request = self.http.build_request(rec.method, target, headers=up_headers, content=rec.body or None)
        try:
            response = await self.http.send(request, stream=True)
        except httpx.HTTPError as exc:
            payload = json.dumps({"name": "ProxyError", "data": {"message": str(exc)}}).encode()
            rec.status = 502
            writer.write(
                b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: %d\r\n\r\n%s" % (len(payload), payload)
            )
            await writer.drain()
            return True
        rec.status = response.status_code
        sse = response.headers.get("content-type", "").startswith("text/event-stream")
        head = [f"HTTP/1.1 {response.status_code} {response.reason_phrase or 'OK'}"]
        head += [f"{k}: {v}" for k, v in response.headers.multi_items() if k.lower() not in HOP_BY_HOP]
        if response.status_code in (204, 304) or rec.method == "HEAD" or response.status_code < 200:
            # No body may follow (prompt_async answers 204): no framing either.
            await response.aclose()
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            await writer.drain()
            return True
        head.append("transfer-encoding: chunked")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        stream = _Stream(writer) if sse and rec.path == "/global/event" else None
        if stream is not None:
            self._streams.append(stream)
        try:
            buffer = b""
            async for piece in response.aiter_raw():
                if not sse:
                    writer.write(_chunk(piece))
                else:
                    buffer += piece
                    cut = buffer.rfind(b"\n\n")
                    if cut < 0:
                        continue
                    whole, buffer = buffer[: cut + 2], buffer[cut + 2 :]
                    writer.write(_chunk(whole))
                await writer.drain()
            if buffer:
                writer.write(_chunk(buffer))
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        finally:
            await response.aclose()
            if stream is not None:
                self._streams.remove(stream)
        return True
