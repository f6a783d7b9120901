"""The history of a thread: its settled turns, drawn line by line.

A thread can hold thousands of turns. As widgets, each would cost layout, styling and
memory whether it is on screen or not. :class:`HistoryView` is one widget for all of
them (Textual's Line API): only the lines on screen are drawn, and a turn is rendered
(Rich Markdown, at the current width) when it comes within a screen of the viewport.
A turn never rendered has an estimated height; when it is rendered and its height
turns out different, :class:`~t3tui.app.widgets.thread_view.ThreadView` moves the scroll position by
the difference, so what the user is reading stays where it is.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from rich.console import RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.events import Click, Resize
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from t3tui.app.markdown import ThreadMarkdown
from t3tui.app.widgets.turn_text import (
    compaction_text,
    error_card_text,
    prompt_line,
    step_text,
    tool_text,
    turn_status_text,
)
from t3tui.i18n import t
from t3tui.state.store import Turn
from t3tui.text import clean

Clock = Callable[[], float]
CACHE_TURNS = 40  # rendered turns kept (their lines); heights are kept for all
BAR = "█"  # the prompt's left bar, as Textual draws `border-left: thick`
REVERTED = Style(dim=True)


def turn_key(turn: Turn) -> tuple[Any, ...]:
    """What a turn's rendering depends on (the store bumps part versions on change)."""
    parts = tuple((p.id, p.version) for msg in turn.messages() for p in msg.sorted_parts())
    return (
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
                output = getattr(getattr(part.data, "state", None), "output", None) or ""
                lines += 1 + min(9, output.count("\n") + 1 if output else 0)
            elif part.type in ("reasoning", "step-finish"):
                lines += 1
    if turn.state == "error":
        lines += 3
    return lines + 2  # the state line and the blank line after the turn


def turn_renderables(turn: Turn, state_line: str, expanded: bool = False) -> list[RenderableType]:
    """A settled turn's assistant side as Rich renderables (everything but the prompt)."""
    items: list[RenderableType] = []
    for msg in turn.messages():
        for part in msg.sorted_parts():
            if part.type == "text" and part.text:
                items.append(ThreadMarkdown(clean(part.text)))
            elif part.type == "reasoning" and part.text:
                if expanded:
                    items.append(Text(t("turn.reasoning_chars", count=len(part.text)), style="dim bold"))
                    items.append(Text(clean(part.text), style="dim italic"))
                else:
                    items.append(Text(t("turn.reasoning_collapsed", count=len(part.text)), style="dim"))
            elif part.type == "tool" and part.data is not None:
                items.append(_barred(tool_text(part.data), part.data.state.status == "error"))
            elif part.type == "step-finish":
                items.append(Text(step_text(part), style="dim"))
    if turn.state == "error":
        error = error_card_text(turn)
        items.append(Panel(Text(clean(error)), border_style="red", expand=False))
    style = {"interrupted": "yellow", "error": "red"}.get(turn.state, "dim")
    items.append(Text(state_line, style=style))
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


@dataclass
class HistoryTurn:
    """A turn in the history, seen the way tests and the app read a turn widget."""

    turn: Turn
    view: HistoryView
    compact = True

    def prompt_text(self) -> str:
        return prompt_line(self.turn)

    def state_text(self) -> str:
        return turn_status_text(self.turn, self.view.clock() * 1000)

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

    def __init__(self, clock: Clock, **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.turns: list[Turn] = []
        self.heights: list[int] = []
        self._starts: list[int] | None = [0]
        self._width = 0
        # turn id -> (key, width, lines) for the turns drawn last.
        self._cache: LRUCache[str, tuple[tuple[Any, ...], int, list[Strip]]] = LRUCache(CACHE_TURNS)
        self.expanded: set[str] = set()
        self.rendered = 0  # turns rendered so far (the benchmark reads it)
        self._stale = False  # heights or drawn lines changed since the last repaint

    # -- the list ---------------------------------------------------------------------

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
        self._starts = [0]
        self._cache.clear()
        self.expanded.clear()
        self._width = width
        self.append(turns)

    def append(self, turns: list[Turn]) -> None:
        width = self._width or 80
        self.turns.extend(turns)
        self.heights.extend(estimate(turn, width) for turn in turns)
        self._starts = None
        self._apply_height()

    def truncate(self, count: int) -> list[Turn]:
        """Keep the first ``count`` turns; return the others."""
        gone = self.turns[count:]
        for turn in gone:
            self._cache.discard(turn.id)
        del self.turns[count:], self.heights[count:]
        self._starts = None
        self._apply_height()
        return gone

    def _apply_height(self) -> None:
        self._stale = False
        total = self.total
        if self.styles.height is None or self.styles.height.value != total:
            self.styles.height = total
        self.refresh()

    def index_at(self, y: int) -> int:
        """The index of the turn drawn at line ``y`` (clamped to the list)."""
        return max(0, min(len(self.turns) - 1, bisect_right(self.starts, y) - 1))

    def entries(self) -> list[HistoryTurn]:
        return [HistoryTurn(turn, self) for turn in self.turns]

    # -- rendering --------------------------------------------------------------------

    def lines(self, index: int) -> list[Strip]:
        """A turn's lines at the current width (rendered now if not cached or stale)."""
        turn = self.turns[index]
        key = turn_key(turn) + (turn.id in self.expanded,)
        width = self._width
        cached = self._cache.get(turn.id)
        if cached is not None and cached[0] == key and cached[1] == width:
            return cached[2]
        lines = self._render_turn(turn, width)
        self.rendered += 1
        if cached is not None:
            self._stale = True  # drawn before with other content: repaint
            self._cache.discard(turn.id)  # set() keeps a key's old value
        self._cache.set(turn.id, (key, width, lines))
        if self.heights[index] != len(lines):
            self.heights[index] = len(lines)
            self._starts = None
            self._stale = True
        return lines

    def _render_turn(self, turn: Turn, width: int) -> list[Strip]:
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
        state_line = turn_status_text(turn, self.clock() * 1000)
        body = max(1, width - 2)
        options = options.update(width=body)
        indent = Segment("  ")
        for item in turn_renderables(turn, state_line, turn.id in self.expanded):
            for line in console.render_lines(item, options, pad=True):
                out.append(Strip([indent, *line], width))
        out.append(Strip.blank(width))
        # Line API content gets no default colours: the widget's own are the base.
        base = self.rich_style
        if turn.reverted:
            base = base + REVERTED  # undone on the server: shown, dimmed
        return [strip.apply_style(base) for strip in out]

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
        if 0 <= offset < len(lines):
            return lines[offset]
        return Strip.blank(self.size.width)

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
        # Above it: a screen.
        covered = 0
        index = first - 1
        while index >= 0 and covered < height:
            covered += len(self.lines(index))
            index -= 1
        if self._stale:
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
        self._starts = None
        self._cache.clear()
        self._apply_height()
        return True

    def restyle(self) -> None:
        """The theme changed: the cached lines carry the old colours."""
        self._cache.clear()
        self.notify_style_update()  # the widget's own styles are cached too
        self.refresh()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.restyle())

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._width:
            self.post_message(self.Changed(self))  # the thread view re-wraps and re-anchors

    def on_click(self, event: Click) -> None:
        """A click on a turn shows (or hides again) its reasoning in full."""
        if not self.turns:
            return
        offset = event.get_content_offset(self)
        if offset is None:
            return
        turn = self.turns[self.index_at(offset.y)]
        if not any(p.type == "reasoning" for msg in turn.messages() for p in msg.parts.values()):
            return
        self.expanded.symmetric_difference_update({turn.id})
        self.post_message(self.Changed(self))
        self.refresh()
