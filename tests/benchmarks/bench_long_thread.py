# ruff: noqa: E501
"""Long thread: 5,000 or 20,000 turns (about 4.6 or 18.5 MB of text) open to the last turn, and scroll.

The thread is built as an event log (real event shapes, one prompt run per turn) and
replayed into the store, as the app would have it after a resync. Then the app opens
it headless and we measure:

- time from "open this thread" to the last turn being on screen (target <= 0.5 s), with
  the thread in memory (after a resync) and opened for the first time (its messages
  body arrives after the thread is opened);
- each page up from the end to the first turn (median, p90, p99, worst; targets p99
  <= 16 ms, worst <= 50 ms), that the content never jumps under the reader, and the
  event loop's longest block while paging;
- RSS of the process after paging (target <= 150 MB), and the peak RSS of each part.

Each run of each part is a process of its own (so a peak is that part's); with
``--runs N`` the summary gives min / median / max over the runs, and the load average.

    python tests/benchmarks/bench_long_thread.py [--turns 5000] [--runs 3] [-v]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from eventgen import (  # noqa: E402
    DIR,
    assistant_info,
    idle,
    msg_updated,
    new_id,
    part_updated,
    session_updated,
    status,
    text_part,
    user_info,
)
from loopwatch import LoopWatch  # noqa: E402

from t3tui import observations  # noqa: E402
from t3tui.app.app import T3App  # noqa: E402
from t3tui.app.widgets.history import HistoryView  # noqa: E402
from t3tui.opencode.client import OpencodeClient  # noqa: E402
from t3tui.state.store import Store  # noqa: E402

SID = "ses_bench_long_thread_0000001"
PARAGRAPH = (
    "The settlement rule says that a turn must never look like it is still working when its "
    "session is not. When a session leaves running, every queued or running turn is settled. "
)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(turns: int) -> tuple[Store, int]:
    store = Store()
    store.apply(observations.stream_open())
    store.apply(session_updated(SID, title="A very long thread"))
    total = 0
    for i in range(turns):
        user, asst, part = new_id("msg"), new_id("msg"), new_id("prt")
        text = f"## Answer {i}\n\n" + PARAGRAPH * 5 + f"\n\n- point one of {i}\n- point two\n"
        total += len(text)
        for obs in (
            msg_updated(user_info(SID, user)),
            part_updated(text_part(SID, user, new_id("prt"), f"Question {i}: what does the rule say?")),
            status(SID, "busy"),
            msg_updated(assistant_info(SID, asst, user)),
            part_updated(text_part(SID, asst, part, text, end=True)),
            msg_updated(assistant_info(SID, asst, user, finish="stop", completed=True)),
            *idle(SID),
        ):
            store.apply(obs)
    return store, total


def messages_body(turns: int) -> str:
    """The same thread as ``GET /session/:id/message`` returns it (one JSON body)."""
    data = []
    for i in range(turns):
        user, asst = new_id("msg"), new_id("msg")
        text = f"## Answer {i}\n\n" + PARAGRAPH * 5 + f"\n\n- point one of {i}\n- point two\n"
        prompt = text_part(SID, user, new_id("prt"), f"Question {i}: what does the rule say?")
        data.append({"info": user_info(SID, user), "parts": [prompt]})
        answer = text_part(SID, asst, new_id("prt"), text, end=True)
        info = assistant_info(SID, asst, user, finish="stop", completed=True)
        data.append({"info": info, "parts": [answer]})
    return json.dumps(data)


async def measure_first_open(turns: int) -> dict[str, float]:
    """A thread opened for the first time: its messages arrive after it is opened.

    Timed from the response body being in hand (the server's own time to produce it is
    not t3tui's) to the last turn drawn: JSON parsing, validation into the store, the
    history and the first screen.
    """
    store = Store()
    store.apply(observations.stream_open())
    store.apply(session_updated(SID, title="A very long thread"))
    body = messages_body(turns)
    app = T3App(
        OpencodeClient("http://127.0.0.1:9"), directory="/home/dev/project", store=store, connect=False
    )
    app.threads.auto_opened = True
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await app.threads.open(SID)
        await pilot.pause(0.3)
        history = app.query_one(HistoryView)
        drawn: list[int] = []
        render_line = history.render_line

        def spy(y: int) -> Any:
            strip = render_line(y)
            if len(history.turns) == turns and history.index_at(y) == turns - 1 and strip.text.strip():
                drawn.append(y)
            return strip

        history.render_line = spy  # type: ignore[method-assign]
        started = time.perf_counter()
        data = json.loads(body)
        app.link.observe(observations.snapshot("messages", DIR, data, SID))
        while not drawn:
            await pilot.pause(0.002)
        return {"first_open_s": time.perf_counter() - started, "body_mb": len(body) / 1e6}


async def measure(store: Store, pages: int) -> dict[str, float]:
    app = T3App(
        OpencodeClient("http://127.0.0.1:9"), directory="/home/dev/project", store=store, connect=False
    )
    out: dict[str, float] = {}
    app.threads.auto_opened = True  # measure the opening ourselves
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        last_id = store.threads[SID].order[-1]
        history = app.query_one(HistoryView)
        drawn: list[str] = []
        render_line = history.render_line

        def spy(y: int) -> Any:
            # The last turn is on screen when one of its lines is drawn at the bottom.
            strip = render_line(y)
            if history.turns and history.turns[history.index_at(y)].id == last_id and strip.text.strip():
                drawn.append(last_id)
            return strip

        history.render_line = spy  # type: ignore[method-assign]
        started, cpu = time.perf_counter(), time.process_time()
        await app.threads.open(SID)
        while not drawn:
            await pilot.pause(0.002)
        out["open_to_last_turn_s"] = time.perf_counter() - started
        out["open_cpu_s"] = time.process_time() - cpu
        history.render_line = render_line  # type: ignore[method-assign]
        await pilot.pause(0.3)
        view = app.main.thread_view
        history = view.history
        times: list[float] = []
        cpu_times: list[float] = []  # the process's CPU time per page: less noisy on a busy machine
        jumps = 0
        watch = LoopWatch.start()
        started = time.perf_counter()
        height = view.scrollable_content_region.height
        # Page up from the end to the very first turn, as a user holding PageUp would
        # (the key's action, without Pilot's per-key settling delay).
        while view.scroll_y > 0 and len(times) < pages:
            top = round(view.scroll_y)
            above = history.render_line(top - 1).text if top > 0 else ""
            t0, c0 = time.perf_counter(), time.process_time()
            view.scroll_to(y=view.scroll_y - height, animate=False, immediate=True)
            await pilot.pause(0)
            times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
            # Paging up by exactly a screen: the line that was just above the old top
            # is now the last line on screen, unless the content moved under the reader.
            new_top = round(view.scroll_y)
            if new_top > 0 and history.render_line(new_top + height - 1).text != above:
                jumps += 1
            if "-v" in sys.argv:
                print(
                    f"    page {len(times)}: {times[-1] * 1000:.1f} ms, top turn {history.index_at(new_top)}"
                )
        out["max_loop_block_s"] = await watch.stop()
        out["scroll_total_s"] = time.perf_counter() - started
        out["scroll_pages"] = len(times)
        times.sort()
        out["page_median_s"] = times[len(times) // 2]
        out["page_p90_s"] = times[int(len(times) * 0.9)]
        out["page_p99_s"] = times[int(len(times) * 0.99)]
        out["worst_page_s"] = times[-1]
        cpu_times.sort()
        out["cpu_page_median_s"] = cpu_times[len(cpu_times) // 2]
        out["cpu_page_p99_s"] = cpu_times[int(len(cpu_times) * 0.99)]
        out["cpu_page_worst_s"] = cpu_times[-1]
        out["jumps"] = jumps
        out["cache_lines"] = (
            history.cache.lines if hasattr(history, "cache") else -1
        )  # -1: not known (before the line bound)
        out["reached_top"] = float(view.scroll_y == 0)
        out["turns_rendered"] = history.rendered
        first_prompt = history.turns[0].prompt
        screen = app.export_screenshot()
        out["first_turn_on_screen"] = float(
            view.scroll_y == 0 and first_prompt.split(":")[0].replace(" ", "&#160;") in screen
        )
        gc.collect()
        out["rss_mb"] = rss_mb()
    return out


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_part(part: str, turns: int, pages: int) -> dict[str, float]:
    """One part in this process: ``paging`` (build, open, page up) or ``first-open``."""
    if part == "first-open":
        out = asyncio.run(measure_first_open(turns))
        out["first_open_peak_mb"] = peak_mb()
        return out
    base = rss_mb()
    t0 = time.perf_counter()
    store, chars = build(turns)
    out = {"build_s": time.perf_counter() - t0, "chars": chars, "rss_base_mb": base, "rss_store_mb": rss_mb()}
    out |= asyncio.run(measure(store, pages))
    out["peak_mb"] = peak_mb()
    return out


def child(part: str, turns: int, pages: int, verbose: bool) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--part", part, "--turns", str(turns), "--pages", str(pages)]
    cmd += ["-v"] if verbose else []
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{part} failed ({done.returncode})")
    *lines, last = done.stdout.strip().splitlines()
    for line in lines:
        print(line)
    return json.loads(last)


def spread(values: list[float], scale: float = 1000.0, fmt: str = "{:.1f}") -> str:
    """min / median / max (or the one value) of a figure over the runs."""
    shown = [fmt.format(v * scale) for v in (min(values), statistics.median(values), max(values))]
    return shown[0] if len(values) == 1 else " / ".join(shown)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--turns", type=int, default=5000)
    ap.add_argument("--pages", type=int, default=100_000, help="page up at most this many pages from the end")
    ap.add_argument("--runs", type=int, default=1, help="runs of each part (min / median / max)")
    ap.add_argument("--part", choices=["paging", "first-open"], help=argparse.SUPPRESS)
    ap.add_argument("-v", action="store_true", help="print every page")
    args = ap.parse_args()
    if args.part:
        print(json.dumps(run_part(args.part, args.turns, args.pages)))
        return 0
    load_before = os.getloadavg()
    runs: list[dict[str, float]] = []
    for _ in range(args.runs):
        result = child("paging", args.turns, args.pages, args.v)
        result |= child("first-open", args.turns, args.pages, False)
        runs.append(result)
    load_after = os.getloadavg()

    def col(key: str) -> list[float]:
        return [r[key] for r in runs]

    one = runs[0]
    n = f" (min / median / max of {args.runs} runs)" if args.runs > 1 else ""
    print(f"long thread benchmark: {args.turns} turns, {one['chars'] / 1e6:.1f} MB of assistant text{n}")
    print(
        f"  load average: {' '.join(f'{x:.2f}' for x in load_before)} before, {' '.join(f'{x:.2f}' for x in load_after)} after"
    )
    print(
        f"  store built from events : {spread(col('build_s'), 1, '{:.2f}')} s   "
        f"(RSS {one['rss_base_mb']:.0f} -> {one['rss_store_mb']:.0f} MB)"
    )
    print(
        f"  open to last turn       : {spread(col('open_to_last_turn_s'), fmt='{:.0f}')} ms  (target <= 500 ms); "
        f"CPU {spread(col('open_cpu_s'), fmt='{:.0f}')} ms"
    )
    print(
        f"  first open, history not loaded yet: {spread(col('first_open_s'), fmt='{:.0f}')} ms from the "
        f"{one['body_mb']:.1f} MB messages body to the last turn drawn (parse, store, draw); "
        f"peak RSS {spread(col('first_open_peak_mb'), 1, '{:.0f}')} MB"
    )
    top = "to the top" if all(col("reached_top")) else "from the end (not to the top)"
    print(f"  page up x{one['scroll_pages']:.0f} {top} (ms):")
    for key, name, target in (
        ("page_median_s", "median", ""),
        ("page_p90_s", "p90", ""),
        ("page_p99_s", "p99", "  (target <= 16 ms)"),
        ("worst_page_s", "worst", "  (target <= 50 ms)"),
        ("max_loop_block_s", "loop blocked at most", ""),
        ("cpu_page_median_s", "CPU per page, median", ""),
        ("cpu_page_p99_s", "CPU per page, p99", ""),
        ("cpu_page_worst_s", "CPU per page, worst", ""),
    ):
        print(f"    {name:<22}: {spread(col(key))}{target}")
    print(f"    total                 : {spread(col('scroll_total_s'), 1, '{:.1f}')} s")
    print(
        f"  turns rendered          : {spread(col('turns_rendered'), 1, '{:.0f}')}; jumps: {spread(col('jumps'), 1, '{:.0f}')}; "
        f"first turn on screen at the top: {'yes' if all(col('first_turn_on_screen')) else 'NO' if all(col('reached_top')) else 'not paged to the top'}"
    )
    print(f"  render cache after paging: {spread(col('cache_lines'), 1, '{:.0f}')} lines")
    print(f"  RSS after paging        : {spread(col('rss_mb'), 1, '{:.0f}')} MB (target <= 150 MB)")
    print(f"  peak RSS (build, open, paging): {spread(col('peak_mb'), 1, '{:.0f}')} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
