"""Client memory against a hostile server: peak RSS of a process that reads the stream.

Issue 11 measured, before the caps: one 500 MB line -> 1.67 GB, 1.5 GB with no newline
-> 1.9 GB, a gzip bomb of 3.2 MB on the wire -> 1.7 GB. Each case here runs the real
``EventStream`` in a fresh child process against the scriptable server of the tests,
until the stream gives up on that connection, and prints the child's peak RSS and the
reason it gave. A real-sized large event (a 1.5 MB final text part) must still pass.

    python tests/benchmarks/bench_hostile_memory.py
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from sse_server import Script, SSEServer, envelope, gzip_bomb  # noqa: E402

MB = 1024 * 1024

CHILD = r"""
import asyncio, json, logging, resource, sys
logging.disable()
sys.path.insert(0, sys.argv[2])
from t3tui.opencode.client import OpencodeClient
from t3tui.opencode.stream import EventStream, ResyncTargets

async def main():
    seen = {"events": 0, "largest": 0, "reason": None}
    client = OpencodeClient(sys.argv[1])
    stream = None
    def sink(obs):
        if "event" in obs:
            seen["events"] += 1
            seen["largest"] = max(seen["largest"], len(json.dumps(obs["event"])))
        if obs.get("stream") == "closed":
            seen["reason"] = obs.get("reason")
            stream.stop()
    stream = EventStream(client, sink, lambda: ResyncTargets(list_sessions=False), watchdog=30)
    await asyncio.wait_for(stream.run(), 120)
    await client.aclose()
    seen["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(seen))

asyncio.run(main())
"""


def baseline_rss() -> float:
    code = (
        "import resource, sys; sys.path.insert(0, sys.argv[1]); import t3tui.opencode.stream; "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    return float(
        subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True).stdout
    )


async def run_case(name: str, script: Script) -> None:
    async with SSEServer([script]) as server:
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, server.url, str(ROOT), stdout=asyncio.subprocess.PIPE
        )
        out, _ = await proc.communicate()
        took = time.perf_counter() - started
    result = json.loads(out.decode() or "{}")
    reason = (result.get("reason") or "")[:70]
    print(
        f"{name:<44} peak RSS {result.get('rss_mb', float('nan')):7.1f} MB  {took:5.1f} s  "
        f"events {result.get('events')}  largest {result.get('largest', 0) / MB:.2f} MB  -> {reason}"
    )


async def main() -> None:
    print(f"{'(a process that only imports the stream)':<44} peak RSS {baseline_rss():7.1f} MB")
    opening = 'data: {"payload": {"type": "x", "properties": {"text": "'
    await run_case(
        "one 500 MB line",
        Script(events=[opening], flood=b"a" * MB, flood_total=500 * MB, ending="eof"),
    )
    await run_case(
        "1.5 GB with no newline",
        Script(send_connected=False, flood=b"x" * MB, flood_total=1536 * MB, ending="eof"),
    )
    bomb = gzip_bomb(3 * 1024 * MB)
    await run_case(
        f"gzip bomb, {len(bomb) / MB:.1f} MB on the wire (3 GB inflated)",
        Script(send_connected=False, headers={"Content-Encoding": "gzip"}, flood=bomb, flood_total=len(bomb)),
    )
    big = envelope("message.part.updated", {"part": {"type": "text", "text": "t" * int(1.5 * MB)}})
    frames = ["data: " + json.dumps(big) + "\n\n"] * 3
    await run_case("three real-sized 1.5 MB events (must pass)", Script(events=frames, ending="eof"))


if __name__ == "__main__":
    asyncio.run(main())
