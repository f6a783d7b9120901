"""Replay cost must grow linearly with the input (issue 11, item 6).

Each shape is replayed at two sizes, n and 4n; the time ratio of a linear store is about
4x. Shapes that once grew quadratically:

- ``queued``: many prompts queued in one running thread, then answered one by one
  (the open turns were rearranged on every assistant update);
- ``status-dirs``: many threads, each in its own directory, resynced directory by
  directory (every status/permission/question snapshot looked at every thread);
- ``status-one-dir``: many threads of one directory, each followed by a status
  snapshot of that directory that lists only it;
- ``deltas``: one long streamed part whose deltas are interleaved with shorter,
  non-final copies of the part (each copy measured the whole streamed text).

    python tests/benchmarks/bench_store_scaling.py [--small 2500] [--repeat 3]

It prints numbers only; nothing is asserted (no timed assertions in the test suite).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from eventgen import (  # noqa: E402
    DIR,
    assistant_info,
    delta,
    idle,
    msg_updated,
    new_id,
    part_updated,
    permission_asked,
    session_updated,
    snapshot,
    status,
    stream,
    text_part,
    user_info,
)

from t3tui.state.store import Store  # noqa: E402

loads = json.loads

Lines = list[dict[str, Any]]


def queued(n: int) -> Lines:
    """n prompts queued behind a running one, then each answered in turn."""
    sid = new_id("ses")
    users = [new_id("msg") for _ in range(n)]
    out: Lines = [stream("open"), session_updated(sid), status(sid, "busy")]
    for user in users:
        out.append(msg_updated(user_info(sid, user)))
        out.append(part_updated(text_part(sid, user, new_id("prt"), "prompt")))
    for user in users:
        asst, part = new_id("msg"), new_id("prt")
        out += [
            msg_updated(assistant_info(sid, asst, user)),
            part_updated(text_part(sid, asst, part, "", end=False)),
            delta(sid, asst, part, "answer"),
            part_updated(text_part(sid, asst, part, "answer", end=True)),
            msg_updated(assistant_info(sid, asst, user, finish="stop")),
            msg_updated(assistant_info(sid, asst, user, finish="stop", completed=True)),
        ]
    return [*out, *idle(sid)]


def status_dirs(n: int) -> Lines:
    """n running threads in n directories, then a reconnect resyncs every directory."""
    sids = [new_id("ses") for _ in range(n)]
    dirs = [f"{DIR}/{i}" for i in range(n)]
    out: Lines = [stream("open")]
    for sid, d in zip(sids, dirs, strict=True):
        user = new_id("msg")
        out += [
            session_updated(sid, d),
            msg_updated(user_info(sid, user), d),
            status(sid, "busy", d),
            permission_asked(sid, new_id("per"), d),
        ]
    out += [stream("closed"), stream("open")]
    for sid, d in zip(sids, dirs, strict=True):
        keep = {sid: {"type": "busy"}} if int(sid[-4:]) % 2 else {}
        out += [snapshot("status", keep, d), snapshot("permissions", [], d), snapshot("questions", [], d)]
    return out


def status_one_dir(n: int) -> Lines:
    """n threads of one directory; after each starts, a status snapshot lists only it."""
    out: Lines = [stream("open")]
    for _ in range(n):
        sid, user = new_id("ses"), new_id("msg")
        out += [
            session_updated(sid),
            msg_updated(user_info(sid, user)),
            status(sid, "busy"),
            snapshot("status", {sid: {"type": "busy"}}),
        ]
    return out


def deltas(n: int) -> Lines:
    """One part streamed in n deltas, each followed by a shorter non-final copy."""
    sid, user, asst, part = new_id("ses"), new_id("msg"), new_id("msg"), new_id("prt")
    out: Lines = [
        stream("open"),
        msg_updated(user_info(sid, user)),
        status(sid, "busy"),
        msg_updated(assistant_info(sid, asst, user)),
        part_updated(text_part(sid, asst, part, "", end=False)),
    ]
    for i in range(n):
        out.append(delta(sid, asst, part, f"tok{i} "))
        out.append(part_updated(text_part(sid, asst, part, "tok0 ", end=False)))
    return [*out, *idle(sid)]


SHAPES: dict[str, Callable[[int], Lines]] = {
    "queued": queued,
    "status-dirs": status_dirs,
    "status-one-dir": status_one_dir,
    "deltas": deltas,
}


def timed(lines: Lines, repeat: int) -> float:
    """Best replay time of ``lines``, parsed from JSON as ``t3tui replay`` does (parsing
    each line in the loop also keeps the observations fresh in memory, as in a replay,
    instead of a large prebuilt heap that makes every access slower as n grows)."""
    texts = [json.dumps(line) for line in lines]
    best = float("inf")
    for _ in range(repeat):
        store = Store(clock=lambda: 1000.0)
        gc.collect()
        t0 = time.perf_counter()
        for text in texts:
            store.apply(loads(text))
        best = min(best, time.perf_counter() - t0)
        assert store.rejected == 0, f"{store.rejected} lines rejected"
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", type=int, default=2500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("shapes", nargs="*", default=list(SHAPES))
    args = ap.parse_args()
    small, large = args.small, args.small * 4
    print(f"store scaling: n={small} vs 4n={large} (best of {args.repeat}); linear is about 4x")
    worst = 0.0
    for name in args.shapes:
        build = SHAPES[name]
        a = timed(build(small), args.repeat)
        b = timed(build(large), args.repeat)
        ratio = b / a
        worst = max(worst, ratio)
        flag = "OK" if ratio < 6 else "SUPERLINEAR"
        print(f"  {name:15s} {a * 1000:9.1f} ms  {b * 1000:9.1f} ms  ratio {ratio:5.1f}x  {flag}")
    print(f"  worst ratio {worst:.1f}x (target < 6x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
