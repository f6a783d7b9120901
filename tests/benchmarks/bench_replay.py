"""Replay speed: a 100,000-event log against bare ``json.loads`` of the same lines.

The log is the real 2,000-token burst capture, copied with fresh ids until it holds
100,000 events. Target (issue 2 / 7): replay <= 5x json.loads.

    python tests/benchmarks/bench_replay.py [--events 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from t3tui import observations  # noqa: E402
from t3tui.eventlog import replay  # noqa: E402

BURST = ROOT / "tests" / "fixtures" / "m_bench_2000.jsonl"
ID = re.compile(r"\b(evt|ses|msg|prt)_([0-9a-f]{12})([0-9A-Za-z]{14})\b")


def build_log(path: Path, target: int) -> int:
    lines = BURST.read_text(encoding="utf-8").splitlines()
    body = [ln for ln in lines if '"event"' in ln]
    out = [json.dumps({"t": 0.0, **observations.stream_open()}, separators=(",", ":"))]
    copy = 0
    events = 0
    while events < target:
        copy += 1
        suffix = f"{copy:08d}"
        for ln in body:
            if events >= target:
                break
            out.append(ID.sub(lambda m, s=suffix: f"{m[1]}_{m[2]}{m[3][:6]}{s}", ln))
            events += 1
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return events


def bench(path: Path, repeat: int) -> tuple[float, float, int]:
    lines = path.read_text(encoding="utf-8").splitlines()
    best_loads = best_replay = float("inf")
    n = 0
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        for ln in lines:
            json.loads(ln)
        best_loads = min(best_loads, time.perf_counter() - t0)
        gc.collect()
        t0 = time.perf_counter()
        store = replay(path)
        best_replay = min(best_replay, time.perf_counter() - t0)
        n = store.events
    return best_loads, best_replay, n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "burst100k.jsonl"
        count = build_log(log, args.events)
        size = log.stat().st_size
        loads, rep, applied = bench(log, args.repeat)
    ratio = rep / loads
    print(f"replay benchmark: {count} events, {size / 1e6:.1f} MB")
    print(f"  json.loads only : {loads * 1000:8.1f} ms")
    print(f"  t3tui replay    : {rep * 1000:8.1f} ms  ({applied} events applied after dedupe/sync skip)")
    print(f"  ratio           : {ratio:.2f}x  (target <= 5x) {'OK' if ratio <= 5 else 'OVER TARGET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
