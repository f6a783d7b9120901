# ruff: noqa: E501
"""What the number of threads costs: 100 -> 3,000 threads, the same work at each size.

The app runs headless against a scripted server (tests/sse_server.py) and is fed
real-shaped events in process (``link.observe``, as the stream does), so the numbers
are the app's own work, not the network's. At each size:

- **creation**: new sessions arriving at about 11 a second for 5 s (as a busy server
  makes them); the app's CPU per new session and the UI loop's longest block;
- **burst**: a running thread open, 2,000 deltas at about 2,000 a second; CPU per event
  and the loop's longest block (a delta must cost the same with 100 threads or 3,000);
- **idle**: 10 s with nothing happening; CPU as a share of one core (headless: no
  terminal output, so a little less than in a terminal);
- **switch**: Alt+Down 30 times, each to the next thread drawn; median and worst.

Threads are spread over ``--dirs`` directories (10 by default; ``--dirs 1`` puts them all
in one). ``--json`` reports the figures to tests/benchmarks/run_all.py (benchjson).

    python tests/benchmarks/bench_thread_scaling.py [--counts 100,1000,3000] [--dirs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))

import eventgen as eg  # noqa: E402
from benchjson import Report  # noqa: E402
from sse_server import Script, SSEServer  # noqa: E402

from benchmarks.loopwatch import LoopWatch  # noqa: E402
from t3tui.app.app import T3App  # noqa: E402
from t3tui.opencode.client import OpencodeClient  # noqa: E402

LAUNCH = "/home/dev/project-0"
BASE = 1795000000000


def directory(n: int, dirs: int) -> str:
    return f"/home/dev/project-{n % dirs}"


def created(n: int, dirs: int, now_ms: int) -> dict[str, Any]:
    sid = f"ses_{n:06d}scale{'x' * 15}"
    info = eg.session_info(sid, directory(n, dirs), title=f"thread {n:05d} about the parser and the store")
    info["time"] = {"created": now_ms, "updated": now_ms}
    return eg.ev("session.created", {"sessionID": sid, "info": info}, directory(n, dirs))


def cpu() -> float:
    return time.process_time()


async def settle(app: T3App) -> None:
    """Everything observed is painted (the frame ran) and the loop is idle again."""
    await app.frames.frame()
    await asyncio.sleep(0.05)


async def measure(count: int, dirs: int) -> dict[str, Any]:
    async with SSEServer(default=Script(ending="heartbeat", heartbeat_every=10.0)) as server:
        server.rest.update(
            {"/session": [], "/experimental/session": [], "/agent": [], "/command": [], "/project": []}
        )
        app = T3App(OpencodeClient(server.url), directory=LAUNCH, cursor_blink=False)
        async with app.run_test(size=(140, 45)) as pilot:
            link = app.link
            deadline = time.monotonic() + 30
            while not link.listed and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            # The threads, oldest first, as a listing would bring them.
            for n in range(count):
                link.observe(created(n, dirs, BASE + n * 1000))
            await settle(app)
            await asyncio.sleep(2.0)  # the start's own work (Markdown warm-up, first layouts) is over
            gc.collect()
            out: dict[str, Any] = {"threads": len(link.store.threads), "dirs": dirs}

            # Creation: about 11 new sessions a second for 5 s.
            watch = LoopWatch.start()
            c0, made = cpu(), 0
            t_end = time.monotonic() + 5.0
            while time.monotonic() < t_end:
                link.observe(created(count + made, dirs, BASE + (count + made) * 1000))
                made += 1
                await asyncio.sleep(1 / 11)
            await settle(app)
            out["create_cpu_ms_per_session"] = (cpu() - c0) * 1000 / made
            out["create_worst_block_ms"] = await watch.stop() * 1000

            # A running thread open, 2,000 deltas at about 2,000 a second.
            sid = f"ses_{count - 1:06d}scale{'x' * 15}"
            where = directory(count - 1, dirs)
            await app.threads.open(sid)
            await settle(app)
            mid, pid = eg.new_id("msg"), eg.new_id("prt")
            link.observe(eg.status(sid, "busy", where))
            link.observe(eg.msg_updated(eg.assistant_info(sid, mid, eg.new_id("msg")), where))
            link.observe(eg.part_updated(eg.text_part(sid, mid, pid, ""), where))
            await settle(app)
            watch = LoopWatch.start()
            c0 = cpu()
            for batch in range(100):
                for k in range(20):
                    link.observe(eg.delta(sid, mid, pid, f"word{batch * 20 + k} ", where))
                await asyncio.sleep(0.01)
            await settle(app)
            out["burst_cpu_us_per_event"] = (cpu() - c0) * 1e6 / 2000
            out["burst_worst_block_ms"] = await watch.stop() * 1000
            for obs in eg.idle(sid, where):
                link.observe(obs)
            await settle(app)
            await asyncio.sleep(1.5)  # the frame timer falls asleep

            # Idle: nothing happens for 10 s.
            c0, w0 = cpu(), time.monotonic()
            await asyncio.sleep(10.0)
            out["idle_cpu_pct"] = (cpu() - c0) / (time.monotonic() - w0) * 100

            # Alt+Down 30 times.
            app.main.prompt.focus()
            times = []
            for _ in range(30):
                before = app.threads.current_id
                t0 = time.perf_counter()
                await pilot.press("alt+down")
                while app.threads.current_id == before:
                    await asyncio.sleep(0)
                await app.frames.frame()
                times.append(time.perf_counter() - t0)
            out["switch_median_ms"] = statistics.median(times) * 1000
            out["switch_worst_ms"] = max(times) * 1000
            return out


def main() -> None:
    report = Report.from_argv()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="100,1000,3000")
    parser.add_argument("--dirs", type=int, default=10)
    args = parser.parse_args()
    print(f"bench_thread_scaling: load average {os.getloadavg()[0]:.1f}")
    results = []
    for count in (int(c) for c in args.counts.split(",")):
        r = asyncio.run(measure(count, args.dirs))
        results.append(r)
        print(
            f"  {r['threads']:>5} threads in {r['dirs']} dirs: creation {r['create_cpu_ms_per_session']:.1f} ms CPU/session (block {r['create_worst_block_ms']:.0f} ms); "
            f"burst {r['burst_cpu_us_per_event']:.0f} us CPU/event (block {r['burst_worst_block_ms']:.0f} ms); "
            f"idle {r['idle_cpu_pct']:.2f}% of a core; Alt+Down median {r['switch_median_ms']:.1f} ms, worst {r['switch_worst_ms']:.1f} ms",
            flush=True,
        )
    print(f"  load average after: {os.getloadavg()[0]:.1f}")
    for r in results:
        n = r["threads"]
        report.figure(
            f"{n} threads: CPU per new session", [r["create_cpu_ms_per_session"]], goal="flat in the count"
        )
        report.figure(f"{n} threads: idle CPU", [r["idle_cpu_pct"]], unit="% core", goal="<= 0.3")
        report.figure(f"{n} threads: Alt+Down median", [r["switch_median_ms"]], goal="<= 16")
        report.figure(f"{n} threads: Alt+Down worst", [r["switch_worst_ms"]], goal="<= 50")
    report.done()


if __name__ == "__main__":
    main()
