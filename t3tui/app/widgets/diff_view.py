"""A diff drawn line by line: one file or many, unified or side by side, syntax highlighted.

A diff can be 50,000 lines long. :class:`DiffView` is one widget (Textual's Line API):
the patches are parsed once (``state/diffparse.py``), each line's height at the current
width is a sum, and only the lines on screen are drawn. Long lines wrap, so no text is
ever out of sight. Syntax colours (Pygments, by the file's extension) are made between
frames, 32 lines at a time, those on screen first and then the next ones: a line is
drawn plain until its chunk is ready, so neither opening nor paging waits for the lexer
(about 0.25 ms a line of Python), and a frame waits for one chunk at most.

Every line of a patch is server text: it is cleaned (no escape codes, bidi made
visible) and drawn as Rich ``Text``, never parsed as markup.

Also here: :func:`compact_diff`, the few lines an expanded edit card shows in the thread.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from typing import Any

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.events import Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from t3tui.i18n import t
from t3tui.state.diffparse import (
    ADDED,
    CONTEXT,
    HEADER,
    HUNK,
    META,
    NOTE,
    REMOVED,
    Patch,
    Row,
    changed_spans,
    pairs,
    parse_patch,
    side_by_side,
)
from t3tui.state.work import FileDiff
from t3tui.text import clean

TAB = 4
CHUNK = 32  # lines of one side highlighted together (the lexer's context; about 8 ms)
LONGEST_LINE = 10_000  # characters of a line drawn; the rest is counted
SPLIT_AUTO = 120  # columns from which the view starts side by side
SPLIT_MIN = 80  # columns below which side by side cannot be read: unified instead
CACHE = 400  # entries whose lines are kept (a few screens)

# What each display entry is: (kind, file, a, b).
FILE, ROW, PAIR, EMPTY, GAP = range(5)
Entry = tuple[int, int, int, int]


@dataclass
class DiffFile:
    """One file's diff, and a note that says where it comes from (a turn, a tool)."""

    diff: FileDiff
    note: str = ""
    patch: Patch = field(init=False)

    def __post_init__(self) -> None:
        self.patch = parse_patch(self.diff.patch)

    @property
    def additions(self) -> int:
        return self.diff.additions or self.patch.additions

    @property
    def deletions(self) -> int:
        return self.diff.deletions or self.patch.deletions


def _shown(text: str) -> str:
    """A line as drawn: no control character, tabs as spaces, not endless."""
    line = clean(text)
    if "\t" in line:
        line = line.expandtabs(TAB)
    if len(line) > LONGEST_LINE:
        line = line[:LONGEST_LINE] + " " + t("diff.more_chars", count=len(line) - LONGEST_LINE)
    return line


STATUS_KEYS = {"added": "diff.status.added", "deleted": "diff.status.deleted"}


def status_text(status: str) -> str:
    """ "added", "modified", "deleted" in the user's language."""
    return t(STATUS_KEYS.get(status, "diff.status.modified"))


