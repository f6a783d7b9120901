"""The diff viewer: a 5,000-line diff opened (unified and side by side), then paged through.

A Python file's patch of 5,000 lines (hunks of context, removed and added lines, the
removed ones edited so the changed words are marked) is shown in the viewer screen,
headless, and we measure:

- time from "show this diff" to its first screen drawn (target < 0.3 s), and to its
  syntax colours on screen (they come from a worker thread);
- each page down to the end: median, p99 and worst, and the longest the UI loop was
  blocked meanwhile (no stalls);
- RSS of the process before and after.

    python tests/benchmarks/bench_diff.py [--lines 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from loopwatch import LoopWatch  # noqa: E402
from textual.app import App  # noqa: E402

from t3tui.app import gcpolicy  # noqa: E402
from t3tui.app.screens.diff import DiffScreen  # noqa: E402
from t3tui.app.widgets.diff_view import DiffFile, DiffView  # noqa: E402
from t3tui.i18n import t  # noqa: E402
from t3tui.state.work import FileDiff  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def patch(lines: int) -> str:
    """A unified diff of about ``lines`` lines: hunks of 4 context, 6 removed, 6 added, 4 context."""
    out = ["Index: src/big.py", "=" * 67, "--- src/big.py\t", "+++ src/big.py\t"]
    old = new = 1
    n = 0
    while n < lines:
        out.append(f"@@ -{old},14 +{new},14 @@ def handler_{n}(request):")
        body = [f"     value_{n}_{k} = compute(request, {k})  # context {k}" for k in range(4)]
        body += [f"-    result_{n}_{k} = old_function(value_{n}_{k}, 'alpha', {k})" for k in range(6)]
        body += [f"+    result_{n}_{k} = new_function(value_{n}_{k}, 'beta', {k})" for k in range(6)]
        body += [f'     log.info("done %s", result_{n}_{k})' for k in range(4)]
        out += body
        n += len(body) + 1
        old += 40
        new += 40
    return "\n".join(out) + "\n"


class Bench(App[None]):
    """A bare app: the viewer's cost alone (T3App pushes the same screen over the thread)."""


async def run(lines: int, split: bool, size: tuple[int, int]) -> dict[str, Any]:
    t.set_language("en")
    text = patch(lines)
    files = [DiffFile(FileDiff("src/big.py", text, 0, 0, "modified"))]
    app = Bench()
    out: dict[str, Any] = {"lines": text.count("\n")}
    async with app.run_test(size=size) as pilot:
        gcpolicy.tune()  # as T3App does once started
        await pilot.pause()
        base = rss_mb()
        drawn: list[float] = []
        original = DiffView.render_line

        def render_line(view: DiffView, y: int) -> Any:
            strip = original(view, y)
            if view.total and not drawn:
                drawn.append(time.perf_counter())
            return strip

        DiffView.render_line = render_line  # type: ignore[method-assign]
        try:
            t0 = time.perf_counter()
            screen = DiffScreen("bench", files=files, split=split)
            await app.push_screen(screen)
            while not drawn:
                await asyncio.sleep(0.001)
            out["open_s"] = drawn[0] - t0
            view = screen.view
            while not view.coloured:
                await asyncio.sleep(0.001)
            await pilot.pause()
            out["coloured_s"] = time.perf_counter() - t0
        finally:
            DiffView.render_line = original  # type: ignore[method-assign]
        out["split"] = view.split_shown
        out["display_lines"] = view.total
        pages: list[float] = []
        watch = LoopWatch.start()
        height = view.scrollable_content_region.height
        # Page down to the end as a user holding PageDown would (the key's scroll, without
        # Pilot's per-key settling delay), as bench_long_thread pages up.
        while view.scroll_y < view.max_scroll_y:
            t1 = time.perf_counter()
            view.scroll_to(y=view.scroll_y + height, animate=False, immediate=True)
            await pilot.pause(0)
            pages.append(time.perf_counter() - t1)
        worst_block = await watch.stop()
        while not view.coloured:
            await asyncio.sleep(0.001)
        pages.sort()
        out["pages"] = len(pages)
        out["page_median_ms"] = statistics.median(pages) * 1000
        out["page_p99_ms"] = pages[min(len(pages) - 1, int(len(pages) * 0.99))] * 1000
        out["page_worst_ms"] = pages[-1] * 1000
        out["loop_worst_ms"] = worst_block * 1000
        out["rss_before_mb"] = base
        out["rss_after_mb"] = rss_mb()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5000)
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"diff viewer: a {args.lines:,}-line patch of one Python file (load average {load})")
    for name, split, size in (("unified", False, (120, 40)), ("side by side", True, (160, 40))):
        r = asyncio.run(run(args.lines, split, size))
        print(f"  {name} ({r['display_lines']:,} lines on screen in all, {r['pages']} pages):")
        print(f"    open to the first screen drawn : {r['open_s'] * 1000:6.0f} ms (target < 300 ms)")
        print(f"    open to its colours on screen  : {r['coloured_s'] * 1000:6.0f} ms")
        print(
            f"    page down, median / p99 / worst: {r['page_median_ms']:.1f} / {r['page_p99_ms']:.1f} / "
            f"{r['page_worst_ms']:.1f} ms; UI loop blocked at most {r['loop_worst_ms']:.1f} ms"
        )
        print(f"    RSS before / after             : {r['rss_before_mb']:.0f} / {r['rss_after_mb']:.0f} MB")
    r = asyncio.run(run(50_000, False, (120, 40)))
    print(
        f"  50,000 lines, unified: open {r['open_s'] * 1000:.0f} ms, page worst {r['page_worst_ms']:.1f} ms, "
        f"RSS {r['rss_after_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
