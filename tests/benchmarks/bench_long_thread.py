# ruff: noqa: E501
"""Long thread: 5,000 turns (about 5 MB of text) open to the last turn, and scroll.

The thread is built as an event log (real event shapes, one prompt run per turn) and
replayed into the store, as the app would have it after a resync. Then the app opens
it headless and we measure:

- time from "open this thread" to the last turn being on screen (target <= 1 s);
- the longest frame while paging up through the thread (mounting earlier turns);
- RSS of the process afterwards (target <= 150 MB).

    python tests/benchmarks/bench_long_thread.py [--turns 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from eventgen import (  # noqa: E402
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

from t3tui.app.app import T3App  # noqa: E402
from t3tui.app.turns import TurnView  # noqa: E402
from t3tui.client import OpencodeClient  # noqa: E402
from t3tui.store import Store  # noqa: E402

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
    store.apply({"stream": "open"})
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


async def measure(store: Store) -> dict[str, float]:
    app = T3App(
        OpencodeClient("http://127.0.0.1:9"), directory="/home/dev/project", store=store, connect=False
    )
    out: dict[str, float] = {}
    app._auto_opened = True  # measure the opening ourselves
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        last_id = store.threads[SID].order[-1]
        started = time.perf_counter()
        await app.open_thread(SID)
        while True:
            views = [v for v in app.query(TurnView) if v.turn.id == last_id]
            if views and views[0].region.height > 0 and views[0].children:
                break
            await pilot.pause(0.005)
        out["open_to_last_turn_s"] = time.perf_counter() - started
        view = app.thread_view
        worst = 0.0
        pages = 0
        started = time.perf_counter()
        while view.mounted_turns < 300 and pages < 400:
            t0 = time.perf_counter()
            view.scroll_page_up(animate=False)
            if view.scroll_y <= 0:
                await view.load_earlier()
            await pilot.pause(0)
            worst = max(worst, time.perf_counter() - t0)
            if "-v" in sys.argv:
                print(
                    f"    page {pages}: {(time.perf_counter() - t0) * 1000:.0f} ms, {view.mounted_turns} mounted"
                )
            pages += 1
        out["scroll_pages"] = pages
        out["scroll_total_s"] = time.perf_counter() - started
        out["worst_page_s"] = worst
        out["mounted_turns"] = view.mounted_turns
        gc.collect()
        out["rss_mb"] = rss_mb()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--turns", type=int, default=5000)
    ap.add_argument("-v", action="store_true", help="print every page")
    args = ap.parse_args()
    base = rss_mb()
    t0 = time.perf_counter()
    store, chars = build(args.turns)
    built = time.perf_counter() - t0
    after_store = rss_mb()
    result = asyncio.run(measure(store))
    print(f"long thread benchmark: {args.turns} turns, {chars / 1e6:.1f} MB of assistant text")
    print(f"  store built from events : {built:6.2f} s   (RSS {base:.0f} -> {after_store:.0f} MB)")
    print(f"  open to last turn       : {result['open_to_last_turn_s'] * 1000:6.0f} ms  (target <= 1000 ms)")
    print(
        f"  page up x{result['scroll_pages']:.0f}            : worst {result['worst_page_s'] * 1000:.0f} ms, "
        f"total {result['scroll_total_s']:.2f} s, {result['mounted_turns']:.0f} turns mounted"
    )
    print(f"  RSS after               : {result['rss_mb']:6.0f} MB (target <= 150 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