def _cells(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


_looked_up: set[str] = set()


def _known(path: str) -> bool:
    """Whether :func:`lexer_for` has looked ``path``'s name up already."""
    return path.rsplit("/", 1)[-1] in _looked_up


@lru_cache(maxsize=256)
def _lexer_for_name(name: str) -> Any:
    _looked_up.add(name)
    if not name:
        return None
    try:
        from pygments.lexers import get_lexer_for_filename
        from pygments.util import ClassNotFound
    except ImportError:  # pragma: no cover - Rich depends on Pygments
        return None
    try:
        return get_lexer_for_filename(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None
    except Exception:  # a broken lexer plugin must not break the viewer
        return None


def lexer_for(path: str) -> Any:
    """The Pygments lexer for a file name, or None (plain text)."""
    return _lexer_for_name(path.rsplit("/", 1)[-1])


class _Prepared:
    """A file's rows as the view draws them: shown text, widths, what replaces what."""

    __slots__ = ("file", "rows", "texts", "widths", "partner", "changes", "number", "side", "position")

    def __init__(self, file: DiffFile) -> None:
        self.file = file
        rows = [row for row in file.patch.rows if row.kind != HEADER]
        self.rows = rows
        self.texts = [_shown(row.text) for row in rows]
        self.widths = [_cells(text) for text in self.texts]
        self.partner = pairs(rows)
        self.changes: dict[int, tuple[list[tuple[int, int]], list[tuple[int, int]]]] = {}  # by removed row
        biggest = max((max(row.old or 0, row.new or 0) for row in rows), default=0)
        self.number = max(2, len(str(biggest)))
        # Each line's place in its side (old: context and removed; new: context and
        # added), which is what the lexer reads.
        self.side: list[list[int]] = [[], []]
        self.position: list[int] = [0] * len(rows)
        for i, row in enumerate(rows):
            if row.kind == REMOVED:
                self.position[i] = len(self.side[0])
                self.side[0].append(i)
            elif row.kind in (ADDED, CONTEXT):
                self.position[i] = len(self.side[1])
                self.side[1].append(i)
                if row.kind == CONTEXT:
                    self.side[0].append(i)


def _wrap(text: Text, width: int) -> list[Text]:
    """``text`` cut into lines of at most ``width`` cells (code wraps anywhere)."""
    plain = text.plain
    if width <= 0:
        return [text]
    if plain.isascii():
        if len(plain) <= width:
            return [text]
        return list(text.divide(range(width, len(plain), width)))
    cuts: list[int] = []
    used = 0
    for i, char in enumerate(plain):
        size = get_character_cell_size(char)
        if used + size > width:
            cuts.append(i)
            used = 0
        used += size
    return list(text.divide(cuts)) if cuts else [text]


def _strip(text: Text, console: Any, style: Style) -> Strip:
    """``text`` as a strip, its own style under its spans (``Text.render`` leaves it out)."""
    return Strip(Segment.apply_style(text.render(console), style))


def _height(cells: int, width: int) -> int:
    return max(1, -(-cells // max(1, width)))


class Layout:
    """Where a view's lines go: one entry per file header, row or side-by-side pair, and
    each entry's height at a width (long lines wrap)."""

    def __init__(self, files: list[_Prepared], width: int, split: bool) -> None:
        self.files = files
        self.width = width
        self.split = split
        self.entries = self._entries()
        self.heights = [self._height(entry) for entry in self.entries]
        self.starts = [0, *accumulate(self.heights)]
        rows = [f.rows for f in files]
        self.hunks = [
            i for i, (k, fi, a, _b) in enumerate(self.entries) if k == ROW and rows[fi][a].kind == HUNK
        ]
        self.file_entries = [i for i, entry in enumerate(self.entries) if entry[0] == FILE]

    def _entries(self) -> list[Entry]:
        out: list[Entry] = []
        for fi, prepared in enumerate(self.files):
            if fi:
                out.append((GAP, fi, 0, 0))
            out.append((FILE, fi, 0, 0))
            if not prepared.rows or (prepared.file.patch.binary and not prepared.file.patch.hunks):
                out.append((EMPTY, fi, 0, 0))
            if self.split:
                for left, right in side_by_side(prepared.rows):
                    if left is not None and left == right:
                        out.append((ROW, fi, left, 0))
                    else:
                        out.append((PAIR, fi, -1 if left is None else left, -1 if right is None else right))
            else:
                out.extend((ROW, fi, i, 0) for i in range(len(prepared.rows)))
        return out

    def text_width(self, prepared: _Prepared) -> int:
        """The cells a line's text gets (after its numbers and sign)."""
        width = self.width
        if self.split:
            return max(1, (width - 1) // 2 - prepared.number - 3)
        return max(1, width - 2 * (prepared.number + 1) - 2)

    def _height(self, entry: Entry) -> int:
        kind, fi, a, b = entry
        if kind in (FILE, GAP, EMPTY):
            return 1
        prepared = self.files[fi]
        if kind == ROW:
            row = prepared.rows[a]
            if row.kind in (HUNK, NOTE):
                return 1
            if row.kind == META:
                return _height(prepared.widths[a], self.width)
            return _height(prepared.widths[a], self.text_width(prepared))  # on both sides if split
        width = self.text_width(prepared)
        left = _height(prepared.widths[a], width) if a >= 0 else 1
        right = _height(prepared.widths[b], width) if b >= 0 else 1
        return max(left, right)

    def find(self, anchor: Entry) -> int:
        """The entry that shows what ``anchor`` showed in another layout (0: none)."""
        kind, fi, a, b = anchor
        rows = {a, b} - {-1}
        for i, (k, f, x, y) in enumerate(self.entries):
            if f != fi:
                continue
            if k == kind and kind in (FILE, GAP, EMPTY):
                return i
            if k in (ROW, PAIR) and kind in (ROW, PAIR) and rows & {x, y}:
                return i
        return 0


class Colours:
    """Syntax colours, made one chunk of a file's side at a time between frames (a task on
    the app's loop that yields after each chunk, so a frame never waits long behind the
    lexer); an entry drawn before its chunk was ready is drawn again when it is."""

    def __init__(self, view: DiffView) -> None:
        self.view = view
        self.chunks: dict[tuple[int, int, int], list[Text]] = {}
        self.wanted: dict[tuple[int, int, int], None] = {}
        self.later: dict[tuple[int, int, int], None] = {}  # the chunks after those asked for
        self.running = False
        self.plain: set[int] = set()  # entries drawn plain

    def clear(self) -> None:
        self.chunks.clear()
        self.wanted.clear()
        self.later.clear()
        self.plain.clear()

    @property
    def done(self) -> bool:
        return not self.wanted and not self.running

    def line(self, index: int, files: list[_Prepared], fi: int, i: int) -> Text | None:
        """Line ``i`` of file ``fi`` in its lexer's colours, or None until its chunk is ready."""
        prepared = files[fi]
        side = 0 if prepared.rows[i].kind == REMOVED else 1
        position = prepared.position[i]
        key = (fi, side, position // CHUNK)
        chunk = self.chunks.get(key)
        if chunk is not None:
            return chunk[position % CHUNK]
        self.wanted[key] = None
        for ahead in (1, 2):  # paging on finds them ready
            after = (fi, side, key[2] + ahead)
            if after not in self.chunks and after[2] * CHUNK < len(prepared.side[side]):
                self.later[after] = None
        self.plain.add(index)
        if not self.running:
            self.running = True
            # After this frame: the first screen is drawn before the lexer runs.
            self.view.call_after_refresh(self.start)
        return None

    def start(self) -> None:
        self.view.run_worker(self.work(), group="diff-colours", exit_on_error=False)

    async def work(self) -> None:
        """Colour the chunks asked for (the newest first), then those ahead, one per turn
        of the loop."""
        try:
            app = self.view.app
            dark = app.current_theme.dark if app.current_theme is not None else True
            theme = "ansi_dark" if dark else "ansi_light"
            while self.wanted or self.later:
                queue = self.wanted or self.later
                key = next(reversed(queue))
                del queue[key]
                files = self.view.files
                fi, side, chunk = key
                if key in self.chunks or fi >= len(files):
                    continue
                prepared = files[fi]
                path = prepared.file.diff.file
                if not _known(path):
                    # The first lookup reads every lexer's patterns (and plugins): off the loop.
                    await asyncio.to_thread(lexer_for, path)
                rows = prepared.side[side][chunk * CHUNK : (chunk + 1) * CHUNK]
                texts = [prepared.texts[i] for i in rows]
                try:
                    lines = highlight(texts, path, theme)
                except Exception:  # a lexer that fails on odd text: that chunk stays plain
                    lines = [Text(text) for text in texts]
                if self.view.files is files:
                    self.chunks[key] = lines
                    self.arrived()
                await asyncio.sleep(0)
        finally:
            self.running = False

    def arrived(self) -> None:
        if not self.plain:
            return  # a chunk made ahead: nothing on screen waits for it
        view = self.view
        for index in self.plain:
            view.discard(index)
        self.plain.clear()
        view.refresh()


class DiffView(ScrollView, can_focus=True):
    """One or more files' diffs, drawn line by line (see the module's docstring)."""

    COMPONENT_CLASSES = {
        "diff--added",
        "diff--removed",
        "diff--added-number",
        "diff--removed-number",
        "diff--added-change",
        "diff--removed-change",
        "diff--added-sign",
        "diff--removed-sign",
        "diff--number",
        "diff--hunk",
        "diff--file",
        "diff--meta",
        "diff--rule",
    }
    DEFAULT_CSS = """
    DiffView {
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        height: 1fr;
    }
    DiffView > .diff--added { background: $success 18%; }
    DiffView > .diff--removed { background: $error 18%; }
    DiffView > .diff--added-number { background: $success 30%; color: $text-muted; }
    DiffView > .diff--removed-number { background: $error 30%; color: $text-muted; }
    DiffView > .diff--added-change { background: $success 45%; }
    DiffView > .diff--removed-change { background: $error 45%; }
    DiffView > .diff--added-sign { background: $success 18%; color: $success; text-style: bold; }
    DiffView > .diff--removed-sign { background: $error 18%; color: $error; text-style: bold; }
    DiffView > .diff--number { color: $text-muted; }
    DiffView > .diff--hunk { color: $accent; background: $boost; }
    DiffView > .diff--file { background: $panel; text-style: bold; }
    DiffView > .diff--meta { color: $text-muted; text-style: italic; }
    DiffView > .diff--rule { color: $panel-lighten-2; }
    """

    @dataclass
    class TopFile(Message):
        """The file at the top of the view changed (the screen's header names it)."""

        view: DiffView
        index: int

    def __init__(self, files: list[DiffFile] | None = None, split: bool | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.split = split  # None: side by side when wide enough
        self.files: list[_Prepared] = []
        self._width = 0
        self.plan = Layout([], 0, False)
        self._cache: LRUCache[int, list[Strip]] = LRUCache(CACHE)
        self._styles: dict[str, Style] = {}
        self.colours = Colours(self)
        self._top_file = -1
        self.colour = True  # off: plain text (tests, or a slow machine by choice)
        if files:
            self.set_files(files)

    # -- content ------------------------------------------------------------------------

    def set_files(self, files: list[DiffFile]) -> None:
        self.files = [_Prepared(f) for f in files]
        self.colours.clear()
        self._top_file = -1
        self._layout(keep=False)

    def set_split(self, split: bool | None) -> None:
        self.split = split
        self._layout(keep=True)

    @property
    def split_shown(self) -> bool:
        """Whether the view is side by side now."""
        return self.plan.split

    @property
    def split_refused(self) -> bool:
        """Side by side was asked for, and the view is too narrow for it."""
        return self.split is True and not self.plan.split

    @property
    def entries(self) -> list[Entry]:
        return self.plan.entries

    def _layout(self, keep: bool) -> None:
        """Entries and heights for the current width and mode; with ``keep``, what is at
        the top stays at the top."""
        if not self._width:
            return
        old = self.plan
        anchor = old.entries[self.top_entry()] if keep and old.entries else None
        split = self.split if self.split is not None else self._width >= SPLIT_AUTO
        self.plan = layout = Layout(self.files, self._width, split and self._width >= SPLIT_MIN)
        top = layout.find(anchor) if anchor is not None else 0
        self._cache.clear()
        self.colours.plain.clear()
        self.virtual_size = Size(self._width, layout.starts[-1])
        self.scroll_to(y=layout.starts[top] if layout.entries else 0, animate=False)
        self.refresh()
        self._check_top()

    # -- where things are -----------------------------------------------------------------

    @property
    def total(self) -> int:
        return self.plan.starts[-1]

    def top_entry(self) -> int:
        entries, starts = self.plan.entries, self.plan.starts
        if not entries:
            return 0
        return max(0, min(len(entries) - 1, bisect_right(starts, round(self.scroll_y)) - 1))

    def top_file(self) -> int:
        """The file whose lines are at the top of the view (-1: none)."""
        if not self.entries:
            return -1
        return self.entries[self.top_entry()][1]

    def _check_top(self) -> None:
        index = self.top_file()
        if index != self._top_file:
            self._top_file = index
            self.post_message(self.TopFile(self, index))

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._check_top()

    def _go(self, targets: list[int], step: int) -> bool:
        """Scroll the next (``step`` 1) or previous (-1) of ``targets`` to the top."""
        y = round(self.scroll_y)
        starts = self.plan.starts
        if step > 0:
            found = next((e for e in targets if starts[e] > y), None)
            if found is not None and y >= self.max_scroll_y:
                found = None  # already at the end: it is on screen
        else:
            found = next((e for e in reversed(targets) if starts[e] < y), None)
        if found is None:
            return False
        self.scroll_to(y=starts[found], animate=False)
        return True

    def next_hunk(self) -> bool:
        return self._go(self.plan.hunks, 1)

    def prev_hunk(self) -> bool:
        return self._go(self.plan.hunks, -1)

    def next_file(self) -> bool:
        return self._go(self.plan.file_entries, 1)

    def prev_file(self) -> bool:
        return self._go(self.plan.file_entries, -1)

    def show_file(self, index: int) -> None:
        layout = self.plan
        if 0 <= index < len(layout.file_entries):
            self.scroll_to(y=layout.starts[layout.file_entries[index]], animate=False)

    @property
    def hunk_count(self) -> int:
        return len(self.plan.hunks)

    # -- drawing ------------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        width = self.scrollable_content_region.width
        if width and width != self._width:
            self._width = width
            self._layout(keep=True)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.restyle())

    def restyle(self) -> None:
        self.colours.clear()
        self._styles.clear()
        self._cache.clear()
        self.notify_style_update()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self._width or self.size.width
        line = y + round(self.scroll_y)
        if not self.entries or line >= self.total:
            return Strip.blank(width, self.rich_style)
        starts = self.plan.starts
        index = bisect_right(starts, line) - 1
        strips = self._cache.get(index)
        if strips is None:
            strips = self._render_entry(index)
            self._cache.set(index, strips)
        offset = line - starts[index]
        return strips[offset] if offset < len(strips) else Strip.blank(width, self.rich_style)

    def lines_on_screen(self) -> list[str]:
        """The text on screen, line by line (what a reader sees; for tests)."""
        return [self.render_line(y).text.rstrip() for y in range(self.scrollable_content_region.height)]

    def all_lines(self) -> Iterable[str]:
        """Every line of the view's text, drawn (for tests: slow on a long diff)."""
        for index in range(len(self.entries)):
            for strip in self._render_entry(index):
                yield strip.text.rstrip()

    def _style(self, name: str) -> Style:
        """A component style (cached: reading one from the CSS costs more than a line)."""
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(f"diff--{name}")
        return style

    @property
    def _base(self) -> Style:
        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = self.rich_style
        return style

    def _render_entry(self, index: int) -> list[Strip]:
        kind, fi, a, b = self.entries[index]
        width = self._width
        base = self._base
        if kind == GAP:
            return [Strip.blank(width, base)]
        prepared = self.files[fi]
        if kind == FILE:
            return [self._file_line(fi, width)]
        if kind == EMPTY:
            return [self._full(Text(self._empty_text(prepared.file), style=self._style("meta")), width)]
        if kind == ROW:
            row = prepared.rows[a]
            if row.kind == HUNK:
                return [self._full(Text(prepared.texts[a], style=self._style("hunk")), width, crop=True)]
            if row.kind in (META, NOTE):
                style = self._style("meta")
                pieces = self._pieces(Text(prepared.texts[a], style=style), width, style)
                return [Strip(segments, width) for segments in pieces]
            if self.plan.split:
                left = self._side_lines(index, fi, a, 0, (width - 1) // 2)
                right = self._side_lines(index, fi, a, 1, width - 1 - (width - 1) // 2)
                return self._join(left, right, (width - 1) // 2, width)
            return self._unified_lines(index, fi, a, width)
        half = (width - 1) // 2
        left = self._side_lines(index, fi, a, 0, half) if a >= 0 else []
        right = self._side_lines(index, fi, b, 1, width - 1 - half) if b >= 0 else []
        return self._join(left, right, half, width)

    def _empty_text(self, file: DiffFile) -> str:
        if file.patch.binary:
            return t("diff.binary")
        return t("diff.no_patch", added=file.additions, removed=file.deletions)

    def _file_line(self, fi: int, width: int) -> Strip:
        file = self.files[fi].file
        style = self._style("file")
        text = Text(" ", style=style)
        text.append(clean(file.diff.file))
        text.append(f"  {status_text(file.diff.status)}", style=Style(dim=True))
        text.append(f"  +{file.additions}", style=Style(color="green"))
        text.append(f" -{file.deletions}", style=Style(color="red"))
        if file.note:
            text.append(f"  · {clean(file.note)}", style=Style(dim=True, bold=False))
        if len(self.files) > 1:
            text.append(f"  ({fi + 1}/{len(self.files)})", style=Style(dim=True, bold=False))
        return self._full(text, width, crop=True)

    def _full(self, text: Text, width: int, crop: bool = False) -> Strip:
        if crop:
            text.truncate(width, overflow="ellipsis")
        style = text.style if isinstance(text.style, Style) else Style()
        return _strip(text, self.app.console, style).adjust_cell_length(width, style)

    def _line_text(self, index: int, fi: int, i: int) -> Text:
        """Line ``i`` of file ``fi``, coloured (its lexer's colours, its changed spans)."""
        prepared = self.files[fi]
        row = prepared.rows[i]
        kind = row.kind
        line_style = self._style("added" if kind == ADDED else "removed") if kind != CONTEXT else self._base
        coloured = self.colours.line(index, self.files, fi, i) if self.colour else None
        text = coloured.copy() if coloured is not None else Text(prepared.texts[i])
        text.style = line_style  # under the lexer's colours and the changed spans
        partner = prepared.partner.get(i)
        if partner is not None:
            old, new = (i, partner) if kind == REMOVED else (partner, i)
            both = prepared.changes.get(old)
            if both is None:
                both = prepared.changes[old] = changed_spans(prepared.texts[old], prepared.texts[new])
            spans = both[0 if kind == REMOVED else 1]
            name = "removed-change" if kind == REMOVED else "added-change"
            change = Style(bgcolor=self._style(name).bgcolor)
            for start, end in spans:
                text.stylize(change, start, end)
        return text

    def _pieces(self, text: Text, width: int, style: Style) -> list[list[Segment]]:
        """``text`` wrapped at ``width``: each line's segments, padded to the width."""
        console = self.app.console
        out = []
        for piece in _wrap(text, width):
            segments = list(Segment.apply_style(piece.render(console), style))
            pad = width - piece.cell_len
            if pad > 0:
                segments.append(Segment(" " * pad, style))
            out.append(segments)
        return out

    def _gutter(self, row: Row) -> tuple[Style, Style, str]:
        kind = row.kind
        if kind == ADDED:
            return self._style("added-number"), self._style("added-sign"), "+ "
        if kind == REMOVED:
            return self._style("removed-number"), self._style("removed-sign"), "- "
        return self._style("number"), self._base, "  "

    def _unified_lines(self, index: int, fi: int, i: int, width: int) -> list[Strip]:
        prepared = self.files[fi]
        row = prepared.rows[i]
        n = prepared.number
        number_style, sign_style, sign = self._gutter(row)
        old = f"{row.old:>{n}}" if row.old is not None else " " * n
        new = f"{row.new:>{n}}" if row.new is not None else " " * n
        text = self._line_text(index, fi, i)
        line_style = text.style if isinstance(text.style, Style) else Style()
        body = self._pieces(text, max(1, width - 2 * (n + 1) - 2), line_style)
        out = []
        for k, piece in enumerate(body):
            gutter = f"{old} {new} " if k == 0 else " " * (2 * n + 2)
            mark = sign if k == 0 else "  "
            out.append(Strip([Segment(gutter, number_style), Segment(mark, sign_style), *piece], width))
        return out

    def _side_lines(self, index: int, fi: int, i: int, side: int, width: int) -> list[list[Segment]]:
        prepared = self.files[fi]
        row = prepared.rows[i]
        n = prepared.number
        number = row.old if side == 0 else row.new
        number_style, sign_style, sign = self._gutter(row)
        text = self._line_text(index, fi, i)
        line_style = text.style if isinstance(text.style, Style) else Style()
        body = self._pieces(text, max(1, width - n - 3), line_style)
        shown = f"{number:>{n}} " if number is not None else " " * (n + 1)
        return [
            [
                Segment(shown if k == 0 else " " * (n + 1), number_style),
                Segment(sign if k == 0 else "  ", sign_style),
                *piece,
            ]
            for k, piece in enumerate(body)
        ]

    def _join(
        self, left: list[list[Segment]], right: list[list[Segment]], half: int, width: int
    ) -> list[Strip]:
        base = self._base
        rule = Segment("│", self._style("rule"))
        blank_left = [Segment(" " * half, base)]
        blank_right = [Segment(" " * (width - 1 - half), base)]
        return [
            Strip(
                [
                    *(left[k] if k < len(left) else blank_left),
                    rule,
                    *(right[k] if k < len(right) else blank_right),
                ],
                width,
            )
            for k in range(max(len(left), len(right), 1))
        ]

    # -- colours --------------------------------------------------------------------------

    @property
    def coloured(self) -> bool:
        """Every line drawn so far has its colours (nothing waits on the lexer)."""
        return self.colours.done

    def discard(self, index: int) -> None:
        """Draw entry ``index`` again when it is next on screen."""
        self._cache.discard(index)


def highlight(lines: list[str], path: str, theme: str = "ansi_dark") -> list[Text]:
    """``lines`` (one run of a file) in the colours of ``path``'s lexer; no backgrounds."""
    lexer = lexer_for(path)
    if lexer is None:
        return [Text(line) for line in lines]
    from rich.syntax import Syntax

    syntax = Syntax("", lexer, theme=theme)
    code = "\n".join(lines)
    text = syntax.highlight(code)
    text.rstrip()
    out = text.split("\n", allow_blank=True)
    while len(out) < len(lines):
        out.append(Text(""))
    result = []
    for piece, line in zip(out, lines, strict=False):
        plain = Text(line)
        for span in piece.spans:
            style = span.style if isinstance(span.style, Style) else Style.parse(str(span.style))
            plain.spans.append(
                span._replace(style=Style(color=style.color, bold=style.bold, italic=style.italic))
            )
        result.append(plain)
    return result


# -- the few lines an edit card shows -------------------------------------------------------


def compact_diff(files: list[FileDiff], limit: int = 30, short: Callable[[str], str] | None = None) -> Text:
    """An edit's change in a few coloured lines (numbers, signs; no syntax colours), for
    the expanded tool card; past ``limit`` lines, how many more there are."""
    out = Text()
    shown = 0
    hidden = 0
    for diff in files:
        patch = parse_patch(diff.patch)
        if len(files) > 1:
            if out:
                out.append("\n")
            name = short(diff.file) if short is not None else diff.file
            out.append(
                f"{clean(name)}  +{diff.additions or patch.additions} -{diff.deletions or patch.deletions}",
                style="bold",
            )
        number = max(2, len(str(max((max(r.old or 0, r.new or 0) for r in patch.rows), default=0))))
        for row in patch.rows:
            if row.kind not in (ADDED, REMOVED, CONTEXT, HUNK):
                continue
            if shown >= limit:
                hidden += 1
                continue
            if out:
                out.append("\n")
            shown += 1
            if row.kind == HUNK:
                out.append("⋯", style="dim")
                continue
            no = row.new if row.kind == ADDED else row.old
            out.append(f"{no:>{number}} ", style="dim")
            style = {ADDED: "green", REMOVED: "red"}.get(row.kind, "")
            sign = {ADDED: "+ ", REMOVED: "- "}.get(row.kind, "  ")
            out.append(sign + _shown(row.text)[:400], style=style)
    if hidden:
        out.append("\n")
        out.append(t("diff.more_lines", count=hidden), style="dim")
    return out
