"""The history of a thread: its settled turns, drawn line by line.

A thread can hold thousands of turns. As widgets, each would cost layout, styling and
memory whether it is on screen or not. :class:`HistoryView` is one widget for all of
them (Textual's Line API): only the lines on screen are drawn, and a turn is rendered
(Rich Markdown, at the current width) when it comes within a screen of the viewport.
A turn never rendered has an estimated height; when it is rendered and its height
turns out different, :class:`~t3tui.app.widgets.thread_view.ThreadView` moves the scroll position by
the difference, so what the user is reading stays where it is.

Text can be selected as in any Textual widget: each line carries the offsets Textual's
selection reads (``Strip.apply_offsets``), the selected span is drawn in the screen's
selection style, and :meth:`HistoryView.get_selection` gives the text without the
prompt's bar or the indent. A double click selects the turn under the pointer. A
selection that covers turns never drawn takes their Markdown instead (nothing is
rendered for it).

The widget is as tall as the thread (hundreds of thousands of lines), so nothing may cost
in proportion to its height: the lines are drawn straight from the turns' cache (which
holds a few screens of lines, not a number of turns) instead of Textual's per-widget line
cache, which keeps every line drawn and is marked dirty line by line on each whole
repaint; a repaint is one of the screen the widget is on; and a measured turn's change of
height is taken from turns never measured, away from the screen, so the widget keeps its
height (Textual marks every line dirty when a widget's size changes).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Self

from rich.cells import cell_len
from rich.console import RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.events import Click, MouseDown, Resize
from textual.geometry import Offset, Region
from textual.message import Message
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from t3tui.app.markdown import ThreadMarkdown
from t3tui.app.widgets.turn_text import (
    Details,
    compaction_text,
    error_card_text,
    prompt_line,
    reasoning_text,
    state_line,
    step_text,
    tool_text,
)
from t3tui.state.export import turn_markdown
from t3tui.state.store import Turn
from t3tui.text import clean

Clock = Callable[[], float]
CACHE_SCREENS = 8  # lines of rendered turns kept: this many screens (heights are kept for all)
CACHE_MIN_LINES = 200
MIN_HEIGHT = 3  # the fewest lines a turn takes (prompt, state line, blank line)
BAR = "█"  # the prompt's left bar, as Textual draws `border-left: thick`
REVERTED = Style(dim=True)
PREFIX = 2  # the prompt's bar and a space, or the indent of the answer: not selected text
Owned = list[str | None]  # per line, the part (reasoning, tool) it draws, if any
Entry = tuple[tuple[Any, ...], int, list[Strip], Owned]  # key, width, lines, their parts


class LineCache:
    """Rendered turns by id, the most recently drawn last, bounded by their lines: a
    turn of a thousand lines costs what a hundred short ones do, and the memory follows
    the screens drawn, not the turns. The turn stored last is always kept."""

    def __init__(self, limit: int = CACHE_MIN_LINES) -> None:
        self.limit = limit
        self.lines = 0
        self._turns: OrderedDict[str, Entry] = OrderedDict()

    def get(self, key: str) -> Entry | None:
        entry = self._turns.get(key)
        if entry is not None:
            self._turns.move_to_end(key)
        return entry

    def set(self, key: str, entry: Entry) -> None:
        self.discard(key)
        self._turns[key] = entry
        self.lines += len(entry[2])
        while self.lines > self.limit and len(self._turns) > 1:
            _key, old = self._turns.popitem(last=False)
            self.lines -= len(old[2])

    def discard(self, key: str) -> None:
        old = self._turns.pop(key, None)
        if old is not None:
            self.lines -= len(old[2])

    def clear(self) -> None:
        self._turns.clear()
        self.lines = 0

    def __contains__(self, key: str) -> bool:
        return key in self._turns

    def __len__(self) -> int:
        return len(self._turns)


def turn_key(turn: Turn, details: Details | None = None) -> tuple[Any, ...]:
    """What a turn's rendering depends on (the store bumps part versions on change), and
    which of its parts show in full."""
    parts = tuple(
        (p.id, p.version, details is not None and p.type in ("tool", "reasoning") and details.shown(turn, p))
        for msg in turn.messages()
        for p in msg.sorted_parts()
    )
    return (
        details is not None and details.timestamps,
        details.children_version if details is not None else 0,
        parts,
        turn.prompt,
        turn.state,
        turn.error,
        turn.started_at,
        turn.completed_at,
        turn.settled_by,
        turn.reverted,
    )


def _wrapped(text: str, width: int) -> int:
    width = max(1, width)
    return sum(max(1, -(-len(line) // width)) for line in text.split("\n"))


def estimate(turn: Turn, width: int) -> int:
    """The height a turn will probably have (lines), without rendering it."""
    lines = _wrapped(turn.prompt or " ", width - 3)
    body = width - 2
    for msg in turn.messages():
        for part in msg.sorted_parts():
            if part.type == "text" and part.text:
                text = part.text.strip("\n")
                # Markdown separates blocks with a blank line and drops the blank lines
                # inside them; list items and headings add none.
                lines += _wrapped(text.replace("\n\n", "\n"), body) + text.count("\n\n") + 1
            elif part.type == "tool":
                lines += 1  # one line until its details are asked for
            elif part.type in ("reasoning", "step-finish"):
                lines += 1
    if turn.state == "error":
        lines += 3
    return lines + 2  # the state line and the blank line after the turn


def turn_renderables(turn: Turn, line: str, details: Details) -> list[tuple[RenderableType, str | None]]:
    """A settled turn's assistant side as Rich renderables (everything but the prompt),
    each with the part it draws when a click on it shows or hides that part."""
    items: list[tuple[RenderableType, str | None]] = []
    directory = turn.thread.directory
    for msg in turn.messages():
        for part in msg.sorted_parts():
            if part.type == "text" and part.text:
                items.append((ThreadMarkdown(clean(part.text)), None))
            elif part.type == "reasoning" and part.text:
                items += [(text, part.id) for text in reasoning_text(part.text, details.shown(turn, part))]
            elif part.type == "tool" and part.data is not None:
                child = details.child_badge(part.data)
                text = tool_text(part.data, directory, details.shown(turn, part), child)
                items.append((_barred(text, part.data.state.status == "error"), part.id))
            elif part.type == "step-finish":
                items.append((Text(step_text(part), style="dim"), None))
    if turn.state == "error":
        error = error_card_text(turn)
        items.append((Panel(Text(clean(error)), border_style="red", expand=False), None))
    style = {"interrupted": "yellow", "error": "red"}.get(turn.state, "dim")
    items.append((Text(line, style=style), None))
    return items


def _barred(text: Text, error: bool) -> Text:
    """A tool card as the live view draws it: a bar down its left side (red on error)."""
    bar = Text("│ ", style="red" if error else "bright_black")
    out = Text()
    for i, line in enumerate(text.split("\n", allow_blank=True)):
        if i:
            out.append("\n")
        out.append_text(bar)
        out.append_text(line)
    return out


def absorb(
    heights: list[int], measured: bytearray, spare: tuple[int, int], first: int, last: int, extra: int
) -> tuple[int, int]:
    """Take ``extra`` lines from the heights of turns never measured outside
    ``first..last``: after it first (what is read stays still), then before it, each
    kept to ``MIN_HEIGHT`` at least; what they cannot absorb changes the total.
    ``spare`` bounds the turns that may still absorb (the ones before its first index
    and after its last are measured or at ``MIN_HEIGHT``); returns it moved on."""
    low, high = spare
    while extra and high > last:
        if measured[high] or (extra > 0 and heights[high] <= MIN_HEIGHT):
            high -= 1
            continue
        change = extra if extra < 0 else min(extra, heights[high] - MIN_HEIGHT)
        heights[high] -= change
        extra -= change
    while extra and low < first:
        if measured[low] or (extra > 0 and heights[low] <= MIN_HEIGHT):
            low += 1
            continue
        change = extra if extra < 0 else min(extra, heights[low] - MIN_HEIGHT)
        heights[low] -= change
        extra -= change
    return low, high


@dataclass
class HistoryTurn:
    """A turn in the history, seen the way tests and the app read a turn widget."""

    turn: Turn
    view: HistoryView
    compact = True

    def prompt_text(self) -> str:
        return prompt_line(self.turn)

    def state_text(self) -> str:
        return state_line(self.turn, self.view.clock() * 1000, self.view.details)

    def shown_text(self) -> str:
        return self.turn.text

    def rendered_text(self) -> str:
        """The turn's lines as drawn, with runs of whitespace made one space."""
        index = self.view.turns.index(self.turn)
        return " ".join(" ".join(strip.text.split()) for strip in self.view.lines(index)).strip()


