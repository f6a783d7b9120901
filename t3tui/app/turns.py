"""The thread view: turns with their prompt, streamed Markdown, reasoning, tools, errors.

Widgets render the store; they never parse the protocol. The app calls :meth:`sync` on
a short timer, and each widget compares the versions it last showed with the store's,
so a burst of 10,000 deltas a second costs one repaint per tick.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Collapsible, Markdown, Static

from t3tui.i18n import t
from t3tui.safe import clean, duration, one_line
from t3tui.store import PartState, Thread, Turn

Clock = Callable[[], float]
PREVIEW_LINES = 8
WINDOW = 30  # turns mounted at first; more are mounted as the user scrolls up


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
        state = data.state
        status = state.status or "pending"
        self.set_class(status == "error", "-error")
        self.set_class(status == "running", "-running")
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
        self.update(head)


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
        data: Any = self.part.data
        tokens = (data.tokens or {}).get("total") if data is not None and getattr(data, "tokens", None) else None
        reason = getattr(data, "reason", None) or ""
        if tokens:
            self.show(t("turn.step_tokens", reason=reason, tokens=tokens))
        else:
            self.show(t("turn.step", reason=reason))


def part_view(part: PartState) -> Widget | None:
    if part.type == "text":
        return TextPartView(part)
    if part.type == "reasoning":
        return ReasoningView(part)
    if part.type == "tool":
        return ToolView(part)
    if part.type == "step-finish":
        return StepView(part)
    return None


class TurnView(Vertical):
    """One turn: the prompt, then every assistant part in order, then its state."""

    def __init__(self, turn: Turn, clock: Clock) -> None:
        super().__init__(classes="turn", id=f"turn-{turn.id}")
        self.turn = turn
        self.clock = clock
        self._versions: dict[str, int] = {}
        self._views: dict[str, Widget] = {}
        self._shown_state: tuple[Any, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Literal(self.turn.prompt, classes="prompt")
        yield Vertical(classes="parts")
        yield Literal("", classes="error-card")
        yield Literal("", classes="turn-state")

    async def on_mount(self) -> None:
        await self.sync()

    async def sync(self) -> None:
        if not self.children:  # not composed yet: on_mount syncs
            return
        turn = self.turn
        self.query_one(".prompt", Literal).show(turn.prompt or " ")
        parts_box = self.query_one(".parts", Vertical)
        for msg in turn.messages():
            for part in msg.sorted_parts():
                view = self._views.get(part.id)
                if view is None:
                    view = part_view(part)
                    if view is None:
                        continue
                    self._views[part.id] = view
                    await parts_box.mount(view)
                if self._versions.get(part.id) != part.version:
                    self._versions[part.id] = part.version
                    await view.sync()  # type: ignore[attr-defined]
        self.refresh_state()

    def refresh_state(self) -> None:
        if not self.children:  # mounting: a timer can get here before compose
            return
        turn = self.turn
        now = self.clock() * 1000
        state = turn.state
        key = (state, turn.error, int(now / 1000) if state == "running" else None, turn.thread.status)
        if key == self._shown_state:
            return
        self._shown_state = key
        for name in ("queued", "running", "completed", "interrupted", "error"):
            self.set_class(state == name, f"-{name}")
        card = self.query_one(".error-card", Literal)
        if state == "error":
            card.show(t("turn.error_card", error=turn.error or t("turn.unknown_error")))
            card.display = True
        else:
            card.display = False
        self.query_one(".turn-state", Literal).show(turn_status_text(turn, now))

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
            return t("turn.retrying", attempt=th.retry.attempt, seconds=duration(wait), message=one_line(th.retry.message, 80))
        return t("turn.working", elapsed=duration((now_ms - started) / 1000 if started else 0))
    if turn.state == "completed":
        end = turn.completed_at or now_ms
        return t("turn.worked", elapsed=duration((end - started) / 1000 if started else 0))
    if turn.state == "interrupted":
        return t("turn.interrupted")
    return t("turn.error")


class ThreadView(VerticalScroll):
    """The turns of one thread, the last ones mounted first; earlier ones on demand."""

    def __init__(self, clock: Clock, **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.thread: Thread | None = None
        self._views: dict[str, TurnView] = {}
        self._first = 0  # index in thread.order of the first mounted turn
        self._loading = False
        self._placeholder = Literal("", classes="empty")

    def compose(self) -> ComposeResult:
        yield self._placeholder

    async def show_thread(self, thread: Thread | None, empty_text: str) -> None:
        for view in self._views.values():
            await view.finish_streams()
        await self.remove_children(TurnView)
        self._views.clear()
        self.thread = thread
        self._placeholder.show(empty_text)
        self._placeholder.display = thread is None or not thread.order
        if thread is not None:
            self._first = max(0, len(thread.order) - WINDOW)
            await self.sync()
        self.anchor()

    async def sync(self) -> None:
        thread = self.thread
        if thread is None:
            return
        self._placeholder.display = not thread.order
        order = thread.order
        if self._first > len(order):
            self._first = max(0, len(order) - WINDOW)
        wanted = order[self._first :]
        new = [tid for tid in wanted if tid not in self._views]
        gone = [tid for tid in self._views if tid not in thread.turns]
        for tid in gone:
            await self._views.pop(tid).remove()
        if new:
            for tid in new:
                view = TurnView(thread.turns[tid], self.clock)
                self._views[tid] = view
                before = next((self._views[o] for o in wanted if o > tid and o in self._views and o not in new), None)
                if before is not None:
                    await self.mount(view, before=before)
                else:
                    await self.mount(view)
        for tid in wanted:
            if tid not in new:
                await self._views[tid].sync()

    def tick(self) -> None:
        """Once a second: elapsed times and countdowns."""
        for view in self._views.values():
            if view.turn.state in ("running", "queued"):
                view.refresh_state()

    @property
    def mounted_turns(self) -> int:
        return len(self._views)

    async def load_earlier(self, count: int = WINDOW) -> bool:
        thread = self.thread
        if thread is None or self._first == 0 or self._loading:
            return False
        self._loading = True
        try:
            new_first = max(0, self._first - count)
            ids = thread.order[new_first : self._first]
            anchor_view = self._views.get(thread.order[self._first]) if self._first < len(thread.order) else None
            views = [TurnView(thread.turns[tid], self.clock) for tid in ids]
            for tid, view in zip(ids, views, strict=True):
                self._views[tid] = view
            self._first = new_first
            if anchor_view is not None:
                await self.mount_all(views, before=anchor_view)
                self.call_after_refresh(self.scroll_to_widget, anchor_view, animate=False, top=True)
            else:
                await self.mount_all(views)
            return True
        finally:
            self._loading = False

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new <= 0 and old > 0 and self._first > 0:
            self.run_worker(self.load_earlier(), exclusive=True, group="load-earlier")
