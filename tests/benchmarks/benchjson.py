"""A small shared helper for benchmark results: printed for people, ``--json`` for run_all.

A benchmark adds the option and reports its figures through a :class:`Report`::

    report = Report.from_argv()               # or Report(json_out=args.json)
    report.figure("burst: last delta -> screen", [41.2, 38.0], unit="ms", goal="<= 50")
    report.done()                             # prints the JSON line when --json was given

``run_all.py`` runs each benchmark with ``--json`` and reads the last line of its
standard output that starts with ``{"benchmark"``: figures (name, unit, goal, values)
and the load averages sampled while it ran.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

MARK = '{"benchmark"'


def load1() -> float:
    return os.getloadavg()[0]


class LoadSampler:
    """The 1-minute load average, sampled every ``every`` seconds in a thread."""

    def __init__(self, every: float = 2.0) -> None:
        self.samples: list[float] = [load1()]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(load1())

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join()
        self.samples.append(load1())
        return self.samples


def spread(values: list[float]) -> str:
    """``min / median / max`` of the values (``-`` for none)."""
    vals = [v for v in values if v == v]  # no NaN
    if not vals:
        return "-"
    return f"{min(vals):.1f} / {statistics.median(vals):.1f} / {max(vals):.1f}"


@dataclass
class Report:
    name: str = field(default_factory=lambda: os.path.basename(sys.argv[0]))
    json_out: bool = False
    figures: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    load: LoadSampler = field(default_factory=LoadSampler)

    @classmethod
    def from_argv(cls) -> Report:
        """``--json`` in sys.argv (removed, so that argparse need not know of it)."""
        json_out = "--json" in sys.argv
        if json_out:
            sys.argv.remove("--json")
        return cls(json_out=json_out)

    def figure(self, name: str, values: list[float], *, unit: str = "ms", goal: str = "") -> None:
        self.figures.append({"name": name, "unit": unit, "goal": goal, "values": [float(v) for v in values]})

    def done(self) -> None:
        loads = self.load.stop()
        if not self.json_out:
            return
        out = {
            "benchmark": self.name,
            "seconds": time.perf_counter() - self.started,
            "load": loads,
            "figures": self.figures,
        }
        print(json.dumps(out), flush=True)
