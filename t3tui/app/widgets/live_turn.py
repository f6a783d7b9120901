"""A turn running while its thread is open, as widgets: streamed Markdown, live tool cards, a ticking state.

Widgets render the store; they never parse the protocol. The app repaints on a short
timer, and each widget compares the versions it last showed with the store's, so a burst
of 10,000 deltas a second costs one repaint per tick. Settled turns are drawn by
:class:`~t3tui.app.widgets.history.HistoryView` instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from markdown_it import MarkdownIt
from rich.rule import Rule
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Click
from textual.message import Message
from textual.widgets import Markdown, Static

from t3tui.app.markdown import ThreadMarkdown
from t3tui.app.widgets.plain_text import PlainText
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
from t3tui.state.store import SETTLED, PartState, Turn
from t3tui.text import clean

Clock = Callable[[], float]


def streaming_parser() -> MarkdownIt:
    """Textual's "gfm-like" parser without linkify: Textual parses the growing paragraph
    again on each append, and linkify scanned all of it for links each time (11.8 ms for a
    2,000-token paragraph, 0.3 ms without). The history (Rich's Markdown) does not turn
    bare URLs into links either, so a turn looks the same streamed and settled."""
    return MarkdownIt("gfm-like").disable("linkify")


class TextPartView(Markdown):
    """Assistant text, streamed through Textual's Markdown stream."""

    def __init__(self, part: PartState) -> None:
        super().__init__("", classes="text-part", parser_factory=streaming_parser)
        self.part = part
        self._fed = 0
        self._generation = -1
        self._stream: Any = None

    async def sync(self) -> None:
        part = self.part
        text = part.text
        if part.generation != self._generation:
            self._generation = part.generation
            self._fed = len(text)
            if self._stream is not None:
                await self._stream.stop()
                self._stream = None
            await self.update(clean(text))
            return
        if len(text) > self._fed:
            chunk = text[self._fed :]
            self._fed = len(text)
            if self._stream is None:
                self._stream = Markdown.get_stream(self)
            await self._stream.write(clean(chunk))

    async def finish(self) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None

    async def on_unmount(self) -> None:
        await self.finish()


class PartToggled(Message):
    """A click on ``turn`` showed or hid ``ids`` (a part, or every part of the turn)."""

    def __init__(self, turn: str, ids: set[str]) -> None:
        super().__init__()
        self.turn = turn
        self.ids = ids


class DetailView(PlainText):
    """A part with details on demand: one line, or all of it (a click or the details key)."""

    def __init__(self, part: PartState, turn: Turn, details: Details, classes: str) -> None:
        super().__init__("", classes=classes)
        self.part = part
        self.turn = turn
        self.details = details

    def on_click(self, event: Click) -> None:
        if event.chain == 1 and not self.screen.selections:  # not the end of a selection
            event.stop()
            self.details.pointed_part = self.part.id
            self.details.toggle({self.part.id})
            self.post_message(PartToggled(self.turn.id, {self.part.id}))


class ReasoningView(DetailView):
    """Reasoning: a line that says how long it is, or all of it (as the history draws it)."""

    def __init__(self, part: PartState, turn: Turn, details: Details) -> None:
        super().__init__(part, turn, details, "reasoning")

    async def sync(self) -> None:
        self.update(Text("\n").join(reasoning_text(self.part.text, self.details.shown(self.turn, self.part))))


class ToolView(DetailView):
    """A tool call: one line ("→ read src/app.py"), or all its output (live while it runs)."""

    def __init__(self, part: PartState, turn: Turn, details: Details) -> None:
        super().__init__(part, turn, details, "tool-part")

    async def sync(self) -> None:
        data: Any = self.part.data
        if data is None:
            return
        status = data.state.status or "pending"
        self.set_class(status == "error", "-error")
        self.set_class(status == "running", "-running")
        full = self.details.shown(self.turn, self.part)
        child = self.details.child_badge(data)
        self.update(tool_text(data, self.turn.thread.directory, full, child))


class StepView(PlainText):
    def __init__(self, part: PartState) -> None:
        super().__init__("", classes="step-part")
        self.part = part

    async def sync(self) -> None:
        self.show(step_text(self.part))


class SettledTextView(Static):
    """Text that is no longer streaming: one widget with a Rich Markdown renderable.

    Textual's Markdown widget mounts a widget per block, which makes a long thread slow
    to open and scroll; finished text needs none of that.
    """

    def __init__(self, part: PartState) -> None:
        super().__init__("", classes="text-part settled")
        self.part = part

    async def sync(self) -> None:
        self.update(ThreadMarkdown(clean(self.part.text)))


PartView = TextPartView | SettledTextView | ReasoningView | ToolView | StepView


def part_view(part: PartState, turn: Turn, details: Details, settled: bool = False) -> PartView | None:
    if part.type == "text":
        return SettledTextView(part) if settled and part.final else TextPartView(part)
    if part.type == "reasoning":
        return ReasoningView(part, turn, details)
    if part.type == "tool":
        return ToolView(part, turn, details)
    if part.type == "step-finish":
        return StepView(part)
    return None


class TurnView(Vertical):
    """One turn as widgets: the prompt, every assistant part in order, then its state.

    Used for the turns that are live while the thread is open (streamed Markdown,
    tool cards that update, a ticking state line). Settled history is drawn by
    :class:`~t3tui.app.widgets.history.HistoryView` instead.
    """

    compact = False
    DEFAULT_CSS = """
    TurnView.-reverted {
        opacity: 55%;
    }
    TurnView .compaction-marker {
        color: $accent;
        text-style: bold;
    }
    """

    def __init__(self, turn: Turn, clock: Clock, details: Details | None = None) -> None:
        super().__init__(classes=f"turn -{turn.state}", id=f"turn-{turn.id}")
        self.turn = turn
        self.details = details if details is not None else Details()
        self._details = self.details.version  # the toggles drawn
        self._state_class: str = turn.state
        self.clock = clock
        self._versions: dict[str, int] = {}
        self._views: dict[str, PartView] = {}
        self._shown_state: tuple[Any, ...] | None = None
        self._state_line = ""
        self._lock = asyncio.Lock()  # on_mount and the app's repaint may both sync

    def compose(self) -> ComposeResult:
        yield PlainText(self.turn.prompt, classes="prompt turn-prompt")
        yield Vertical(classes="parts")
        yield PlainText("", classes="error-card")
        yield PlainText("", classes="turn-state")

    def prompt_text(self) -> str:
        """The prompt as shown (a compaction's marker)."""
        return prompt_line(self.turn)

    def state_text(self) -> str:
        """The state line as shown (``Worked 3s``, ``Interrupted``…)."""
        return self._state_line

    def shown_text(self) -> str:
        """The assistant text this view shows (what the user reads)."""
        return "".join(
            v.part.text for v in self._views.values() if isinstance(v, TextPartView | SettledTextView)
        )

    async def on_mount(self) -> None:
        await self.sync()

    async def sync(self) -> None:
        if not self.children:  # not composed yet: on_mount syncs
            return
        async with self._lock:
            await self._sync()

    async def _sync(self) -> None:
        turn = self.turn
        self._show_prompt(turn)
        parts_box = self.query_one(".parts", Vertical)
        for msg in turn.messages():
            for part in msg.sorted_parts():
                view = self._views.get(part.id)
                if view is None:
                    view = part_view(part, turn, self.details, settled=turn.state in SETTLED)
                    if view is None:
                        continue
                    if not parts_box.is_attached:
                        return  # this turn is being removed (thread switch, quit)
                    self._views[part.id] = view
                    await parts_box.mount(view)
                if self._versions.get(part.id) != part.version or (
                    self._details != self.details.version and isinstance(view, DetailView)
                ):
                    self._versions[part.id] = part.version
                    await view.sync()
        self._details = self.details.version
        if turn.state in SETTLED:
            # The Markdown stream applies writes on its own task: flush it, so the
            # whole text is on screen by the time the state line says the turn ended.
            await self.finish_streams()
        self.refresh_state()

    def _show_prompt(self, turn: Turn) -> None:
        """The prompt, or for a compaction a rule that says so (as the history draws it)."""
        view = self.query_one(".turn-prompt", PlainText)
        marker = compaction_text(turn)
        view.set_class(marker is None, "prompt")
        view.set_class(marker is not None, "compaction-marker")
        if marker is None:
            view.show(turn.prompt or " ")
        else:
            view.update(Rule(Text(marker), style="bold"))

    def _set_state_class(self, state: str) -> None:
        if state != self._state_class:
            # One class swap, not five set_class calls: each one restyles the subtree.
            self.remove_class(f"-{self._state_class}")
            self.add_class(f"-{state}")
            self._state_class = state

    def refresh_state(self) -> None:
        if not self.children:  # mounting: a timer can get here before compose
            return
        turn = self.turn
        now = self.clock() * 1000
        state = turn.state
        key = (
            state,
            turn.error,
            int(now / 1000) if state == "running" else None,
            turn.thread.status,
            turn.settled_by,
            turn.reverted,
            self.details.timestamps,
        )
        if key == self._shown_state:
            return
        self._shown_state = key
        self._set_state_class(state)
        self.set_class(turn.reverted, "-reverted")
        if state == "error":
            card = self.query_one(".error-card", PlainText)
            card.show(error_card_text(turn))
        self._state_line = state_line(turn, now, self.details)
        self.query_one(".turn-state", PlainText).show(self._state_line)

    def on_click(self, event: Click) -> None:
        """A click elsewhere on the turn shows or hides all its details (as in the history)."""
        if event.chain == 1 and not self.screen.selections:
            parts = [p for msg in self.turn.messages() for p in msg.parts.values()]
            detailed = any(p.type in ("reasoning", "tool") for p in parts)
            ids = {self.turn.id} if detailed else set()
            self.details.pointed_part = None
            self.details.toggle(ids)
            self.post_message(PartToggled(self.turn.id, ids))

    async def finish_streams(self) -> None:
        for view in self._views.values():
            if isinstance(view, TextPartView):
                await view.finish()
