# ruff: noqa: E501
"""Every benchmark, several runs each, and one summary table.

    nice -n 10 .venv/bin/python tests/benchmarks/run_all.py [--runs 3] [--only pty,live] [--skip diff]

Each ``bench_*.py`` here runs ``--runs`` times in a row (its own output goes to a log
file in ``--log-dir``). A benchmark that reports through ``benchjson.Report`` is run with
``--json``, and its figures are gathered over the runs: the table shows each figure's
goal and its min / median / max over the runs, and the 1-minute load average seen while
it ran (min-max). A benchmark that does not report yet shows its wall time only (adopt
``benchjson``: a few lines, see its docstring). Arguments after ``--`` go to every
benchmark.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchjson import MARK, load1, spread  # noqa: E402


def reports(path: Path) -> bool:
    return "benchjson" in path.read_text()


def run_one(path: Path, extra: list[str], log: Path) -> tuple[dict | None, float, list[float], int]:
    argv = [sys.executable, str(path), *extra]
    if reports(path):
        argv.append("--json")
    t0 = time.perf_counter()
    l0 = load1()
    with log.open("w") as out:
        rc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, cwd=HERE.parents[1]).returncode
    seconds = time.perf_counter() - t0
    found = None
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith(MARK):
            found = json.loads(line)
    loads = found["load"] if found else [l0, load1()]
    return found, seconds, loads, rc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated names (pty for bench_pty.py)")
    ap.add_argument("--skip", default="", help="comma-separated names to leave out")
    ap.add_argument("--log-dir", default=None)
    ap.add_argument("extra", nargs="*", help="after --: arguments for every benchmark")
    args = ap.parse_args()
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    skip = {n.strip() for n in args.skip.split(",") if n.strip()}
    log_dir = Path(args.log_dir or tempfile.mkdtemp(prefix="t3tui-bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    benches = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if (only and name not in only) or name in skip:
            continue
        benches.append((name, path))
    print(f"{len(benches)} benchmarks x {args.runs} runs; logs in {log_dir}", flush=True)

    rows: list[tuple[str, str, str, str, str]] = []
    for name, path in benches:
        figures: dict[str, dict] = {}
        walls: list[float] = []
        loads: list[float] = []
        failed = 0
        for i in range(args.runs):
            log = log_dir / f"{name}-{i + 1}.log"
            found, seconds, run_loads, rc = run_one(path, args.extra, log)
            walls.append(seconds)
            loads += run_loads
            failed += rc != 0
            print(
                f"  {name} run {i + 1}: {seconds:.0f} s, exit {rc}, load {min(run_loads):.1f}-{max(run_loads):.1f}",
                flush=True,
            )
            for fig in (found or {}).get("figures", []):
                entry = figures.setdefault(
                    fig["name"], {"goal": fig["goal"], "unit": fig["unit"], "values": []}
                )
                entry["values"] += fig["values"]
        load = f"{min(loads):.1f}-{max(loads):.1f}" if loads else "-"
        note = f" ({failed} of {args.runs} runs failed)" if failed else ""
        if not figures:
            rows.append(
                (f"{name}: wall time{note} (no --json yet)", "", spread(walls) + " s", str(args.runs), load)
            )
        for fname, fig in figures.items():
            unit = f" {fig['unit']}" if fig["unit"] else ""
            rows.append(
                (fname + note, fig["goal"], spread(fig["values"]) + unit, str(len(fig["values"])), load)
            )

    head = ("figure", "goal", "min / median / max", "n", "load")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
    print()
    for r in [head, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