class HistoryView(Widget):
    """Settled turns, one after the other, as lines (see the module's docstring)."""

    COMPONENT_CLASSES = {"history--prompt", "history--bar"}
    DEFAULT_CSS = """
    HistoryView {
        height: 0;
    }
    HistoryView > .history--prompt {
        background: $boost;
        text-style: bold;
    }
    HistoryView > .history--bar {
        background: $boost;
        color: $accent;
    }
    """

    @dataclass
    class Changed(Message):
        """Heights changed outside a scroll (a click, a resize): the thread re-anchors."""

        view: HistoryView

    def __init__(self, clock: Clock, details: Details | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.details = details if details is not None else Details()
        self.turns: list[Turn] = []
        self.heights: list[int] = []
        self.measured = bytearray()  # per turn: 1 once its height is a rendered one, not an estimate
        self._starts: list[int] | None = [0]
        self._width = 0
        self._height = 0  # the height the widget has (the total when last applied)
        self._spare = (0, -1)  # turns before / after these indices are measured or at MIN_HEIGHT
        # turn id -> (key, width, lines, the part each line draws) for the turns drawn last
        # (tests and the benchmark read its size: ``cache.lines``, ``cache.limit``).
        self.cache = LineCache()
        self._pressed = 0  # the line of the last mouse press (a double click selects its turn)
        self.rendered = 0  # turns rendered so far (the benchmark reads it)
        self._stale = False  # heights or drawn lines changed since the last repaint

    # -- the list ---------------------------------------------------------------------

    @property
    def expanded(self) -> set[str]:
        """The turns and parts shown otherwise than the thread's setting (clicked)."""
        return self.details.flipped

    @property
    def ids(self) -> list[str]:
        return [turn.id for turn in self.turns]

    @property
    def total(self) -> int:
        starts = self.starts
        return starts[-1]

    @property
    def starts(self) -> list[int]:
        if self._starts is None:
            self._starts = [0, *accumulate(self.heights)]
        return self._starts

    def set_turns(self, turns: list[Turn], width: int) -> None:
        self.turns = []
        self.heights = []
        self.measured = bytearray()
        self._spare = (0, -1)
        self._starts = [0]
        self.cache.clear()
        self._width = width
        self.append(turns)

    def append(self, turns: list[Turn]) -> None:
        width = self._width or 80
        self.turns.extend(turns)
        self.heights.extend(estimate(turn, width) for turn in turns)
        self.measured.extend(bytes(len(turns)))
        self._spare = (self._spare[0], len(self.turns) - 1)
        self._starts = None
        self._apply_height()

    def truncate(self, count: int) -> list[Turn]:
        """Keep the first ``count`` turns; return the others."""
        gone = self.turns[count:]
        for turn in gone:
            self.cache.discard(turn.id)
        del self.turns[count:], self.heights[count:], self.measured[count:]
        self._spare = (min(self._spare[0], count), min(self._spare[1], count - 1))
        self._starts = None
        self._apply_height()
        return gone

    def _apply_height(self) -> None:
        self._stale = False
        total = self.total
        if self._height != total or self.styles.height is None or self.styles.height.value != total:
            self._height = total
            self.styles.height = total
        self.refresh()

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Self:
        """A repaint of this widget is one of the part of the screen it is on (the
        viewport that holds it): lines are drawn afresh from the turns' cache
        (:meth:`render_lines`), so no line of this tall widget is marked dirty."""
        parent = self.parent
        if repaint and not recompose and self.is_mounted and isinstance(parent, Widget):
            super().refresh(repaint=False, layout=layout)
            parent.refresh()
            return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines in ``crop`` (the part on screen), drawn from the turns' cache. Textual's
        own line cache would keep every line ever drawn of a widget this tall."""
        width = self.size.width
        style = self.rich_style
        filters = self.get_line_filters()
        background = self.background_colors[1]
        strips: list[Strip] = []
        for y in crop.line_range:
            strip = self.render_line(y).adjust_cell_length(width, style)
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)
            strips.append(strip)
        if crop.column_span != (0, width):
            x1, x2 = crop.column_span
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def _keep_height(self, first: int, last: int) -> None:
        """Measured heights changed the total: turns never measured outside
        ``first..last`` absorb the difference (see :func:`absorb`)."""
        if self._height:
            extra = self.total - self._height
            self._spare = absorb(self.heights, self.measured, self._spare, first, last, extra)
            self._starts = None

    def index_at(self, y: int) -> int:
        """The index of the turn drawn at line ``y`` (clamped to the list)."""
        return max(0, min(len(self.turns) - 1, bisect_right(self.starts, y) - 1))

    def entries(self) -> list[HistoryTurn]:
        return [HistoryTurn(turn, self) for turn in self.turns]

    # -- rendering --------------------------------------------------------------------

    def lines(self, index: int) -> list[Strip]:
        """A turn's lines at the current width (rendered now if not cached or stale)."""
        return self._drawn(index)[0]

    def _cached(self, index: int) -> tuple[list[Strip], Owned] | None:
        turn = self.turns[index]
        cached = self.cache.get(turn.id)
        if cached is not None and cached[1] == self._width and cached[0] == turn_key(turn, self.details):
            return cached[2], cached[3]
        return None

    def _drawn(self, index: int) -> tuple[list[Strip], Owned]:
        turn = self.turns[index]
        key = turn_key(turn, self.details)
        width = self._width
        cached = self.cache.get(turn.id)
        if cached is not None and cached[0] == key and cached[1] == width:
            return cached[2], cached[3]
        lines, owners = self._render_turn(turn, width)
        self.rendered += 1
        if cached is not None:
            self._stale = True  # drawn before with other content: repaint
            self.cache.discard(turn.id)  # set() keeps a key's old value
        self.cache.set(turn.id, (key, width, lines, owners))
        self.measured[index] = 1
        if self.heights[index] != len(lines):
            self.heights[index] = len(lines)
            self._starts = None
            self._stale = True
        return lines, owners

    def _render_turn(self, turn: Turn, width: int) -> tuple[list[Strip], Owned]:
        console = self.app.console
        prompt_style = self.get_component_rich_style("history--prompt")
        bar_style = self.get_component_rich_style("history--bar")
        pad = Style.from_color(bgcolor=prompt_style.bgcolor)
        inner = max(1, width - 3)
        options = console.options.update(width=inner, height=None, highlight=False, markup=False)
        out: list[Strip] = []
        marker = compaction_text(turn)
        if marker is not None:
            # A compaction has no prompt: a rule that says what happened (as the live turn).
            accent = Style(color=bar_style.color, bold=True)
            rule = Rule(Text(marker, style=accent), style=accent)
            for line in console.render_lines(rule, options.update(width=width), pad=True):
                out.append(Strip(line, width))
        else:
            prompt = Text(clean(turn.prompt or " "), style=prompt_style)
            for line in console.render_lines(prompt, options, style=pad, pad=True):
                segments = [Segment(BAR, bar_style), Segment(" ", pad), *line, Segment(" ", pad)]
                out.append(Strip(segments, width))
        owners: Owned = [None] * len(out)
        shown = state_line(turn, self.clock() * 1000, self.details)
        body = max(1, width - 2)
        options = options.update(width=body)
        indent = Segment("  ")
        for item, owner in turn_renderables(turn, shown, self.details):
            for line in console.render_lines(item, options, pad=True):
                out.append(Strip([indent, *line], width))
                owners.append(owner)
        out.append(Strip.blank(width))
        owners.append(None)
        # Line API content gets no default colours: the widget's own are the base.
        base = self.rich_style
        if turn.reverted:
            base = base + REVERTED  # undone on the server: shown, dimmed
        return [strip.apply_style(base) for strip in out], owners

    def render_line(self, y: int) -> Strip:
        if not self.turns:
            return Strip.blank(self.size.width)
        index = self.index_at(y)
        start = self.starts[index]
        height = self.heights[index]
        lines = self.lines(index)
        if len(lines) != height:
            # Reached without a scroll (a jump): fix the positions after this frame.
            self.call_after_refresh(self.post_message, self.Changed(self))
        offset = y - start
        if not 0 <= offset < len(lines):
            return Strip.blank(self.size.width)
        strip = lines[offset]
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(y)) is not None:
            strip = self._highlight(strip, *span)
        return strip.apply_offsets(0, y)

    # -- selecting text ---------------------------------------------------------------

    def _highlight(self, strip: Strip, start: int, end: int) -> Strip:
        """``strip`` with the characters ``start..end`` (-1: to the end) in the selection style."""
        text = strip.text
        end = len(text) if end == -1 else min(end, len(text))
        start = max(start, PREFIX)
        if start >= end:
            return strip
        a, b = cell_len(text[:start]), cell_len(text[:end])
        left, mid, right = strip.divide([a, b, strip.cell_length])
        style = self.screen.get_component_rich_style("screen--selection")
        mid = Strip(Segment.apply_style(mid, post_style=style), mid.cell_length)
        return Strip.join([left, mid, right])

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text, as the lines show it, less the bar and the indent."""
        if not self.turns:
            return None
        last = self.total - 1
        sy, sx = (selection.start.y, selection.start.x) if selection.start else (0, 0)
        ey, ex = (selection.end.y, selection.end.x) if selection.end else (last, -1)
        sy, ey = max(0, sy), min(last, ey)
        out: list[str] = []
        for index in range(self.index_at(sy), self.index_at(ey) + 1):
            top = self.starts[index]
            height = self.heights[index]
            cached = self._cached(index)
            if cached is None and sy <= top and ey >= top + height - 1:
                # Wholly selected and never drawn: its Markdown, not a render of it.
                turn = self.turns[index]
                out += turn_markdown(turn, state=HistoryTurn(turn, self).state_text()).split("\n")
                continue
            lines = self.lines(index)
            for y in range(max(sy, top), min(ey, top + len(lines) - 1) + 1):
                text = lines[y - top].text
                cut = ex if y == ey and ex != -1 else len(text)
                out.append(text[max(PREFIX, sx if y == sy else 0) : cut].rstrip())
        return "\n".join(out), "\n"

    def text_select_all(self) -> None:
        """A double click: select the turn under the pointer (the whole history is a
        triple click, which selects the thread)."""
        if not self.turns:
            return
        index = self.index_at(self._pressed)
        top = self.starts[index]
        end = top + self.heights[index] - 1  # the blank line after the turn is not its text
        self.screen.selections = {self: Selection(Offset(0, top), Offset(0, end))}

    def on_mouse_down(self, event: MouseDown) -> None:
        offset = event.get_content_offset(self)
        if offset is not None:
            self._pressed = offset.y

    # -- keeping the viewport's turns measured ----------------------------------------

    def prepare(self, top: int, height: int) -> int:
        """Render the turns within a screen of the lines ``top..top+height``.

        Returns where ``top`` should be afterwards so the line that was at the top of
        the viewport stays there (heights above it may have changed).
        """
        if not self.turns:
            return top
        if self._width == 0:
            return top
        self.cache.limit = max(CACHE_MIN_LINES, CACHE_SCREENS * height)
        starts = self.starts
        first = self.index_at(max(0, top))
        offset = max(0, top) - starts[first]
        # Below and including the top turn: a screen and a margin of a screen.
        need = offset + 2 * height
        covered = 0
        index = first
        while index < len(self.turns) and covered < need:
            covered += len(self.lines(index))
            index += 1
        last = index - 1
        # Above it: a screen.
        covered = 0
        index = first - 1
        while index >= 0 and covered < height:
            covered += len(self.lines(index))
            index -= 1
        if self._stale:
            self._keep_height(index + 1, last)
            self._apply_height()
        new_start = self.starts[first]
        return new_start + min(offset, max(0, self.heights[first] - 1)) if top >= 0 else top

    @property
    def width(self) -> int:
        """The width the heights and cached lines are for."""
        return self._width

    def measure_from(self, start: int) -> int:
        """Render the turns from ``start`` to the end now; their height in lines."""
        height = sum(len(self.lines(index)) for index in range(start, len(self.turns)))
        if self._stale:
            self._apply_height()
        return height

    def set_width(self, width: int) -> bool:
        """A new width: every height is an estimate again. True if it changed."""
        if width <= 0 or width == self._width:
            return False
        self._width = width
        self.heights = [estimate(turn, width) for turn in self.turns]
        self.measured = bytearray(len(self.turns))
        self._spare = (0, len(self.turns) - 1)
        self._starts = None
        self.cache.clear()
        self._apply_height()
        return True

    def restyle(self) -> None:
        """The theme changed: the cached lines carry the old colours."""
        self.cache.clear()
        self.notify_style_update()  # the widget's own styles are cached too
        self.refresh()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.restyle())

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._width:
            self.post_message(self.Changed(self))  # the thread view re-wraps and re-anchors

    @dataclass
    class Toggled(Message):
        """A click on ``turn`` showed or hid ``ids`` (a part, or every part of the turn)."""

        turn: str
        ids: set[str]

    def on_click(self, event: Click) -> None:
        """A click on a tool call or on reasoning shows (or hides) it in full; a click
        elsewhere on a turn does so for all of that turn's. Either points at the turn
        (the copy key copies it). A click that ends a selection does neither."""
        if not self.turns or event.chain > 1 or self.screen.selections:
            return
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = self.index_at(offset.y)
        turn = self.turns[index]
        _lines, owners = self._drawn(index)
        line = offset.y - self.starts[index]
        owner = owners[line] if 0 <= line < len(owners) else None
        detailed = any(p.type in ("reasoning", "tool") for msg in turn.messages() for p in msg.parts.values())
        ids = {owner} if owner else {turn.id} if detailed else set()
        self.details.pointed_part = owner
        if ids:
            self.details.toggle(ids)  # at once: the next line drawn shows it
            self.post_message(self.Changed(self))
            self.refresh()
        self.post_message(self.Toggled(turn.id, ids))
