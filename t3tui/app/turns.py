"""The thread view: turns with their prompt, streamed Markdown, reasoning, tools, errors.

Widgets render the store; they never parse the protocol. The app calls :meth:`sync` on
a short timer, and each widget compares the versions it last showed with the store's,
so a burst of 10,000 deltas a second costs one repaint per tick.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.markdown import Markdown as RichMarkdown
from rich.panel import Panel
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Collapsible, Markdown, Static

from t3tui.i18n import t
from t3tui.safe import clean, duration, one_line
from t3tui.store import SETTLED, PartState, Thread, Turn

Clock = Callable[[], float]
PREVIEW_LINES = 8
WINDOW = 20  # turns mounted when a thread opens
BATCH = 6  # turns mounted at a time as the user scrolls towards either end
MAX_MOUNTED = 40  # turns mounted at most; the rest of a long thread is unmounted


class Literal(Static):
    """A Static that shows text as it is: never parsed as markup."""

    def __init__(self, text: str = "", **kw: Any) -> None:
        super().__init__(Text(clean(text)), markup=False, **kw)

    def show(self, text: str, style: str = "") -> None:
        self.update(Text(clean(text), style=style))


class TextPartView(Markdown):
    """Assistant text, streamed through Textual's Markdown stream."""

    def __init__(self, part: PartState) -> None:
        super().__init__("", classes="text-part")
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


class ReasoningView(Collapsible):
    """Reasoning, collapsed by default."""

    def __init__(self, part: PartState) -> None:
        self.part = part
        self.body = Literal("", classes="reasoning-body")
        super().__init__(self.body, title=t("turn.reasoning"), collapsed=True, classes="reasoning")

    async def sync(self) -> None:
        text = self.part.text
        self.body.show(text)
        self.title = t("turn.reasoning_chars", count=len(text)) if text else t("turn.reasoning")


TOOL_ICONS = {"pending": "○", "running": "◐", "completed": "●", "error": "✕"}


class ToolView(Literal):
    """A tool call: state, title and an output preview (live while it runs)."""

    def __init__(self, part: PartState) -> None:
        super().__init__("", classes="tool-part")
        self.part = part

    async def sync(self) -> None:
        data: Any = self.part.data
        if data is None:
            return
        status = data.state.status or "pending"
        self.set_class(status == "error", "-error")
        self.set_class(status == "running", "-running")
        self.update(tool_text(data))


def tool_text(data: Any) -> Text:
    """A tool call as text: icon, tool, state, title, and the last lines of output."""
    state = data.state
    status = state.status or "pending"
    title = state.title or _tool_summary(state.input)
    head = Text()
    head.append(f"{TOOL_ICONS.get(status, '○')} ", style="bold")
    head.append(clean(data.tool or "tool"), style="bold")
    head.append(f"  {t('tool.' + status) if status in TOOL_ICONS else clean(status)}", style="dim")
    if title:
        head.append(f"  {one_line(title, 100)}")
    output = state.output
    if output is None and state.metadata:
        meta_out = state.metadata.get("output")
        output = meta_out if isinstance(meta_out, str) else None
    body = state.error if status == "error" else output
    if body:
        lines = clean(body).rstrip("\n").split("\n")
        if len(lines) > PREVIEW_LINES:
            hidden = len(lines) - PREVIEW_LINES
            lines = [t("tool.more_lines", count=hidden), *lines[-PREVIEW_LINES:]]
        head.append("\n")
        head.append("\n".join(lines), style="red" if status == "error" else "")
    return head


def _tool_summary(args: Any) -> str:
    if not isinstance(args, dict):
        return ""
    for key in ("description", "command", "filePath", "path", "pattern", "url"):
        value = args.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


class StepView(Literal):
    def __init__(self, part: PartState) -> None:
        super().__init__("", classes="step-part")
        self.part = part

    async def sync(self) -> None:
        self.show(step_text(self.part))


def step_text(part: PartState) -> str:
    data: Any = part.data
    tokens = (data.tokens or {}).get("total") if data is not None and getattr(data, "tokens", None) else None
    reason = getattr(data, "reason", None) or ""
    if tokens:
        return t("turn.step_tokens", reason=reason, tokens=tokens)
    return t("turn.step", reason=reason)


