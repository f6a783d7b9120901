"""``t3tui capture``: record every observation of a live server into an event log.

It runs the same stream, resync and store as the app (the store only chooses what to
resync), so a capture replays to the state the app would have shown.

A capture never stops silently: when the log cannot be written (disk full, I/O error)
or the stream fails outright, it stops, says why and exits with 1. It never prints a
password: the URL it names has no userinfo, and every message is redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from t3tui.eventlog import EventLogWriter
from t3tui.logs import RedactingFormatter, redact_text
from t3tui.opencode.client import OpencodeClient
from t3tui.opencode.stream import EventStream, store_targets
from t3tui.state.store import Store


def _say(text: str) -> None:
    print(redact_text(text), file=sys.stderr, flush=True)


async def capture(
    url: str,
    output: Path,
    *,
    password: str | None = None,
    username: str | None = None,
    directories: list[str] | None = None,
    quiet: bool = False,
) -> int:
    client = OpencodeClient(url, password=password, username=username)
    shown = client.base_url  # without userinfo: never the password
    try:
        writer = EventLogWriter(output)
    except BaseException:
        await client.aclose()
        raise
    store = Store()
    stopping = asyncio.Event()
    failures: list[str] = []

    def sink(obs: dict[str, Any]) -> None:
        if writer.error is not None:
            return
        writer.write(obs)
        if writer.error is not None:
            failures.append(writer.error)
            stopping.set()
            return
        store.apply(obs)

    def on_state(stream: EventStream) -> None:
        if quiet:
            return
        if stream.state == "open":
            _say(f"capturing {shown} -> {output}")
        elif stream.state == "reconnecting" and stream.next_retry_in is not None:
            _say(
                f"stream lost ({stream.last_error}); reconnecting in {stream.next_retry_in:.1f}s "
                f"(attempt {stream.attempt})"
            )
        elif stream.state == "auth_failed":
            _say(f"error: {stream.last_error}; set OPENCODE_SERVER_PASSWORD, --password-file or --password")

    # What the stream logs (skipped frames, failed resyncs) goes to stderr, redacted.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("t3tui: %(levelname)s %(message)s"))
    handler.setLevel(logging.CRITICAL if quiet else logging.WARNING)
    logging.getLogger().addHandler(handler)
    stream = EventStream(client, sink, store_targets(store, directories or ()), on_state=on_state)
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(stream.run())
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    waiter = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        stream.stop()
        waiter.cancel()
        if task.done():
            if not task.cancelled() and task.exception() is not None:
                exc = task.exception()
                failures.append(f"the event stream failed: {exc.__class__.__name__}: {exc}")
        else:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await client.aclose()
        writer.close()
        logging.getLogger().removeHandler(handler)
    if writer.error is not None and writer.error not in failures:
        failures.append(writer.error)
    if not quiet:
        _say(f"wrote {writer.lines} lines to {output}")
    for failure in failures:
        _say(f"error: {failure}; the capture stopped")
    return 1 if failures else 0
