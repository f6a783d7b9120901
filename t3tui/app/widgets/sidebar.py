"""The sidebar: threads grouped by directory, newest first, each with a live badge."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from t3tui.app.widgets.row_list import RowList
from t3tui.i18n import t
from t3tui.state.store import Store, Thread
from t3tui.state.thread_order import Place, ThreadOrder
from t3tui.text import duration, one_line


def short_dir(path: str | None) -> str:
    """A directory as shown: under ``~`` where it can be, control characters made visible."""
    if not path:
        return "?"
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + os.sep)):
        path = "~" + path[len(home) :]
    return one_line(path, 200)


def badge(th: Thread, now_ms: float, unseen: bool) -> tuple[str, str]:
    """The badge text and its style."""
    if th.permissions:
        return t("badge.permission"), "bold yellow"
    if th.questions:
        return t("badge.question"), "bold yellow"
    if th.status == "retrying" and th.retry is not None:
        nxt = th.retry.next  # None when the server did not say (or said NaN): unknown
        wait = (nxt - now_ms) / 1000 if nxt is not None else None
        return t("badge.retrying", attempt=th.retry.attempt, seconds=duration(wait)), "bold magenta"
    if th.status == "running":
        running = th.running_turn()
        since = (running.started_at if running is not None else None) or th.busy_since or now_ms
        return t("badge.working", elapsed=duration((now_ms - since) / 1000)), "bold cyan"
    if th.status == "error":
        return t("badge.error"), "bold red"
    if unseen:
        return t("badge.unseen"), "bold green"
    return "", ""


MORE = "more:"  # the option id of the row that loads older threads
EXPAND = "expand:"  # the option id of a directory's row that shows all its threads
RESTRUCTURE = 0.25  # seconds: the rows made again at most this often for the server's changes
PER_DIRECTORY = 25  # threads a directory shows until its last row opens the rest
MAX_MATCHES = 200  # threads a filter shows


_NOWHERE = Place("", None, 0.0)


def _lookup(stores: Sequence[Store]) -> Callable[[str], Thread | None]:
    """A thread by id, from whichever store holds it."""
    if len(stores) == 1:
        return stores[0].threads.get

    def find(sid: str) -> Thread | None:
        for store in stores:
            th = store.threads.get(sid)
            if th is not None:
                return th
        return None

    return find


def title_words(query: str) -> list[str]:
    """What a filter asks for: each word, case-folded, must be in a title."""
    return query.casefold().split()


def matches(th: Thread, words: list[str]) -> bool:
    title = (th.title or "").casefold()
    return all(word in title for word in words)


def ordered_threads(threads: Iterable[Thread]) -> list[tuple[str, list[tuple[int, Thread]]]]:
    """Directory groups (newest activity first), with children nested under parents."""
    by_dir: dict[str, list[Thread]] = {}
    for th in threads:
        by_dir.setdefault(th.directory or "?", []).append(th)
    groups = []
    for directory, items in by_dir.items():
        ids = {th.id for th in items}
        children: dict[str, list[Thread]] = {}
        roots = []
        for th in items:
            parent = th.parent_id
            if parent and parent in ids:
                children.setdefault(parent, []).append(th)
            else:
                roots.append(th)
        out: list[tuple[int, Thread]] = []
        for th in sorted(roots, key=lambda r: (-r.updated, r.id)):
            _walk(th, 0, children, out)
        newest = max((th.updated for th in items), default=0.0)
        groups.append((newest, directory, out))
    groups.sort(key=lambda g: (-g[0], g[1]))
    return [(d, rows) for _, d, rows in groups]


def attention_split(threads: Iterable[Thread], unseen: set[str]) -> tuple[list[Thread], list[Thread]]:
    """The threads that need the user, first those asking (a permission or a question),
    then those that failed unseen, then those that finished unseen (each newest first);
    and the others."""
    rest: list[Thread] = []
    urgent: list[tuple[int, float, str, Thread]] = []
    for th in threads:
        if th.permissions or th.questions:
            rank = 0
        elif th.id in unseen:
            rank = 1 if th.status == "error" else 2
        else:
            rest.append(th)
            continue
        urgent.append((rank, -th.updated, th.id, th))
    urgent.sort(key=lambda u: u[:3])
    return rest, [u[3] for u in urgent]


def _walk(th: Thread, depth: int, children: dict[str, list[Thread]], out: list[tuple[int, Thread]]) -> None:
    """A thread, then its children (subagents) nested under it."""
    out.append((depth, th))
    for child in sorted(children.get(th.id, ()), key=lambda c: (-c.updated, c.id)):
        _walk(child, depth + 1, children, out)


class FilterInput(Input):
    """The sidebar's filter: Esc clears it, Down goes to the list, Enter opens the best match."""

    BINDINGS = [
        Binding("escape", "clear", "bind.clear_filter", id="clear_filter"),
        Binding("down", "to_list", "bind.to_list", id="to_list", show=False),
    ]

    def __init__(self, **kw: Any) -> None:
        # Not selected on focus: the letter typed in the list is kept, not replaced.
        super().__init__(select_on_focus=False, **kw)

    class Cleared(Message):
        """Esc: the filter is empty and hidden again."""

    class ToList(Message):
        """Down: the list takes the focus, the filter stays."""

    def action_clear(self) -> None:
        self.post_message(self.Cleared())

    def action_to_list(self) -> None:
        self.post_message(self.ToList())