class SettledTextView(Static):
    """Text that is no longer streaming: one widget with a Rich Markdown renderable.

    Textual's Markdown widget mounts a widget per block, which makes a long thread slow
    to open and scroll; finished text needs none of that.
    """

    def __init__(self, part: PartState) -> None:
        super().__init__("", classes="text-part settled")
        self.part = part

    async def sync(self) -> None:
        self.update(RichMarkdown(clean(self.part.text)))


def part_view(part: PartState, settled: bool = False) -> Widget | None:
    if part.type == "text":
        return SettledTextView(part) if settled and part.final else TextPartView(part)
    if part.type == "reasoning":
        return ReasoningView(part)
    if part.type == "tool":
        return ToolView(part)
    if part.type == "step-finish":
        return StepView(part)
    return None


class TurnView(Vertical):
    """One turn: the prompt, then every assistant part in order, then its state.

    A turn that is already over when it is mounted (history) is *compact*: its parts
    are one Static of Rich renderables instead of a widget each, which makes a long
    thread quick to open and scroll. A click expands it into the full form (where the
    reasoning can be opened).
    """

    @dataclass
    class Expand(Message):
        view: TurnView

    def __init__(self, turn: Turn, clock: Clock, compact: bool | None = None) -> None:
        super().__init__(classes=f"turn -{turn.state}", id=f"turn-{turn.id}")
        self.turn = turn
        self.compact = turn.state in SETTLED if compact is None else compact
        self._body_key: tuple[Any, ...] | None = None
        self._state_class: str = turn.state
        self.clock = clock
        self._versions: dict[str, int] = {}
        self._views: dict[str, Widget] = {}
        self._shown_state: tuple[Any, ...] | None = None
        self._state_line = ""
        self._lock = asyncio.Lock()  # on_mount and the app's repaint may both sync

    def compose(self) -> ComposeResult:
        yield Literal(self.turn.prompt, classes="prompt")
        if self.compact:
            # Two widgets for the whole turn: layout cost grows with the widget count.
            yield Static("", classes="compact-body")
            return
        yield Vertical(classes="parts")
        yield Literal("", classes="error-card")
        yield Literal("", classes="turn-state")

    def prompt_text(self) -> str:
        """The prompt as shown."""
        return clean(self.turn.prompt or " ")

    def state_text(self) -> str:
        """The state line as shown (``Worked 3s``, ``Interrupted``…)."""
        return self._state_line

    def on_click(self) -> None:
        if self.compact:
            self.post_message(self.Expand(self))

    def shown_text(self) -> str:
        """The assistant text this view shows (what the user reads)."""
        if self.compact:
            return self.turn.text
        return "".join(
            v.part.text for v in self._views.values() if isinstance(v, TextPartView | SettledTextView)
        )

    def _sync_compact(self) -> None:
        turn = self.turn
        parts = [p for msg in turn.messages() for p in msg.sorted_parts()]
        state_line = turn_status_text(turn, self.clock() * 1000)
        key = (tuple((p.id, p.version) for p in parts), turn.prompt, turn.state, turn.error, state_line)
        if key == self._body_key:
            return
        self._body_key = key
        self._state_line = state_line
        self._set_state_class(turn.state)
        self.query_one(".prompt", Literal).show(self.prompt_text())
        items: list[Any] = []
        for part in parts:
            if part.type == "text" and part.text:
                items.append(RichMarkdown(clean(part.text)))
            elif part.type == "reasoning" and part.text:
                items.append(Text(t("turn.reasoning_collapsed", count=len(part.text)), style="dim"))
            elif part.type == "tool" and part.data is not None:
                items.append(tool_text(part.data))
            elif part.type == "step-finish":
                items.append(Text(step_text(part), style="dim"))
        if turn.state == "error":
            error = t("turn.error_card", error=turn.error or t("turn.unknown_error"))
            items.append(Panel(Text(clean(error)), border_style="red", expand=False))
        style = {"interrupted": "yellow", "error": "red"}.get(turn.state, "dim")
        items.append(Text(state_line, style=style))
        self.query_one(".compact-body", Static).update(Group(*items))

    async def on_mount(self) -> None:
        await self.sync()

    async def sync(self) -> None:
        if not self.children:  # not composed yet: on_mount syncs
            return
        async with self._lock:
            await self._sync()

    async def _sync(self) -> None:
        turn = self.turn
        if self.compact:
            self._sync_compact()
            return
        self.query_one(".prompt", Literal).show(turn.prompt or " ")
        parts_box = self.query_one(".parts", Vertical)
        for msg in turn.messages():
            for part in msg.sorted_parts():
                view = self._views.get(part.id)
                if view is None:
                    view = part_view(part, settled=turn.state in SETTLED)
                    if view is None:
                        continue
                    self._views[part.id] = view
                    await parts_box.mount(view)
                if self._versions.get(part.id) != part.version:
                    self._versions[part.id] = part.version
                    await view.sync()  # type: ignore[attr-defined]
        self.refresh_state()

    def _set_state_class(self, state: str) -> None:
        if state != self._state_class:
            # One class swap, not five set_class calls: each one restyles the subtree.
            self.remove_class(f"-{self._state_class}")
            self.add_class(f"-{state}")
            self._state_class = state

    def refresh_state(self) -> None:
        if not self.children:  # mounting: a timer can get here before compose
            return
        if self.compact:
            self._sync_compact()
            return
        turn = self.turn
        now = self.clock() * 1000
        state = turn.state
        key = (state, turn.error, int(now / 1000) if state == "running" else None, turn.thread.status)
        if key == self._shown_state:
            return
        self._shown_state = key
        self._set_state_class(state)
        if state == "error":
            card = self.query_one(".error-card", Literal)
            card.show(t("turn.error_card", error=turn.error or t("turn.unknown_error")))
        self._state_line = turn_status_text(turn, now)
        self.query_one(".turn-state", Literal).show(self._state_line)

    async def finish_streams(self) -> None:
        for view in self._views.values():
            if isinstance(view, TextPartView):
                await view.finish()


