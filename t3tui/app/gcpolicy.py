"""Garbage collection for a UI that holds a large, long-lived store.

CPython's collector walks every tracked object in a full (generation 2) collection. A
client holding a 5,000-turn thread has about a million of them, so a full collection
blocks the UI for 60-120 ms, and with the default thresholds one came every few hundred
milliseconds while the user scrolled (Textual allocates many small objects a frame):
in the long-thread benchmark, 49 of 132 seconds of paging were spent collecting. Two
measures (numbers in the README's Performance section):

- young collections less often (every 10,000 allocations instead of 700), so fewer
  objects are promoted and full collections are rare;
- after a large load (a thread's history, a resync), a young collection and then
  :func:`gc.freeze`: what is left is long-lived and no full collection walks it again.

Frozen objects are still freed by reference counting; only a reference cycle that
becomes garbage after it was frozen (a thread deleted later) is kept until exit.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

YOUNG = 10_000
LARGE_LOAD = 100  # snapshot items (messages, sessions) that make a load "large"


def tune() -> None:
    """Collect the young generation less often (see the module's docstring)."""
    if gc.get_threshold()[0] < YOUNG:
        gc.set_threshold(YOUNG, 20, 20)


def freeze_after_load() -> None:
    """After a large load: collect the young garbage, then freeze the rest.

    Not a full collection: that would walk everything once more (25-40 ms with a
    5,000-turn thread); a load's garbage is young, and ``freeze`` itself is cheap.
    """
    gc.collect(1)
    gc.freeze()


class FreezeAfterLoad:
    """Calls :func:`freeze_after_load` once a large load is in: half a second after the
    last large snapshot (a thread's history, a resync), so a burst of them freezes once."""

    def __init__(self, set_timer: Callable[[float, Callable[[], None]], Any]) -> None:
        """``set_timer(delay, callback)`` returns a timer with ``reset()`` (Textual's)."""
        self._set_timer = set_timer
        self._timer: Any = None

    def observed(self, obs: dict[str, Any]) -> None:
        snapshot = obs.get("snapshot")
        if isinstance(snapshot, dict) and len(snapshot.get("data") or ()) >= LARGE_LOAD:
            self.soon()

    def soon(self) -> None:
        if self._timer is not None:
            self._timer.reset()
        else:
            self._timer = self._set_timer(0.5, self.now)

    def now(self) -> None:
        self._timer = None
        freeze_after_load()
