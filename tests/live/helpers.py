"""Helpers for live tests that go through t3tui's own client, stream and store.

- ``LiveClient``: an ``OpencodeClient``, a ``Store`` and an ``EventStream`` feeding it, run as
  an asyncio task (``async with LiveClient(url, [dirs]) as lc``). It sends prompts and
  interrupts the way the app does (optimistic action, then the REST call), and checks the
  store's invariants after every single observation.
- ``wait_until(pred, timeout)``: poll a predicate (no fixed sleeps as assertions).
- ``StallProxy``: a TCP proxy on 127.0.0.1 that can stall the ``/global/event`` streams
  running through it (stop forwarding bytes without closing the connection).
- ``CountingTransport``: an httpx transport that records the path of every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from t3tui import observations
from t3tui.eventlog import EventLogWriter, summary
from t3tui.opencode.client import OpencodeClient, OpencodeError, ascending_id
from t3tui.opencode.stream import EventStream, store_targets
from t3tui.state.store import Store, Thread, Turn

TIMEOUT = 60.0


async def wait_until(
    predicate: Callable[[], Any],
    timeout: float = TIMEOUT,
    what: str | Callable[[], str] = "condition",
    interval: float = 0.02,
) -> Any:
    """Poll ``predicate`` until it is truthy; return its value, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout:g}s waiting for {detail}")
        await asyncio.sleep(interval)


