"""The global event stream: connect, resync, read, and reconnect on its own.

``GET /global/event`` has no resume (PROTOCOL.md §2), so every (re)connect is followed
by a REST resync whose answers are handed on as snapshots. Everything the stream sees is
passed to ``sink`` as an observation in the event-log format, in the order it should be
applied: the store, the capture file and the app all consume the same thing.

The resync runs after the connection is open and before its events are read, so that
every event after the snapshots is newer than the connection: applying the buffered
events on top of the snapshots converges on the server's state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from t3tui import observations
from t3tui.opencode import jsonsafe
from t3tui.opencode.client import (
    AuthError,
    NotFoundError,
    OpencodeClient,
    OpencodeError,
    describe_transport_error,
    project_directories,
)
from t3tui.opencode.sse import MAX_EVENT, TooLarge, iter_events, read_body

log = logging.getLogger(__name__)

PAGE = 100  # threads per page of the listing of every project
# CPU seconds of events applied before the reader lets the UI run (a frame is 16 ms).
# CPU, not wall time: on a busy machine the process is preempted for tens of ms at a
# time, and a wall-clock budget then ran out after a single event: the reader applied
# one event per frame painted, and a 2,000-token burst took minutes to reach the screen.
SLICE = 0.008
CHECK_EVERY = 16  # events between two looks at the CPU clock (each look costs ~1.5 µs)

StreamState = Literal["connecting", "open", "reconnecting", "auth_failed", "stopped"]
Sink = Callable[[dict[str, Any]], None]


@dataclass
class ResyncTargets:
    """What to fetch after a connect: directories, and sessions with their directory."""

    directories: list[str] = field(default_factory=list)
    sessions: list[tuple[str, str | None]] = field(default_factory=list)
    list_sessions: bool = True
    providers: bool = False
    # The first page of every project's threads (the sidebar shows them all), beside
    # the listings of ``directories``.
    every_project: bool = False


class StreamTimeout(Exception):
    """No frame (not even a heartbeat) within the watchdog period."""


class EventStream:
    """Reads ``/global/event`` until stopped, reconnecting with capped backoff.

    ``state``, ``attempt``, ``next_retry_in`` and ``last_error`` say what it is doing, for
    the status line. A 401 stops the loop in ``auth_failed`` (no retry storm) until
    :meth:`retry_now` is called, for instance after the user typed a new password.
    """

    def __init__(
        self,
        client: OpencodeClient,
        sink: Sink,
        targets: Callable[[], ResyncTargets],
        *,
        watchdog: float = 25.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
        healthy_after: float = 10.0,
        on_state: Callable[[EventStream], None] | None = None,
    ) -> None:
        self.client = client
        self.sink = sink
        self.targets = targets
        self.watchdog = watchdog
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.healthy_after = healthy_after
        self.on_state = on_state
        self.state: StreamState = "connecting"
        self.attempt = 0
        self.connections = 0
        self.next_retry_in: float | None = None
        self.next_retry_at: float | None = None
        self.last_error: str | None = None
        # Frames that could not be used (not JSON, too deep to keep, or the sink failed
        # on them): skipped one by one, counted, and the stream goes on.
        self.skipped = 0
        self.last_skip: str | None = None
        self.max_event = MAX_EVENT
        self._wake = asyncio.Event()
        self._resync_wanted = asyncio.Event()
        self._stopping = False
        self._conn: asyncio.Future[None] | None = None
        # Where the listing of every project's threads goes on (None: nothing older),
        # set by each resync; more_threads() reads the next page.
        self.older: int | None = None

    # -- control ------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        # An open connection sits in a read that heartbeats keep feeding: end it too.
        conn = self._conn
        if conn is not None and not conn.done():
            conn.cancel()

    @property
    def stopping(self) -> bool:
        """stop() was called: the loop ends, or has ended, on purpose."""
        return self._stopping

    def retry_now(self) -> None:
        """Skip the backoff wait (or leave ``auth_failed``) and connect again."""
        self.attempt = 0
        self._wake.set()

    def request_resync(self) -> None:
        """Resync as soon as the events read so far are applied (after a dispose, say).

        The stream runs it itself, between two events, so that no event is applied
        while its snapshots are fetched: a resync called from the side could apply a
        status older than events already applied and settle a turn that runs.
        """
        self._resync_wanted.set()

    def crashed(self, reason: str) -> None:
        """run() ended by surprise (its task failed): the stream is lost, say so.

        Whoever ran it starts run() again; that connects and resyncs as usual.
        """
        self._conn = None
        self.last_error = reason
        self._emit_closed(reason)
        self._set_state("reconnecting")

    def retry_in(self) -> float | None:
        """Seconds until the next connection attempt, while waiting for one."""
        if self.next_retry_at is None:
            return None
        return max(0.0, self.next_retry_at - asyncio.get_event_loop().time())

    def _set_state(self, state: StreamState) -> None:
        self.state = state
        if self.on_state is not None:
            self.on_state(self)

    # -- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            started = loop.time()
            # Cleared before the attempt, not after it fails, so that a retry_now() made
            # meanwhile (or from on_state) is not lost.
            self._wake.clear()
            try:
                self._set_state("connecting" if self.connections == 0 else "reconnecting")
                self._conn = asyncio.ensure_future(self._connect_once())
                if self._stopping:  # stop() from on_state, before there was a task to cancel
                    self._conn.cancel()
                try:
                    await self._conn
                finally:
                    self._conn = None
                reason = "server closed the stream"
            except AuthError as exc:
                self.last_error = exc.message
                self._emit_closed("unauthorized")
                self._set_state("auth_failed")
                await self._wake.wait()
                continue
            except StreamTimeout as exc:
                reason = str(exc) or f"no event for {self.watchdog:g}s"
            except OpencodeError as exc:
                reason = exc.message
            except httpx.HTTPError as exc:
                reason = describe_transport_error(exc, self.client.base_url)
            except TooLarge as exc:
                reason = str(exc)
                log.warning("stream: %s; reconnecting", reason)
            except asyncio.CancelledError:
                self._emit_closed("stopped")
                task = asyncio.current_task()
                if self._stopping and task is not None and not task.cancelling():
                    break  # stop() cancelled the connection; run() itself was not cancelled
                self._set_state("stopped")
                raise
            except Exception as exc:
                # A bug or a surprise in reading or applying: never a dead reader that
                # looks alive. Say so, reconnect and resync like after any other loss.
                log.exception("stream reader failed")
                reason = f"the event reader failed ({exc.__class__.__name__}: {exc})"
            self.last_error = reason
            self._emit_closed(reason)
            if self._stopping:
                break
            if loop.time() - started >= self.healthy_after and self._was_healthy:
                self.attempt = 0
            self.attempt += 1
            delay = min(self.backoff_max, self.backoff_initial * 2 ** (self.attempt - 1))
            delay *= 0.8 + 0.4 * random.random()
            self.next_retry_in = delay
            self.next_retry_at = loop.time() + delay
            self._set_state("reconnecting")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self.next_retry_in = None
            self.next_retry_at = None
        self._set_state("stopped")

    _open = False
    _was_healthy = False

    def _emit_closed(self, reason: str) -> None:
        if self._open:
            self._open = False
            self._deliver(observations.stream_closed(reason))

    def _deliver(self, obs: dict[str, Any]) -> bool:
        """Hand one observation on; a sink that fails on it costs that one only."""
        try:
            self.sink(obs)
        except Exception as exc:
            if self._skip(f"{exc.__class__.__name__}: {exc}"):
                log.exception("an observation could not be applied")
            return False
        return True

    def _skip(self, why: str) -> bool:
        """Count a skipped frame; whether to log it (the first ones, then one in 1,000:
        a bug that fails every event must not write 10,000 tracebacks a second)."""
        self.skipped += 1
        self.last_skip = why
        return self.skipped <= 20 or self.skipped % 1000 == 0

    def _frame(self, data: str) -> None:
        """One event's data: decoded (nesting cut at a safe depth) and handed on."""
        try:
            event = jsonsafe.loads(data)
        except ValueError:
            if self._skip(f"a frame that is not JSON ({len(data)} bytes)"):
                log.warning("skipped a frame that is not JSON (%d bytes)", len(data))
            return
        if not isinstance(event, dict):
            self._skip("a frame that is not an event object")
            return
        self._was_healthy = True
        self._deliver(observations.event(event))

    async def _connect_once(self) -> None:
        self._was_healthy = False
        http = self.client.http
        timeout = httpx.Timeout(10.0, read=None)
        # read=None lets a quiet stream live (the watchdog below judges it), but it would
        # also let the wait for the response headers hang forever: opencode accepts
        # connections for a moment while starting up and never answers them.
        answer_within = min(self.watchdog, 10.0)
        # No compression asked for: nothing to inflate, so nothing to bomb (a server
        # that compresses anyway is inflated in bounded steps, see t3tui.opencode.sse).
        headers = {"accept": "text/event-stream", "accept-encoding": "identity", "cache-control": "no-cache"}
        async with contextlib.AsyncExitStack() as stack:
            try:
                async with asyncio.timeout(answer_within):
                    resp = await stack.enter_async_context(
                        http.stream("GET", "/global/event", headers=headers, timeout=timeout)
                    )
            except TimeoutError as exc:
                raise StreamTimeout(f"the server did not answer within {answer_within:g}s") from exc
            if resp.status_code == 401:
                what = "refused the password" if self.client.has_password else "needs a password"
                raise AuthError(f"the server {what} (HTTP 401)", 401)
            if not resp.is_success:
                async with asyncio.timeout(answer_within):
                    body = await read_body(resp, 1024 * 1024)
                self.client.decode(resp, body)
            self._open = True
            self.connections += 1
            self._deliver(observations.stream_open())
            self._set_state("open")
            wanted = self._resync_wanted
            wanted.clear()  # this resync covers whatever was asked before
            await self.resync()
            batches = iter_events(resp, self.max_event).__aiter__()
            frame = self._frame
            loop = asyncio.get_running_loop()
            now = loop.time
            cpu = time.thread_time
            # One watchdog deadline per connection, pushed forward at most once a second
            # (not a timer per event: at 10,000 events/s that was a hot spot), and a
            # yield to the event loop after SLICE of CPU spent on events, so that a burst
            # already buffered never blocks the UI for long, and still gets applied
            # quickly when frames are slow to paint.
            # The next batch is read by a task of its own, so that a resync asked for
            # meanwhile (request_resync) does not wait for the next event to arrive.
            next_batch: asyncio.Future[list[str]] | None = None
            waiter: asyncio.Future[bool] | None = None
            try:
                push_every = min(1.0, self.watchdog / 4)
                async with asyncio.timeout(self.watchdog) as deadline:
                    pushed = now()
                    count = 0
                    while True:
                        if wanted.is_set():
                            wanted.clear()
                            await self.resync()
                            pushed = now()
                            deadline.reschedule(pushed + self.watchdog)
                        if next_batch is None:
                            next_batch = asyncio.ensure_future(batches.__anext__())
                        if not next_batch.done():
                            if waiter is None or waiter.done():
                                waiter = asyncio.ensure_future(wanted.wait())
                            await asyncio.wait((next_batch, waiter), return_when=asyncio.FIRST_COMPLETED)
                            if not next_batch.done():
                                continue  # a resync was asked for
                        try:
                            batch = next_batch.result()
                        except StopAsyncIteration:
                            return
                        finally:
                            next_batch = None
                        t = now()
                        if t - pushed > push_every:
                            deadline.reschedule(t + self.watchdog)
                            pushed = t
                        # The wait for this batch let the UI run (on this thread, so its
                        # CPU counts on the clock too): a new slice starts.
                        slice_end = cpu() + SLICE
                        for data in batch:
                            if data:
                                frame(data)
                            count += 1
                            if count >= CHECK_EVERY:
                                count = 0
                                if cpu() > slice_end:
                                    await asyncio.sleep(0)
                                    slice_end = cpu() + SLICE
            except TimeoutError as exc:
                raise StreamTimeout() from exc
            finally:
                for pending in (next_batch, waiter):
                    if pending is not None and not pending.done():
                        pending.cancel()

    async def resync(self) -> None:
        """Fetch what the stream cannot replay and hand it on as snapshots."""
        targets = self.targets()
        client = self.client
        seen: set[str] = set()
        dirs = [d for d in targets.directories if not (d in seen or seen.add(d))]  # type: ignore[func-returns-value]

        async def fetch(kind: str, directory: str | None, coro: Any, session_id: str | None = None) -> None:
            try:
                data = await coro
            except AuthError:
                raise
            except OpencodeError as exc:
                log.warning("resync %s for %s failed: %s", kind, directory, exc.message)
                return
            self._deliver(observations.snapshot(kind, directory, data, session_id))

        # Status first: it decides which threads are still running.
        for d in dirs:
            if targets.list_sessions:
                await fetch("sessions", d, client.raw_sessions(d))
            await fetch("status", d, client.raw_status(d))
        sessions = [(s, d) for s, d in targets.sessions]
        results = await asyncio.gather(
            *(client.raw_messages(s, d) for s, d in sessions), return_exceptions=True
        )
        for (sid, d), result in zip(sessions, results, strict=True):
            if isinstance(result, AuthError):
                raise result
            if isinstance(result, BaseException):
                log.warning("resync of %s failed: %s", sid, result)
                continue
            self._deliver(observations.snapshot("messages", d, result, sid))
        if targets.every_project:
            await self._every_project()
        for d in dirs:
            await fetch("permissions", d, client.raw_permissions(d))
            await fetch("questions", d, client.raw_questions(d))
        if targets.providers:
            await fetch("providers", None, client.raw_providers())

    async def _every_project(self) -> None:
        """The newest threads across the server's projects. A server without the
        cross-project listing (an older opencode, a fork) gives each project's instead
        (``GET /project``, then each worktree's listing, its subdirectories included);
        the directory-less project ``/`` is left out there, as its listing would start
        an instance at the filesystem root."""
        client = self.client
        try:
            page, self.older = await client.raw_session_page(limit=PAGE)
        except NotFoundError:
            self.older = None
        except AuthError:
            raise
        except OpencodeError as exc:
            log.warning("the listing of every project failed: %s", exc.message)
            return
        else:
            self._deliver(observations.snapshot("sessions", None, page))
            return
        try:
            projects = await client.raw_projects()
        except AuthError:
            raise
        except OpencodeError as exc:
            log.warning("the list of projects failed: %s", exc.message)
            return
        for worktree in project_directories(projects):
            try:
                data = await client.raw_sessions(worktree, project=True, limit=PAGE)
            except AuthError:
                raise
            except OpencodeError as exc:
                log.warning("the threads of project %s failed: %s", worktree, exc.message)
                continue
            self._deliver(observations.snapshot("sessions", None, data))

    async def more_threads(self) -> int:
        """The next page of every project's threads (after the newest a resync read);
        how many it held."""
        if self.older is None:
            return 0
        page, self.older = await self.client.raw_session_page(limit=PAGE, cursor=self.older)
        self._deliver(observations.snapshot("sessions", None, page))
        return len(page) if isinstance(page, list) else 0


def store_targets(
    store: Any,
    extra_dirs: Iterable[str] = (),
    viewed: Callable[[], Iterable[str]] = tuple,
    every_project: bool = False,
) -> Callable[[], ResyncTargets]:
    """Resync targets drawn from a store: its directories, and the threads that matter.

    Those are the threads that were running (their fate is what the resync settles) and
    the ones on screen. ``every_project``: the newest threads of every project too.
    """

    def targets() -> ResyncTargets:
        dirs = list(dict.fromkeys([*extra_dirs, *store.directories]))
        wanted = {th.id for th in store.threads.values() if th.active or th.open}
        wanted.update(s for s in viewed() if s)
        threads = store.threads
        sessions = [(sid, threads[sid].directory if sid in threads else None) for sid in sorted(wanted)]
        return ResyncTargets(directories=dirs, sessions=sessions, every_project=every_project)

    return targets
