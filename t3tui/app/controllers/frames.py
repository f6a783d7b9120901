"""The repaint: at most 30 frames a second from what the stores say changed, and asleep when nothing does.

At 10,000 events a second, a widget must never repaint per event: observations go to
the store, and a timer paints what changed. A complete part or a status change is
painted at once instead of at the next tick; the timer pauses itself after half a second
with nothing to paint, so an idle t3tui does not wake 30 times a second.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual.timer import Timer

if TYPE_CHECKING:
    from t3tui.app.app import T3App

FRAME = 1 / 30
# While the process is CPU-bound (a burst whose paints cost more than a frame), the timer
# paints only once the CPU spent since the last paint is at most BUSY of the time gone by,
# or MAX_GAP has passed: each paint then shows more of the text, and the reader is not
# starved of the loop (paints at 30 a second took 2 s of CPU for a 2,000-token burst in a
# terminal, and the last token came 2 s after the last delta).
BUSY = 0.5
MAX_GAP = 0.25
IDLE_FRAMES = 15  # frames with nothing to paint before the timer pauses
PROMPT_REPAINT = frozenset({"message.part.updated", "message.updated", "session.status", "session.idle"})


class Frames:
    """Paints the main screen from the stores, on a timer that sleeps while nothing changes."""

    def __init__(self, app: T3App) -> None:
        self.app = app
        self._timer: Timer | None = None
        self._paused = False
        self._idle = 0
        self._soon = False
        self._wanted = True  # the first frame paints whatever the stores hold
        self._painted = (0.0, 0.0)  # when the last frame painted: wall clock, process CPU

    def start(self) -> None:
        self._timer = self.app.set_interval(FRAME, self._tick)
        self.app.set_interval(1.0, self.second)

    def request(self) -> None:
        """Something changed: repaint on the next frame (and wake the timer)."""
        self._wanted = True
        if self._timer is not None and self._paused:
            self._paused = False
            self._timer.resume()

    def observed(self, obs: dict[str, Any]) -> None:
        if self._paused:
            self.request()
        event = obs.get("event")
        payload = event.get("payload") if isinstance(event, dict) else None
        if not self._soon and isinstance(payload, dict) and payload.get("type") in PROMPT_REPAINT:
            # A part or message is complete, or a status changed: show it now rather
            # than at the next tick (deltas, the bulk of a burst, wait for the tick).
            self._soon = True
            self.app.call_later(self._frame_now)

    async def _frame_now(self) -> None:
        self._soon = False
        await self.frame()

    async def _tick(self) -> None:
        """The timer's frame, put off while the process is CPU-bound (see BUSY)."""
        now, cpu = time.perf_counter(), time.process_time()
        since = now - self._painted[0]
        if since < MAX_GAP and cpu - self._painted[1] > BUSY * since:
            return
        await self.frame()

    async def frame(self) -> None:
        """Paint what changed since the last frame (nothing, if nothing did)."""
        app = self.app
        links = app.links
        if not (self._wanted or any(link.store.has_changes for link in links)) or not app.main.ready:
            self._idle += 1
            if self._idle > IDLE_FRAMES and self._timer is not None and not self._paused:
                self._paused = True
                self._timer.pause()
            return
        self._idle = 0
        self._wanted = False
        self._painted = (time.perf_counter(), time.process_time())
        dirty: set[str] = set()
        for link in links:
            dirty |= link.store.take_changes() or set()
        threads = app.threads
        threads.track_unseen(dirty)
        await threads.follow(dirty)
        threads.rebuild_sidebar(dirty)
        if app.subagents.changed(dirty) or threads.current_id in dirty:
            await threads.sync_view()
        if not app.main.ready:
            return  # the app quit while the thread was drawn: its widgets are gone
        app.requests.sync()
        app.work.changed(dirty)
        app.attention.frame(dirty)  # signals, pending requests, the cockpit
        app.sync_footer()
        app.status.sync()
        app.agents.dress()  # a thread's agent shows once its history says which
        app.connection.sync()
        app.providers.tick()

    def second(self) -> None:
        """Once a second: elapsed times, countdowns, and what waits on time alone."""
        app = self.app
        if not app.main.ready:
            return
        app.threads.rebuild_sidebar(set())  # nothing moved: only what needs the user, and the times
        app.main.sidebar.tick()
        app.main.thread_view.tick()
        app.status.sync()
        app.connection.sync()
        # A failed dispose is retried on a timer: nothing else may change meanwhile.
        app.providers.tick()
        app.interrupt.expire()
