"""The threads by id and by directory, and what changed: one place, so the indexes stay in step.

The store's components (``turns``, ``parts``, ``settlement``, ``runs``, ``requests``,
``resync``) share one :class:`Index`. It owns the records' containers and the indexes
kept beside them: a thread's ``order``/``open``/``running`` turn ids, the part cache
of the delta hot path, and the threads that may be running or asking, by directory.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

from t3tui.state.records import (
    OPEN,
    MessageState,
    PartState,
    Thread,
    Turn,
    TurnState,
    remove_sorted,
)

# Threads of one directory, by id (see Index.live and Index.asking).
Bucket = dict[str, Thread]


class Index:
    """Every thread the client knows, the indexes beside them, and what changed."""

    __slots__ = ("clock", "threads", "directories", "dirty", "changed", "opens", "parts", "live", "asking")

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.threads: dict[str, Thread] = {}
        self.directories: dict[str, None] = {}
        # The ids of the threads that changed, and whether anything did, since the
        # frame last took them (Store.take_changes). The set is never replaced.
        self.dirty: set[str] = set()
        self.changed = True
        self.opens = 0  # how many times the stream opened (a resync follows each)
        # The part each part id last named, across sessions: the fast path of a delta.
        # The truth is Thread.parts; an entry is checked against the delta's message and
        # session before use, and dropped with its part.
        self.parts: dict[str, PartState] = {}
        # Threads that may be active or have open turns, and threads that may have
        # pending requests, by directory: a snapshot of one directory looks at these,
        # not at every thread. Entries go stale (a thread settles, moves or is deleted)
        # and are dropped when a snapshot next looks.
        self.live: dict[str | None, Bucket] = {}
        self.asking: dict[str | None, Bucket] = {}

    # -- threads ----------------------------------------------------------------------

    def thread(self, session_id: Any, directory: str | None, follow: bool = True) -> Thread:
        """The thread of ``session_id`` (made if new), marked changed; ``follow``: its
        directory joins those a resync asks about."""
        if not isinstance(session_id, str) or not session_id:
            raise TypeError("sessionID missing")
        th = self.threads.get(session_id)
        if th is None:
            th = self.threads[session_id] = Thread(session_id, directory)
        elif th.directory is None and directory is not None:
            th.directory = directory
            self.relocate(th)
        if follow and directory is not None and directory not in self.directories:
            self.directories[directory] = None
        self.dirty.add(session_id)
        self.changed = True
        return th

    def known(self, session_id: Any, directory: str | None) -> Thread | None:
        """The thread of an event that carries no news for a session never seen.

        opencode answers an abort of any id, even one that never existed, with an idle
        pair; that must not conjure up an empty thread.
        """
        if session_id not in self.threads:
            return None
        return self.thread(session_id, directory)

    def delete_thread(self, session_id: Any) -> None:
        th = self.threads.pop(session_id, None)
        if th is None:
            return
        self.live.get(th.directory, {}).pop(th.id, None)
        self.asking.get(th.directory, {}).pop(th.id, None)
        for pid, part in th.parts.items():
            if self.parts.get(pid) is part:
                del self.parts[pid]
        self.dirty.add(th.id)
        self.changed = True

    def mark_live(self, th: Thread) -> None:
        self.live.setdefault(th.directory, {})[th.id] = th

    def mark_asking(self, th: Thread) -> None:
        self.asking.setdefault(th.directory, {})[th.id] = th

    def relocate(self, th: Thread) -> None:
        """The thread's directory changed: index it under the new one."""
        if th.active or th.open:
            self.mark_live(th)
        if th.permissions or th.questions:
            self.mark_asking(th)

    def indexed(self, index: dict[str | None, Bucket], directory: str | None) -> list[Thread]:
        """The threads of ``directory`` in ``index`` (``live`` or ``asking``), stale entries dropped."""
        bucket = index.get(directory)
        if not bucket:
            return []
        threads = self.threads
        for th in list(bucket.values()):
            if threads.get(th.id) is not th or th.directory != directory:
                del bucket[th.id]
        return list(bucket.values())

    # -- turns ------------------------------------------------------------------------

    def new_turn(self, th: Thread, turn_id: str, state: TurnState, synthetic: bool = False) -> Turn:
        if turn_id in th.turns:
            raise ValueError(f"turn {turn_id} exists")  # a bug, never input: see check_invariants
        turn = Turn(turn_id, th, state)
        turn.synthetic = synthetic
        th.turns[turn_id] = turn
        bisect.insort(th.order, turn_id)
        if state in OPEN:
            bisect.insort(th.open, turn_id)
            self.mark_live(th)
            self.stamp(th, turn)
            if state == "running":
                bisect.insort(th.running, turn_id)
        self.dirty.add(th.id)
        return turn

    @staticmethod
    def stamp(th: Thread, turn: Turn) -> None:
        """An open turn of a running thread belongs to the current run."""
        if th.active:
            turn.run = th.active_gen
            if not turn.synthetic and (th.run_latest is None or turn.id > th.run_latest):
                th.run_latest = turn.id

    def set_state(self, turn: Turn, state: TurnState) -> None:
        th = turn.thread
        was = turn.state
        turn.state = state
        if state in OPEN:
            if was not in OPEN:
                bisect.insort(th.open, turn.id)
                self.mark_live(th)
            self.stamp(th, turn)
            turn.completed_at = None
            turn.settled_by = None
        elif was in OPEN:
            remove_sorted(th.open, turn.id)
        if state == "running":
            if was != "running":
                bisect.insort(th.running, turn.id)
        elif was == "running":
            remove_sorted(th.running, turn.id)
        self.dirty.add(th.id)

    def drop_turn(self, th: Thread, turn: Turn) -> None:
        if th.turns.get(turn.id) is turn:
            del th.turns[turn.id]
            remove_sorted(th.order, turn.id)
            remove_sorted(th.open, turn.id)
            remove_sorted(th.running, turn.id)
        self.dirty.add(th.id)

    # -- parts ------------------------------------------------------------------------

    def new_part(self, msg: MessageState, part_id: Any, kind: str) -> PartState:
        if not isinstance(part_id, str) or not part_id:
            raise TypeError("part id missing")
        part = PartState(part_id, msg, kind)
        msg.parts[part_id] = part
        msg.thread.parts[part_id] = part
        self.parts[part_id] = part
        return part

    def remove_part(self, part: PartState) -> None:
        msg = part.message
        th = msg.thread
        if th.parts.get(part.id) is part:
            del th.parts[part.id]
        if msg.parts.get(part.id) is part:
            del msg.parts[part.id]
        if self.parts.get(part.id) is part:
            del self.parts[part.id]
        self.dirty.add(th.id)
