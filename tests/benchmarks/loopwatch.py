"""How long the event loop was blocked: what a user sees as a stall."""

from __future__ import annotations

import asyncio
import time


class LoopWatch:
    """``watch = LoopWatch.start()`` ... ``await watch.stop()``, then ``watch.worst`` (s).

    A task sleeps 2 ms at a time and records how late it wakes up: ``worst``, and
    ``over(0.016)``, how many times the loop was blocked longer than a frame.
    """

    def __init__(self) -> None:
        self.worst = 0.0
        self.lates: list[float] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def start(cls) -> LoopWatch:
        watch = cls()
        watch._task = asyncio.create_task(watch._run())
        return watch

    async def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.002)
            late = time.perf_counter() - t0 - 0.002
            self.lates.append(late)
            self.worst = max(self.worst, late)

    def over(self, limit: float) -> int:
        """How many times the loop was blocked longer than ``limit`` seconds."""
        return sum(1 for late in self.lates if late > limit)

    async def stop(self) -> float:
        self._stop.set()
        if self._task is not None:
            await self._task
        return self.worst