def turn_status_text(turn: Turn, now_ms: float) -> str:
    started = turn.started_at
    if turn.state == "queued":
        return t("turn.queued")
    if turn.state == "running":
        th = turn.thread
        if th.status == "retrying" and th.retry is not None:
            wait = max(0.0, ((th.retry.next or now_ms) - now_ms) / 1000)
            return t(
                "turn.retrying",
                attempt=th.retry.attempt,
                seconds=duration(wait),
                message=one_line(th.retry.message, 80),
            )
        return t("turn.working", elapsed=duration((now_ms - started) / 1000 if started else 0))
    if turn.state == "completed":
        end = turn.completed_at or now_ms
        return t("turn.worked", elapsed=duration((end - started) / 1000 if started else 0))
    if turn.state == "interrupted":
        return t("turn.interrupted")
    return t("turn.error")


class ThreadView(VerticalScroll):
    """The turns of one thread, through a window of at most ``MAX_MOUNTED`` turns.

    It opens on the last turns; scrolling to the top mounts earlier ones and, past the
    limit, unmounts the ones at the bottom (and the other way round), so a thread of
    thousands of turns costs no more than a short one.
    """

    def __init__(self, clock: Clock, **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.thread: Thread | None = None
        self._views: dict[str, TurnView] = {}
        self._first = 0  # index in thread.order of the first mounted turn
        self._last: int | None = None  # index after the last mounted turn; None: the end
        self._loading = False
        self._moved_at = 0.0
        self._placeholder = Literal("", classes="empty")
        # show_thread, sync and the window moves all mount and remove turns; one at a
        # time, or a switch of thread can remove a turn while another task mounts into it.
        self._lock = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield self._placeholder

    async def show_thread(self, thread: Thread | None, empty_text: str) -> None:
        async with self._lock:
            for view in self._views.values():
                await view.finish_streams()
            await self.remove_children(TurnView)
            self._views.clear()
            self.thread = thread
            self._placeholder.show(empty_text)
            self._placeholder.display = thread is None or not thread.order
            self._last = None
            if thread is not None:
                self._first = max(0, len(thread.order) - WINDOW)
                await self._sync()
            self.anchor()

    async def sync(self) -> None:
        async with self._lock:
            await self._sync()

    def _window(self, order: list[str]) -> list[str]:
        return order[self._first : self._last]

    async def _sync(self) -> None:
        thread = self.thread
        if thread is None:
            return
        order = thread.order
        self._placeholder.display = not order
        if self._first > len(order):
            self._first = max(0, len(order) - WINDOW)
        gone = [tid for tid in self._views if tid not in thread.turns]
        for tid in gone:
            await self._views.pop(tid).remove()
        wanted = self._window(order)
        new = [tid for tid in wanted if tid not in self._views]
        for tid in new:
            view = TurnView(thread.turns[tid], self.clock)
            self._views[tid] = view
            before = next(
                (self._views[o] for o in wanted if o > tid and o in self._views and o not in new), None
            )
            await self.mount(view, before=before) if before is not None else await self.mount(view)
        for tid in wanted:
            if tid not in new:
                await self._views[tid].sync()
        excess = len(self._views) - MAX_MOUNTED
        if self._last is None and excess > 0:
            await self._drop(order[self._first : self._first + excess])
            self._first += excess

    async def _drop(self, ids: list[str]) -> None:
        views = [self._views.pop(tid) for tid in ids if tid in self._views]
        for view in views:
            await view.finish_streams()
        if views:
            await self.remove_children(views)

    def tick(self) -> None:
        """Once a second: elapsed times and countdowns."""
        for view in self._views.values():
            if view.turn.state in ("running", "queued"):
                view.refresh_state()

    @property
    def mounted_turns(self) -> int:
        return len(self._views)

    @property
    def at_end(self) -> bool:
        return self._last is None

    async def load_earlier(self, count: int = BATCH) -> bool:
        """Mount earlier turns above the first one; unmount from the bottom past the limit."""
        thread = self.thread
        if thread is None or self._first == 0 or self._loading:
            return False
        self._loading = True
        try:
            async with self._lock:
                order = thread.order
                new_first = max(0, self._first - count)
                ids = order[new_first : self._first]
                anchor_view = self._views.get(order[self._first]) if self._first < len(order) else None
                views = [TurnView(thread.turns[tid], self.clock) for tid in ids]
                self._views.update(zip(ids, views, strict=True))
                self._first = new_first
                await self.mount_all(
                    views, before=anchor_view
                ) if anchor_view is not None else await self.mount_all(views)
                excess = len(self._views) - MAX_MOUNTED
                if excess > 0:
                    end = self._last if self._last is not None else len(order)
                    await self._drop(order[end - excess : end])
                    self._last = end - excess
                    self.release_anchor()
                if anchor_view is not None:
                    self.call_after_refresh(self.scroll_to_widget, anchor_view, animate=False, top=True)
                return True
        finally:
            self._loading = False
            self._moved_at = time.monotonic()

    async def load_later(self, count: int = BATCH) -> bool:
        """Mount later turns below the last one; unmount from the top past the limit."""
        thread = self.thread
        if thread is None or self._last is None or self._loading:
            return False
        self._loading = True
        try:
            async with self._lock:
                order = thread.order
                new_last = min(len(order), self._last + count)
                ids = order[self._last : new_last]
                anchor_view = self._views.get(order[self._last - 1]) if self._last > 0 else None
                views = [TurnView(thread.turns[tid], self.clock) for tid in ids]
                self._views.update(zip(ids, views, strict=True))
                await self.mount_all(views)
                self._last = None if new_last >= len(order) else new_last
                excess = len(self._views) - MAX_MOUNTED
                if excess > 0:
                    await self._drop(order[self._first : self._first + excess])
                    self._first += excess
                if anchor_view is not None:
                    self.call_after_refresh(self.scroll_to_widget, anchor_view, animate=False, top=False)
                return True
        finally:
            self._loading = False
            self._moved_at = time.monotonic()

    async def on_turn_view_expand(self, event: TurnView.Expand) -> None:
        """Swap a compact (history) turn for its full form."""
        old = event.view
        if self.thread is None or self._views.get(old.turn.id) is not old:
            return
        async with self._lock:
            full = TurnView(old.turn, self.clock, compact=False)
            self._views[old.turn.id] = full
            await self.mount(full, after=old)
            await old.remove()

    async def jump_to_end(self) -> None:
        if self._last is not None and self.thread is not None:
            await self.show_thread(self.thread, str(self._placeholder.render()))
        self.anchor()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self._loading or time.monotonic() - self._moved_at < 0.3:
            return  # the window just moved: this is its own scroll settling, not the user
        # Mount ahead: within a screen of either end, before the user gets there.
        margin = self.size.height
        if new < old and new <= margin and self._first > 0:
            self.run_worker(self.load_earlier(), exclusive=True, group="thread-window")
        elif new > old and new >= self.max_scroll_y - margin and self._last is not None:
            self.run_worker(self.load_later(), exclusive=True, group="thread-window")
