# ruff: noqa: E501
"""Memory over many bursts: 200 bursts of 2,000 tokens into one open thread, one process.

The real capture of a 2,000-token burst (``tests/fixtures/m_bench_2000.jsonl``) is fed to
a headless app (``App.run_test``, no server, no network) again and again, into the same
thread, each copy with fresh message, part and event ids (later ids, so each burst is a
new turn at the end), at the capture's own pace (its 2,000 deltas came in 0.2 s: about
10,000 events/s; ``--speed 2`` halves every wait). After each burst, once its turn has
settled and been drawn: the process's RSS and the longest the UI loop was blocked. Every
``--every`` bursts (and at the 20th and the last), after a full collection: the number of
live objects, and the count of the types that grew most. Every collection the collector
ran on its own is timed (``gc.callbacks``): its generation and its pause; the forced
collections of the measurement are left out.

Goal (issue 17): RSS flat, within 10% of its value at burst 20 by the end; no collector
pause over 16 ms.

    python tests/benchmarks/bench_bursts_memory.py [--bursts 200] [--every 10] [--speed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from loopwatch import LoopWatch  # noqa: E402

from t3tui.app.app import T3App  # noqa: E402
from t3tui.eventlog import read_log  # noqa: E402
from t3tui.opencode.client import OpencodeClient  # noqa: E402
from t3tui.state.store import SETTLED, Store  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "m_bench_2000.jsonl"
ID = re.compile(r"\b(evt|msg|prt)_([0-9a-f]{12})([0-9A-Za-z]{14})\b")
STEP = 1 << 32  # added to an id's time part per copy: later than the whole capture's span
WATCHED = ("FIFOCache", "Strip", "Segment", "Style", "TurnView", "TextPartView", "MarkdownBlock", "Widget")


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Pauses:
    """Every collection the collector runs, timed (``gc.callbacks``), unless ``forced``."""

    def __init__(self) -> None:
        self.forced = False
        self._t0 = 0.0
        self._c0 = 0.0
        self.all: list[tuple[int, float]] = []  # (generation, seconds)
        self.cpu: list[float] = []  # the same collections' CPU time (a busy machine preempts)

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
            self._c0 = time.thread_time()
        elif not self.forced:
            self.all.append((info["generation"], time.perf_counter() - self._t0))
            self.cpu.append(time.thread_time() - self._c0)

    def collect(self) -> None:
        self.forced = True
        try:
            gc.collect()
        finally:
            self.forced = False


def census() -> tuple[int, collections.Counter[str]]:
    """Live objects the collector tracks, and how many of each type (Widget: every widget)."""
    from textual.widget import Widget

    objects = gc.get_objects()
    counts: collections.Counter[str] = collections.Counter(type(o).__name__ for o in objects)
    counts["Widget"] = sum(1 for o in objects if isinstance(o, Widget))
    n = len(objects)
    del objects
    return n, counts


def copies(lines: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The observations up to the session's creation, and the burst's lines as JSON text."""
    created = next(
        i for i, o in enumerate(lines) if "event" in o and o["event"]["payload"]["type"] == "session.created"
    )
    body = [json.dumps(o, separators=(",", ":")) for o in lines[created + 1 :] if "event" in o]
    return lines[: created + 1], body


def burst(body: list[str], copy: int) -> list[dict[str, Any]]:
    """Copy ``copy`` of the burst: every message, part and event id later than the last copy's."""

    def fresh(m: re.Match[str]) -> str:
        return f"{m[1]}_{int(m[2], 16) + copy * STEP:012x}{m[3]}"

    return [json.loads(ID.sub(fresh, line)) for line in body]


async def run(bursts: int, every: int, speed: float, width: int) -> dict[str, Any]:
    lines = list(read_log(FIXTURE))
    head, body = copies(lines)
    sid = head[-1]["event"]["payload"]["properties"]["sessionID"]
    directory = head[-1]["event"]["payload"]["properties"]["info"]["directory"]
    store = Store()
    store.apply_all(head)
    app = T3App(
        OpencodeClient("http://127.0.0.1:9"),
        directory=directory,
        store=store,
        connect=False,
        cursor_blink=False,
        initial_thread=sid,
    )
    pauses = Pauses()
    rows: list[dict[str, Any]] = []
    censuses: dict[int, tuple[int, collections.Counter[str]]] = {}
    async with app.run_test(size=(width, 40)) as pilot:
        await pilot.pause(1.0)
        gc.callbacks.append(pauses)
        try:
            pauses.collect()
            censuses[0] = census()
            for n in range(1, bursts + 1):
                obs = burst(body, n)
                seen = len(pauses.all)
                watch = LoopWatch.start()
                start = time.perf_counter()
                t0 = obs[0].get("t", 0.0)
                for o in obs:
                    due = start + (o.get("t", 0.0) - t0) / speed
                    while (now := time.perf_counter()) < due:
                        await asyncio.sleep(min(0.001, due - now))
                    app.link.observe(o)
                th = app.link.store.threads[sid]
                deadline = time.perf_counter() + 30
                while (
                    th.active or th.turns[th.order[-1]].state not in SETTLED
                ) and time.perf_counter() < deadline:
                    await pilot.pause(0.01)
                await app.frames.frame()
                await pilot.pause(0.2)
                await watch.stop()
                mine = pauses.all[seen:]
                row = {
                    "burst": n,
                    "rss": rss_mb(),
                    "blocked_ms": watch.worst * 1000,
                    "gc_worst_ms": max((s for _, s in mine), default=0.0) * 1000,
                    "gc_worst_gen": max(mine, key=lambda p: p[1])[0] if mine else -1,
                    "full": sum(1 for g, _ in mine if g == 2),
                    "turns": len(th.order),
                }
                if n % every == 0 or n in (1, 20, bursts):
                    pauses.collect()
                    censuses[n] = census()
                    row["objects"] = censuses[n][0]
                    row["rss_collected"] = rss_mb()
                rows.append(row)
                if n % 20 == 0 or n == bursts:
                    table(rows[-20 if n % 20 == 0 else -(n % 20) :], censuses)
        finally:
            gc.callbacks.remove(pauses)
    return {"rows": rows, "censuses": censuses, "pauses": pauses.all, "cpu": pauses.cpu}