class CountingTransport(httpx.AsyncBaseTransport):
    """Wraps a real transport and records ``(method, path)`` of every request it sends."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[tuple[str, str]] = []

    def count(self, path: str) -> int:
        return sum(1 for _, p in self.requests if p == path)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class LiveClient:
    """t3tui's client, store and event stream against one server, without the UI."""

    def __init__(
        self,
        url: str,
        directories: Iterable[str | Path] = (),
        *,
        password: str | None = None,
        watchdog: float = 25.0,
        log_path: str | Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        wait_open: bool = True,
    ) -> None:
        self.client = OpencodeClient(url, password=password, transport=transport)
        self.store = Store()
        self.directories = [str(d) for d in directories]
        self.writer = EventLogWriter(log_path) if log_path is not None else None
        self.observations: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.closed_reasons: list[str] = []
        self.wait_open = wait_open
        self.stream = EventStream(
            self.client,
            self.observe,
            store_targets(self.store, self.directories),
            watchdog=watchdog,
            backoff_initial=0.1,
            backoff_max=1.0,
        )
        self.task: asyncio.Task[None] | None = None
        self._prompted: set[str] = set()
        # Count finished resyncs. A local action made while a resync is in flight can be
        # overtaken by a snapshot fetched before it (see the report on the status race),
        # so tests act only once the first resync is done.
        self.resyncs = 0
        resync = self.stream.resync

        async def counted_resync() -> None:
            await resync()
            self.resyncs += 1

        self.stream.resync = counted_resync  # type: ignore[method-assign]

    # -- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> LiveClient:
        self.task = asyncio.create_task(self.stream.run())
        if self.wait_open:
            await self.wait_until(
                lambda: self.stream.state == "open" and self.resyncs >= 1, 15, "stream open and resynced"
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        # Best effort: do not leave a long mock run going on a shared server.
        for sid in self._prompted:
            th = self.store.threads.get(sid)
            if th is not None and th.active:
                with contextlib.suppress(OpencodeError):
                    await self.client.abort(sid, th.directory)
        self.stream.stop()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        await self.client.aclose()
        if self.writer is not None:
            self.writer.close()

    # -- observations -------------------------------------------------------------------

    def observe(self, obs: dict[str, Any]) -> None:
        """Like the app's ``observe``: log, apply, and check the invariants right away."""
        self.observations.append(obs)
        if self.writer is not None:
            self.writer.write(obs)
        rejected = self.store.rejected
        self.store.apply(obs)
        if self.store.rejected != rejected:
            self.violations.append(f"store rejected observation #{len(self.observations)}: {str(obs)[:300]}")
        if obs.get("stream") == "closed":
            self.closed_reasons.append(str(obs.get("reason")))
        for problem in self.store.check_invariants():
            self.violations.append(f"after observation #{len(self.observations)} ({_brief(obs)}): {problem}")

    def assert_invariants(self) -> None:
        assert self.store.check_invariants() == []
        assert self.violations == [], "\n".join(self.violations[:20])

    def describe(self) -> str:
        s = self.stream
        return (
            f"stream={s.state} connections={s.connections} last_error={s.last_error!r}\n{summary(self.store)}"
        )

    async def wait_until(
        self, predicate: Callable[[], Any], timeout: float = TIMEOUT, what: str = "condition"
    ) -> Any:
        return await wait_until(predicate, timeout, lambda: f"{what}\n--- store ---\n{self.describe()}")

    # -- queries ------------------------------------------------------------------------

    def thread(self, sid: str) -> Thread:
        return self.store.threads[sid]

    def turn(self, sid: str, mid: str) -> Turn:
        return self.store.threads[sid].turns[mid]

    # -- actions, the way the app does them ----------------------------------------------

    async def new_session(self, directory: str | Path) -> str:
        session = await self.client.create_session(str(directory))
        self.observe(
            observations.snapshot(
                "session",
                session.directory or str(directory),
                session.model_dump(mode="json", exclude_none=True),
            )
        )
        return session.id

    async def prompt(self, sid: str, text: str, mode: str = "fast") -> str:
        """Send a prompt (optimistic turn first, like the app); returns the turn id."""
        th = self.store.threads[sid]
        mid = ascending_id("msg")
        self._prompted.add(sid)
        self.observe(observations.prompt_sent(sid, mid, text, th.directory))
        try:
            await self.client.prompt_async(sid, th.directory, text, model=("mock", mode), message_id=mid)
        except OpencodeError as exc:
            self.observe(observations.prompt_refused(sid, mid, exc.message))
            raise
        return mid

    def interrupt_optimistic(self, sid: str) -> None:
        th = self.store.threads[sid]
        self.observe(observations.interrupt(sid, th.directory))

    async def interrupt_confirm(self, sid: str) -> None:
        th = self.store.threads[sid]
        try:
            await self.client.abort(sid, th.directory)
        except OpencodeError as exc:
            self.observe(observations.interrupt_answered(sid, exc.message))
            raise
        self.observe(observations.interrupt_answered(sid))

    async def interrupt(self, sid: str) -> None:
        self.interrupt_optimistic(sid)
        await self.interrupt_confirm(sid)


def _brief(obs: dict[str, Any]) -> str:
    if "event" in obs:
        payload = obs["event"].get("payload") or {}
        return f"event {payload.get('type')}"
    if "snapshot" in obs:
        return f"snapshot {obs['snapshot'].get('kind')}"
    if "action" in obs:
        return f"action {obs['action'].get('kind')}"
    return f"stream {obs.get('stream')}"


# ---------------------------------------------------------------------------------------
# a TCP proxy that can stall the event stream
# ---------------------------------------------------------------------------------------


class _Conn:
    def __init__(self) -> None:
        self.is_event_stream = False
        self.stalled = False
        self.tasks: list[asyncio.Task[None]] = []


class StallProxy:
    """A TCP proxy 127.0.0.1:<port> → the upstream server.

    A connection that carried ``GET /global/event`` is an event-stream connection.
    ``stall()`` makes every such connection open at that moment stop forwarding the
    server's bytes, without closing anything (a dead network path, as a client sees it).
    Later connections flow normally.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port: int | None = None
        self.server: asyncio.AbstractServer | None = None
        self.conns: list[_Conn] = []
        self.event_stream_opens = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> StallProxy:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for c in self.conns:
            for t in c.tasks:
                t.cancel()
        for c in self.conns:
            for t in c.tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.server.wait_closed(), 2)

    def stall(self) -> int:
        """Stall the event streams open now; returns how many."""
        n = 0
        for c in self.conns:
            if c.is_event_stream and not c.stalled and any(not t.done() for t in c.tasks):
                c.stalled = True
                n += 1
        return n

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn()
        self.conns.append(conn)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return

        async def client_to_server() -> None:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                if b"GET /global/event" in data:
                    conn.is_event_stream = True
                    self.event_stream_opens += 1
                up_writer.write(data)
                await up_writer.drain()

        async def server_to_client() -> None:
            while True:
                data = await up_reader.read(65536)
                if not data:
                    return
                if conn.stalled:
                    # Swallow everything from now on: the connection stays open, silent.
                    continue
                writer.write(data)
                await writer.drain()

        tasks = [asyncio.create_task(client_to_server()), asyncio.create_task(server_to_client())]
        conn.tasks = tasks
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            for w in (writer, up_writer):
                with contextlib.suppress(Exception):
                    w.close()
