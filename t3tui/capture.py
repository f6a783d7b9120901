"""``t3tui capture``: record every observation of a live server into an event log.

It runs the same stream, resync and store as the app (the store only chooses what to
resync), so a capture replays to the state the app would have shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from t3tui.client import OpencodeClient
from t3tui.eventlog import EventLogWriter
from t3tui.store import Store
from t3tui.stream import EventStream, store_targets


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
    store = Store()
    writer = EventLogWriter(output)

    def sink(obs: dict[str, Any]) -> None:
        writer.write(obs)
        store.apply(obs)

    def on_state(stream: EventStream) -> None:
        if quiet:
            return
        if stream.state == "open":
            print(f"capturing {url} -> {output}", file=sys.stderr)
        elif stream.state == "reconnecting" and stream.next_retry_in is not None:
            print(
                f"stream lost ({stream.last_error}); reconnecting in {stream.next_retry_in:.1f}s "
                f"(attempt {stream.attempt})",
                file=sys.stderr,
            )
        elif stream.state == "auth_failed":
            print(f"error: {stream.last_error}; set OPENCODE_SERVER_PASSWORD or --password", file=sys.stderr)

    stream = EventStream(client, sink, store_targets(store, directories or ()), on_state=on_state)
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(stream.run())
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    waiter = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        stream.stop()
        task.cancel()
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await client.aclose()
        writer.close()
    if not quiet:
        print(f"wrote {writer.lines} lines to {output}", file=sys.stderr)
    return 0