def table(rows: list[dict[str, Any]], censuses: dict[int, tuple[int, collections.Counter[str]]]) -> None:
    print(" burst  turns  RSS MB  objects  loop blocked ms  collector worst ms (gen)  full collections")
    for r in rows:
        objects = f"{r['objects']:>8}" if "objects" in r else " " * 8
        gen = f"({r['gc_worst_gen']})" if r["gc_worst_gen"] >= 0 else ""
        print(
            f" {r['burst']:>5}  {r['turns']:>5}  {r['rss']:>6.1f} {objects}  {r['blocked_ms']:>15.1f}  "
            f"{r['gc_worst_ms']:>18.1f} {gen:<4}  {r['full']:>16}"
        )
    last = rows[-1]["burst"]
    if last in censuses and 0 in censuses:
        growers(censuses[0][1], censuses[last][1], f"grew most, start -> burst {last}")
    sys.stdout.flush()


def growers(before: collections.Counter[str], after: collections.Counter[str], title: str) -> None:
    grown = sorted(((after[k] - before.get(k, 0), k) for k in after), reverse=True)[:10]
    watched = ", ".join(f"{k} {after.get(k, 0)}" for k in WATCHED)
    print(f"   {title}: " + ", ".join(f"{k} +{d}" for d, k in grown if d > 0))
    print(f"   live: {watched}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bursts", type=int, default=200)
    ap.add_argument(
        "--every", type=int, default=10, help="a census (full collection, object counts) every N bursts"
    )
    ap.add_argument(
        "--speed", type=float, default=1.0, help="times the capture's pace (1: about 10,000 events/s)"
    )
    ap.add_argument("--width", type=int, default=120)
    args = ap.parse_args()
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    result = asyncio.run(run(args.bursts, args.every, args.speed, args.width))
    rows = result["rows"]
    pauses = result["pauses"]
    by = {r["burst"]: r for r in rows}
    at20 = by.get(20, rows[0])
    end = rows[-1]
    growth = (end["rss"] - at20["rss"]) / at20["rss"] * 100
    worst = max(pauses, key=lambda p: p[1], default=(-1, 0.0))
    over = sum(1 for _, s in pauses if s > 0.016)
    load1 = os.getloadavg()
    print(
        f"\n{args.bursts} bursts of 2,000 tokens into one thread in {time.perf_counter() - t0:.0f} s "
        f"(speed {args.speed:g}; load average {load0[0]:.1f} before, {load1[0]:.1f} after, {os.cpu_count()} cores)"
    )
    marks = [b for b in (1, 20, 60, 100, 200, end["burst"]) if b in by]
    print("  RSS MB: " + ", ".join(f"burst {b} {by[b]['rss']:.1f}" for b in dict.fromkeys(marks)))
    print(
        "  live objects after a full collection: "
        + ", ".join(f"burst {b} {by[b]['objects']}" for b in dict.fromkeys(marks) if "objects" in by[b])
    )
    print(f"  RSS growth from burst {at20['burst']} to {end['burst']}: {growth:+.1f}% (goal: within 10%)")
    gens = collections.Counter(g for g, _ in pauses)
    print(
        f"  collections by the collector: {len(pauses)} (gen 0/1/2: {gens[0]}/{gens[1]}/{gens[2]}); "
        f"worst pause {worst[1] * 1000:.1f} ms (gen {worst[0]}); {over} over 16 ms (goal: none)"
    )
    cpu = result["cpu"]
    print(
        f"  the same collections in CPU time (without the time the machine gave to others): "
        f"worst {max(cpu, default=0.0) * 1000:.1f} ms; {sum(1 for c in cpu if c > 0.016)} over 16 ms"
    )
    print(f"  UI loop blocked at most {max(r['blocked_ms'] for r in rows):.1f} ms in a burst")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
