"""What the stream tests share: a recording sink, a stream harness, and waits on conditions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sse_server import envelope

from t3tui.opencode.client import OpencodeClient
from t3tui.opencode.stream import EventStream, ResyncTargets

DIR_A = "/work/project-a"
FAST = {"watchdog": 0.5, "backoff_initial": 0.05, "backoff_max": 0.2, "healthy_after": 0.3}


class Recorder:
    """The sink and the on_state callback: everything seen, with the time it was seen."""

    def __init__(self, then: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.obs: list[dict[str, Any]] = []
        self.times: list[float] = []
        self.states: list[dict[str, Any]] = []
        self.then = then

    def sink(self, obs: dict[str, Any]) -> None:
        self.obs.append(obs)
        self.times.append(time.monotonic())
        if self.then is not None:
            self.then(obs)

    def on_state(self, stream: EventStream) -> None:
        self.states.append(
            {
                "state": stream.state,
                "attempt": stream.attempt,
                "next_retry_in": stream.next_retry_in,
                "last_error": stream.last_error,
                "t": time.monotonic(),
            }
        )

    # views
    def streams(self) -> list[dict[str, Any]]:
        return [o for o in self.obs if "stream" in o]

    def opens(self) -> int:
        return sum(1 for o in self.obs if o.get("stream") == "open")

    def closed(self) -> list[dict[str, Any]]:
        return [o for o in self.obs if o.get("stream") == "closed"]

    def snapshots(self) -> list[dict[str, Any]]:
        return [o["snapshot"] for o in self.obs if "snapshot" in o]

    def event_types(self) -> list[str]:
        return [o["event"]["payload"]["type"] for o in self.obs if "event" in o]

    def segments(self) -> list[list[dict[str, Any]]]:
        """The observations split at each ``open`` (one list per connection)."""
        segs: list[list[dict[str, Any]]] = []
        for o in self.obs:
            if o.get("stream") == "open":
                segs.append([])
            if segs:
                segs[-1].append(o)
        return segs


async def finished(task: asyncio.Task[Any], timeout: float) -> None:
    """Wait for ``task`` to end and re-raise what it raised; fail (never hang) if it does not.

    Unlike ``wait_for``, this neither cancels the task on timeout nor waits for that
    cancellation to be honoured, so a stream that ignores cancellation fails the test.
    """
    done, _ = await asyncio.wait({task}, timeout=timeout)
    assert done, f"run() did not end within {timeout}s"
    task.result()


async def until(cond: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def fixed(directories: list[str], sessions: list[tuple[str, str | None]] = ()) -> Callable[[], ResyncTargets]:  # type: ignore[assignment]
    return lambda: ResyncTargets(directories=list(directories), sessions=list(sessions))


class Harness:
    """Runs streams as tasks and tears them down (and their clients) after the test."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[None]] = []
        self.streams: list[EventStream] = []
        self.clients: list[OpencodeClient] = []

    def client(self, url: str, **kw: Any) -> OpencodeClient:
        c = OpencodeClient(url, **kw)
        self.clients.append(c)
        return c

    def start(
        self,
        client: OpencodeClient,
        rec: Recorder,
        targets: Callable[[], ResyncTargets],
        sink: Callable[[dict[str, Any]], None] | None = None,
        **kw: Any,
    ) -> tuple[EventStream, asyncio.Task[None]]:
        opts = {**FAST, **kw}
        stream = EventStream(client, sink or rec.sink, targets, on_state=rec.on_state, **opts)
        task = asyncio.create_task(stream.run())
        self.streams.append(stream)
        self.tasks.append(task)
        return stream, task

    async def close(self) -> None:
        for s in self.streams:
            s.stop()
        for t in self.tasks:
            t.cancel()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=2.0)
        for c in self.clients:
            await c.aclose()


def ev(n: int, directory: str = DIR_A) -> dict[str, Any]:
    """A harmless numbered event (the stream does not care what it is)."""
    return envelope("test.event", {"n": n}, directory)


def numbers(rec: Recorder) -> list[int]:
    return [
        o["event"]["payload"]["properties"]["n"]
        for o in rec.obs
        if "event" in o and o["event"]["payload"]["type"] == "test.event"
    ]