@dataclass(frozen=True)
class Listing:
    """What the sidebar shows besides the threads: the filter's text, a server search
    under way, older threads to load (and their loading)."""

    query: str = ""
    searching: bool = False
    more: bool = False
    loading_more: bool = False


class Sidebar(RowList):
    """Threads; Enter or a click opens one."""

    # As in opencode's session list.
    BINDINGS = [
        Binding("ctrl+r", "app.rename_thread", "bind.rename", id="rename"),
        Binding("ctrl+d", "app.delete_thread", "bind.delete", id="delete"),
        Binding("ctrl+n", "new_here", "bind.new_here", id="new_here"),
    ]

    def __init__(self, clock: Callable[[], float], **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self._current: str | None = None
        self.thread_ids: list[str] = []
        self.expanded: set[str] = set()  # directories that show all their threads
        self.attention_first = False  # threads that need the user in a group of their own, first
        self._last: tuple[Sequence[Store], str | None, set[str], bool, Listing] | None = None
        # What the list shows, kept between frames so a frame costs what changed, not
        # every thread (see state/thread_order.py):
        self.order = ThreadOrder()
        self._rows: list[tuple[str | None, Text]] = []  # (option id, label) as shown
        self._at: dict[str, int] = {}  # thread id -> its row
        self._placed: dict[str, tuple[int, str]] = {}  # thread id -> (depth, where) of its row
        self._labels: dict[str, tuple[tuple[Any, ...], Text]] = {}  # thread id -> (what it shows, label)
        self._shape: tuple[Any, ...] = ()  # what decides the rows besides the threads' places
        self._fresh = True  # the order must be made again from every thread
        self._width = 40  # the width the labels are cut to
        self._query = ""  # the filter the rows show
        self._pending = False  # the rows must be made again (put off: see rebuild)
        self._restructured = -math.inf  # when they last were (time.monotonic)
        self._flush: Timer | None = None

    def rebuild(
        self,
        stores: Sequence[Store],
        current: str | None,
        unseen: set[str],
        loading: bool = False,
        listing: Listing | None = None,
        dirty: Iterable[str] | None = None,
    ) -> None:
        """Show the threads of ``stores`` (one per server), ``current`` marked as open;
        ``listing`` says what the filter holds and whether older threads can be loaded.
        ``dirty`` names the threads that changed since the last call (None: any may have):
        the rows are then made again only if a thread moved, came or went, or needs the
        user now, and otherwise only the changed threads' labels are."""
        listing = listing or Listing()
        self._last = (stores, current, unseen, loading, listing)
        lookup = _lookup(stores)
        if dirty is None or self._fresh:
            self.order.reset(th for store in stores for th in store.threads.values())
            self._fresh = False
            moved = True
        else:
            moved = False
            for sid in dirty:
                moved = self.order.update(sid, lookup(sid)) or moved
        busy = [th for store in stores for th in store.busy()]
        kept = frozenset({*unseen, *(th.id for th in busy)} | ({current} if current else set()))
        asking = frozenset(th.id for th in busy if th.permissions or th.questions)
        width = max(12, (self.scrollable_content_region.width or 40) - 3)
        # Besides the threads' places, what decides the rows: which threads are kept
        # beyond a directory's first rows, which ask (the attention group), and the rest.
        shape = (
            kept,
            asking,
            current,
            loading,
            listing,
            width,
            self.attention_first,
            frozenset(self.expanded),
        )
        words = title_words(listing.query)
        if not (moved or shape != self._shape or (words and dirty) or self._pending):
            if dirty:
                self.relabel(dirty)
            return
        # Made again at once when the user changed what the list shows (the open thread,
        # the filter, the width...); for the server's own changes (new and moved threads,
        # runs starting), at most every RESTRUCTURE seconds: a busy server creating a
        # session every 90 ms otherwise costs the screen a full drawing each time.
        now = time.monotonic()
        if shape[2:] == self._shape[2:] and now - self._restructured < RESTRUCTURE:
            self._pending = True
            if self._flush is None:
                self._flush = self.set_timer(RESTRUCTURE - (now - self._restructured), self._flush_now)
            if dirty:
                self.relabel(dirty)
            return
        self._pending, self._restructured = False, now
        self._shape, self._width, self._query = shape, width, listing.query
        self._show(self._layout(lookup, current, unseen, loading, listing, width, kept), current)

    def _flush_now(self) -> None:
        """The rows put off (see :meth:`rebuild`), with what the list was last given."""
        self._flush = None
        if self._pending and self._last is not None and self.is_attached:
            self.rebuild(*self._last, dirty=())

    @property
    def settled(self) -> bool:
        """No change waits to be shown (tests wait on it)."""
        return not self._pending

    def tick(self) -> None:
        """Once a second: the rows whose badge counts time (working Ns, a retry's countdown)."""
        if self._last is None:
            return
        stores = self._last[0]
        self.relabel(
            [th.id for store in stores for th in store.busy() if th.status in ("running", "retrying")]
        )

    def relabel(self, ids: Iterable[str]) -> None:
        """Draw these threads' rows again, if what they show changed."""
        if self._last is None:
            return
        stores, current, unseen, *_ = self._last
        lookup = _lookup(stores)
        now = self.clock() * 1000
        width = self._width
        for sid in ids:
            at = self._at.get(sid)
            th = lookup(sid)
            if at is None or th is None:
                continue
            depth, where = self._placed[sid]
            label = self._label(th, depth, current, unseen, width, now, where)
            if label is not self._rows[at][1]:
                self._rows[at] = (sid, label)
                self._replace(at, label)

    def _label(
        self,
        th: Thread,
        depth: int,
        current: str | None,
        unseen: set[str],
        width: int,
        now: float,
        where: str,
    ) -> Text:
        """The thread's row label: the one made before if it would show the same."""
        key = (th.title, badge(th, now, th.id in unseen), th.id == current, depth, width, where)
        cached = self._labels.get(th.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        label = self._row(th, depth, current, unseen, width, now, where)
        self._labels[th.id] = (key, label)
        return label

    def _layout(
        self,
        lookup: Callable[[str], Thread | None],
        current: str | None,
        unseen: set[str],
        loading: bool,
        listing: Listing,
        width: int,
        kept: frozenset[str],
    ) -> list[tuple[str | None, Text]]:
        """The rows: the attention group, then each directory's threads, then the list's own rows."""
        now = self.clock() * 1000
        rows: list[tuple[str | None, Text]] = []
        placed: dict[str, tuple[int, str]] = {}

        def thread_row(th: Thread, depth: int, where: str = "") -> None:
            placed[th.id] = (depth, where)
            rows.append((th.id, self._label(th, depth, current, unseen, width, now, where)))

        words = title_words(listing.query)
        stores = self._last[0] if self._last is not None else ()
        urgent: list[Thread] = []
        if self.attention_first:
            asking_or_unseen = [th for sid in kept if (th := lookup(sid)) is not None]
            _, urgent = attention_split(
                (th for th in asking_or_unseen if not words or matches(th, words)), unseen
            )
            if urgent:
                rows.append((None, Text(t("sidebar.attention"), style="bold yellow")))
            for th in urgent:
                thread_row(th, 0, short_dir(th.directory))
        left_out = {th.id for th in urgent}
        if words:
            # A filter shows the best matches; typing more narrows them (every thread is read).
            shown = (
                th
                for store in stores
                for th in store.threads.values()
                if th.id not in left_out and matches(th, words)
            )
            budget = MAX_MATCHES
            for directory, items in ordered_threads(shown):
                rows.append((None, Text(short_dir(directory), style="bold dim")))
                hidden = max(0, len(items) - budget)
                for depth, th in items[:budget]:
                    thread_row(th, depth)
                budget -= min(budget, len(items))
                if hidden:
                    rows.append((None, Text(t("sidebar.more_matches", count=hidden), style="dim italic")))
        else:
            for directory in self.order.directories(left_out):
                rows.append((None, Text(short_dir(directory), style="bold dim")))
                items = self.order.first_rows(
                    directory, left_out, kept, None if directory in self.expanded else PER_DIRECTORY
                )
                for depth, sid in items:
                    th = lookup(sid)
                    if th is not None:
                        thread_row(th, depth)
                gone = sum(
                    1 for sid in left_out if self.order.places.get(sid, _NOWHERE).directory == directory
                )
                hidden = self.order.count(directory) - gone - len(items)
                if hidden > 0:
                    rows.append(
                        (
                            EXPAND + directory,
                            Text(t("sidebar.more_in_directory", count=hidden), style="italic"),
                        )
                    )
        if listing.searching:
            rows.append((None, Text(t("sidebar.searching"), style="dim italic")))
        elif not rows and words:
            rows.append((None, Text(t("sidebar.no_match", query=one_line(listing.query, 40)), style="dim")))
        if not rows:
            empty = t("sidebar.loading") if loading else t("sidebar.empty")
            rows.append((None, Text(empty, style="dim")))
        if listing.more and not words:
            label = t("sidebar.more_loading") if listing.loading_more else t("sidebar.more")
            rows.append((MORE, Text(label, style="italic")))
        self._placed = placed
        return rows

    def _show(self, rows: list[tuple[str | None, Text]], current: str | None) -> None:
        """Put ``rows`` in the list: only the labels that changed if the rows are the same
        ones; the cursor follows the open thread when that changes (Alt+Up/Down, a new
        thread), and otherwise stays where the user moved it."""
        moved = current != self._current
        self._current = current
        if [rid for rid, _ in rows] == [rid for rid, _ in self._rows]:
            for at, ((_, label), (_, before)) in enumerate(zip(rows, self._rows, strict=True)):
                if label is before:
                    continue
                if label.plain != before.plain or label.spans != before.spans:
                    self._replace(at, label)
                else:  # the same text: the row keeps its lines, and takes the label that is kept
                    self._options[at]._set_prompt(label)
            self._rows = rows
            if moved:
                self._follow(current)
            return
        highlighted = self.highlighted_option.id if self.highlighted_option is not None else None
        if moved or highlighted is None:
            highlighted = current
        self._rows = rows
        self._at = {rid: n for n, (rid, _) in enumerate(rows) if rid is not None}
        self.clear_options()
        self.add_options([Option(label, id=rid, disabled=rid is None) for rid, label in rows])
        self.thread_ids = [rid for rid, _ in rows if rid is not None and not rid.startswith((MORE, EXPAND))]
        if title_words(self._query) and highlighted not in self.thread_ids and self.thread_ids:
            highlighted = self.thread_ids[0]  # the best match, for Enter in the filter
        self._follow(highlighted)

    @staticmethod
    def _row(
        th: Thread, depth: int, current: str | None, unseen: set[str], width: int, now: float, where: str = ""
    ) -> Text:
        """A thread's row: its title, then its badge (and ``where`` it is, in the attention group)."""
        label = Text("  " * depth + ("└ " if depth else ""))
        marker = "▸ " if th.id == current else "  "
        label.append(marker, style="bold")
        label.append(
            one_line(th.title or t("sidebar.untitled"), max(8, width - 2 * depth - 2)),
            style="bold" if th.id == current else "",
        )
        text, style = badge(th, now, th.id in unseen)
        if text:
            label.append("\n" + "  " * (depth + 2) + text, style=style)
        if where:
            place = one_line(where, max(8, width - 2 * depth - 4))
            label.append("\n" + "  " * (depth + 2) + place, style="dim")
        return label

    @on(OptionList.OptionSelected)
    def _expand(self, event: OptionList.OptionSelected) -> None:
        """A directory's last row: all its threads."""
        option_id = event.option.id or ""
        if option_id.startswith(EXPAND):
            event.stop()
            self.expanded.add(option_id.removeprefix(EXPAND))
            self.redraw()

    def _follow(self, thread_id: str | None) -> None:
        if thread_id is not None and thread_id in self.thread_ids:
            self.highlighted = self.get_option_index(thread_id)
            # The row may have just been added: scroll once the list knows its size.
            self.call_after_refresh(self._reveal)

    async def action_new_here(self) -> None:
        """Ctrl+N in the list: a new thread in the directory of the thread under the cursor."""
        app: Any = self.app
        pointed = self.pointed
        th = app.link_of(pointed).store.threads.get(pointed) if pointed and pointed != MORE else None
        await app.action_new_thread(th.directory if th is not None and th.directory else None)

    def on_key(self, event: events.Key) -> None:
        """A letter typed in the list starts the filter (the pane shows it)."""
        if event.is_printable and event.character and event.character.strip():
            event.stop()
            event.prevent_default()
            self.post_message(self.FilterTyped(event.character))

    class FilterTyped(Message):
        """A character was typed while the list had focus."""

        def __init__(self, character: str) -> None:
            super().__init__()
            self.character = character

    def redraw(self) -> None:
        """Build the rows again even if the threads did not change (the width or the
        language did)."""
        self._labels.clear()
        self._shape = ()
        if self._last is not None:
            self.rebuild(*self._last)

    def on_resize(self) -> None:
        """Titles are cut to the width: cut them again."""
        self.redraw()

    @property
    def pointed(self) -> str | None:
        """The thread under the cursor."""
        option = self.highlighted_option
        return option.id if option is not None else None

    def neighbour(self, current: str | None, step: int) -> str | None:
        ids = self.thread_ids
        if not ids:
            return None
        if current not in ids:
            return ids[0]
        return ids[(ids.index(current) + step) % len(ids)]
