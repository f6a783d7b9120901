"""The sidebar's order, kept as threads change: by directory, newest first, subagents
under their parent.

Sorting every thread again for each change cost the UI more than the stream itself with
thousands of threads (a new session every 90 ms, 3,000 threads: most of the main
thread's time). :class:`ThreadOrder` is told which threads changed (the store's dirty
set) and moves only those: a bisection and a list move each. Listing a directory's
first rows reads only as far as those rows.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from t3tui.state.records import Thread

Entry = tuple[float, str]  # (-updated, id): the order of a directory, newest first


@dataclass(frozen=True)
class Place:
    """Where a thread goes: its directory, its parent, and when it was updated."""

    directory: str
    parent: str | None
    updated: float


def place_of(th: Thread) -> Place:
    return Place(th.directory or "?", th.parent_id, th.updated)


class ThreadOrder:
    """Every thread's place, with each directory's threads sorted newest first."""

    def __init__(self) -> None:
        self.places: dict[str, Place] = {}
        self.by_dir: dict[str, list[Entry]] = {}  # every thread of a directory, newest first
        self.children: dict[str, list[Entry]] = {}  # parent id -> its children, newest first

    def reset(self, threads: Iterable[Thread]) -> None:
        """Forget everything and place ``threads`` (one sort)."""
        self.places.clear()
        self.by_dir.clear()
        self.children.clear()
        for th in threads:
            place = place_of(th)
            self.places[th.id] = place
            self.by_dir.setdefault(place.directory, []).append((-place.updated, th.id))
            if place.parent:
                self.children.setdefault(place.parent, []).append((-place.updated, th.id))
        for entries in (*self.by_dir.values(), *self.children.values()):
            entries.sort()

    def update(self, sid: str, th: Thread | None) -> bool:
        """Thread ``sid`` changed (``None``: it is gone). True if its place did."""
        old = self.places.get(sid)
        new = place_of(th) if th is not None else None
        if old == new:
            return False
        if old is not None:
            self._remove(self.by_dir, old.directory, (-old.updated, sid))
            if old.parent:
                self._remove(self.children, old.parent, (-old.updated, sid))
            del self.places[sid]
        if new is not None:
            self.places[sid] = new
            bisect.insort(self.by_dir.setdefault(new.directory, []), (-new.updated, sid))
            if new.parent:
                bisect.insort(self.children.setdefault(new.parent, []), (-new.updated, sid))
        return True

    @staticmethod
    def _remove(index: dict[str, list[Entry]], key: str, entry: Entry) -> None:
        entries = index.get(key)
        if entries is None:
            return
        at = bisect.bisect_left(entries, entry)
        if at < len(entries) and entries[at] == entry:
            del entries[at]
        if not entries:
            del index[key]

    # -- reading ------------------------------------------------------------------------

    def nested(self, sid: str, left_out: Collection[str] = ()) -> bool:
        """Shown under its parent: the parent is known, in the same directory, and shown."""
        place = self.places[sid]
        parent = place.parent
        if not parent or parent in left_out:
            return False
        above = self.places.get(parent)
        return above is not None and above.directory == place.directory

    def directories(self, left_out: Collection[str] = ()) -> list[str]:
        """Directories by their newest thread (not counting ``left_out``), newest first."""
        newest = []
        for directory, entries in self.by_dir.items():
            for key, sid in entries:
                if sid not in left_out:
                    newest.append((key, directory))
                    break
        newest.sort()
        return [directory for _, directory in newest]

    def count(self, directory: str) -> int:
        return len(self.by_dir.get(directory, ()))

    def rows(self, directory: str, left_out: Collection[str] = ()) -> Iterator[tuple[int, str]]:
        """(depth, id) of the directory's threads as listed: each top thread, newest
        first, then its subagents under it; read lazily, so the first rows cost only
        themselves."""
        for _, sid in self.by_dir.get(directory, ()):
            if sid not in left_out and not self.nested(sid, left_out):
                yield from self._walk(sid, 0, left_out, {sid})

    def _walk(
        self, sid: str, depth: int, left_out: Collection[str], seen: set[str]
    ) -> Iterator[tuple[int, str]]:
        yield depth, sid
        directory = self.places[sid].directory
        for _, child in self.children.get(sid, ()):
            if child in seen or child in left_out or self.places[child].directory != directory:
                continue
            seen.add(child)
            yield from self._walk(child, depth + 1, left_out, seen)

    def path(self, sid: str, left_out: Collection[str] = ()) -> tuple[tuple[Entry, ...], int]:
        """Where the thread comes in :meth:`rows`: a sort key (the entries of its top
        thread down to its own) and its depth."""
        chain: list[Entry] = []
        seen = set()
        node = sid
        while node not in seen:
            seen.add(node)
            chain.append((-self.places[node].updated, node))
            if not self.nested(node, left_out):
                break
            node = self.places[node].parent or ""
        chain.reverse()
        return tuple(chain), len(chain) - 1

    def first_rows(
        self, directory: str, left_out: Collection[str], kept: Collection[str], limit: int | None
    ) -> list[tuple[int, str]]:
        """A directory's rows as the sidebar lists them: its first ``limit`` (all if None),
        then those of ``kept`` (threads that need the user) after them, in their order.
        Every row costs the list a layout at each change: 2,000 of them took a second."""
        if limit is None:
            return list(self.rows(directory, left_out))
        items: list[tuple[int, str]] = []
        for row in self.rows(directory, left_out):
            if len(items) >= limit:
                break
            items.append(row)
        taken = {sid for _, sid in items}
        extra = []
        for sid in kept:
            place = self.places.get(sid)
            if place is None or place.directory != directory or sid in taken or sid in left_out:
                continue
            key, depth = self.path(sid, left_out)
            extra.append((key, depth, sid))
        extra.sort()
        return items + [(depth, sid) for _, depth, sid in extra]
