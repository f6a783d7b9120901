"""The thread view: turns with their prompt, streamed Markdown, reasoning, tools, errors.

Widgets render the store; they never parse the protocol. The app calls :meth:`sync` on
a short timer, and each widget compares the versions it last showed with the store's,
so a burst of 10,000 deltas a second costs one repaint per tick.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Collapsible, Markdown, Static

from t3tui.app.history import HistoryTurn, HistoryView
from t3tui.app.markdown import ThreadMarkdown
from t3tui.i18n import t
from t3tui.state.store import SETTLED, PartState, Thread, Turn
from t3tui.text import clean, duration, one_line

Clock = Callable[[], float]
PREVIEW_LINES = 8
MAX_LIVE = 8  # turns kept as widgets; older settled ones move into the history


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
        self.update(ThreadMarkdown(clean(self.part.text)))


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
    """One turn as widgets: the prompt, every assistant part in order, then its state.

    Used for the turns that are live while the thread is open (streamed Markdown,
    tool cards that update, a ticking state line). Settled history is drawn by
    :class:`~t3tui.app.history.HistoryView` instead.
    """

    compact = False
    DEFAULT_CSS = """
    TurnView.-reverted {
        opacity: 55%;
    }
    """

    def __init__(self, turn: Turn, clock: Clock) -> None:
        super().__init__(classes=f"turn -{turn.state}", id=f"turn-{turn.id}")
        self.turn = turn
        self._state_class: str = turn.state
        self.clock = clock
        self._versions: dict[str, int] = {}
        self._views: dict[str, Widget] = {}
        self._shown_state: tuple[Any, ...] | None = None
        self._state_line = ""
        self._lock = asyncio.Lock()  # on_mount and the app's repaint may both sync

    def compose(self) -> ComposeResult:
        yield Literal(self.turn.prompt, classes="prompt")
        yield Vertical(classes="parts")
        yield Literal("", classes="error-card")
        yield Literal("", classes="turn-state")

    def prompt_text(self) -> str:
        """The prompt as shown."""
        return clean(self.turn.prompt or " ")

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
        self.query_one(".prompt", Literal).show(turn.prompt or " ")
        parts_box = self.query_one(".parts", Vertical)
        for msg in turn.messages():
            for part in msg.sorted_parts():
                view = self._views.get(part.id)
                if view is None:
                    view = part_view(part, settled=turn.state in SETTLED)
                    if view is None:
                        continue
                    if not parts_box.is_attached:
                        return  # this turn is being removed (thread switch, quit)
                    self._views[part.id] = view
                    await parts_box.mount(view)
                if self._versions.get(part.id) != part.version:
                    self._versions[part.id] = part.version
                    await view.sync()  # type: ignore[attr-defined]
        if turn.state in SETTLED:
            # The Markdown stream applies writes on its own task: flush it, so the
            # whole text is on screen by the time the state line says the turn ended.
            await self.finish_streams()
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
        )
        if key == self._shown_state:
            return
        self._shown_state = key
        self._set_state_class(state)
        self.set_class(turn.reverted, "-reverted")
        if state == "error":
            card = self.query_one(".error-card", Literal)
            card.show(error_card_text(turn))
        self._state_line = turn_status_text(turn, now)
        self.query_one(".turn-state", Literal).show(self._state_line)

    async def finish_streams(self) -> None:
        for view in self._views.values():
            if isinstance(view, TextPartView):
                await view.finish()


def error_card_text(turn: Turn) -> str:
    """The error, and, when the server had the prompt and running it failed (a provider
    that cannot be reached, a key it refuses, a model it does not know), which model
    and provider, and the keys that fix it."""
    text = t("turn.error_card", error=turn.error or t("turn.unknown_error"))
    if turn.user is None:
        return text  # the server never had the prompt: nothing a provider did
    model = turn.model or turn.thread.model
    if model and "/" in model:
        provider = model.split("/", 1)[0]
        return text + "\n" + t("turn.provider_hint", model=model, provider=provider)
    return text + "\n" + t("turn.keys_hint")


# Why a turn that did not complete ended, by who settled it (Turn.settled_by).
WHY = {
    "user": "turn.why_user",
    "aborted": "turn.why_aborted",
    "disposed": "turn.why_disposed",
    "resync": "turn.why_resync",
    "local": "turn.why_local",
}


def why_ended(turn: Turn) -> str:
    """Why an interrupted turn ended, in a few words ("" when nobody knows)."""
    by = turn.settled_by
    if by == "server":
        # The server's account: an abort seen only in the history, or a message it
        # marked over with neither a finish nor an error.
        last = turn.last_assistant()
        aborted = last is not None and last.error is not None and last.error.aborted
        return t("turn.why_aborted_earlier") if aborted else t("turn.why_local")
    key = WHY.get(by or "")
    return t(key) if key else ""


def turn_status_text(turn: Turn, now_ms: float) -> str:
    """The state line of a turn: its state, why it ended if it did not complete, and
    whether it is reverted."""
    line = _state_text(turn, now_ms)
    if turn.reverted:
        line += " · " + t("turn.reverted")
    return line


def _state_text(turn: Turn, now_ms: float) -> str:
    started = turn.started_at
    if turn.state == "queued":
        return t("turn.queued")
    if turn.state == "running":
        if turn.user is None and turn.optimistic_prompt is not None:
            return t("turn.sending")  # the server has not shown the prompt yet
        th = turn.thread
        if th.status == "retrying" and th.retry is not None:
            nxt = th.retry.next  # None when the server did not say (or said NaN): unknown
            return t(
                "turn.retrying",
                attempt=th.retry.attempt,
                seconds=duration((nxt - now_ms) / 1000 if nxt is not None else None),
                message=one_line(th.retry.message, 80),
            ) + t("turn.retry_stop")
        since = started if started is not None else th.busy_since
        return t("turn.working", elapsed=duration((now_ms - since) / 1000 if since is not None else None))
    if turn.state == "completed":
        end = turn.completed_at if turn.completed_at is not None else now_ms
        return t("turn.worked", elapsed=duration((end - started) / 1000 if started is not None else None))
    if turn.state == "interrupted":
        why = why_ended(turn)
        return t("turn.interrupted") + (" · " + why if why else "")
    return t("turn.error")


class ThreadView(VerticalScroll):
    """The turns of one thread: its settled history, then the turns live in it.

    The history (every turn settled when the thread was opened, and the oldest live
    ones past ``MAX_LIVE``) is one :class:`HistoryView`, which draws only what is on
    screen, so a thread of thousands of turns opens and scrolls like a short one. The
    turns that run while the thread is open are widgets (:class:`TurnView`), for
    streamed Markdown and ticking state lines.
    """

    def __init__(self, clock: Clock, **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.thread: Thread | None = None
        self.history = HistoryView(clock)
        self._views: dict[str, TurnView] = {}  # the turns after the history, in order
        self._placeholder = Literal("", classes="empty")
        self._adjusting = False
        self._reading: tuple[int, int] = (0, 0)  # the turn at the top of the screen, and the line in it
        # show_thread and sync both mount and remove turns; one at a time, or a switch
        # of thread can remove a turn while another task mounts into it.
        self._lock = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield self._placeholder
        yield self.history

    # -- what is shown ----------------------------------------------------------------

    def turn_views(self) -> list[HistoryTurn | TurnView]:
        """Every turn of the thread as shown, in order (history first)."""
        return [*self.history.entries(), *self._views.values()]

    @property
    def mounted_turns(self) -> int:
        """Turns that are widgets (the history is one widget whatever its length)."""
        return len(self._views)

    def _width(self) -> int:
        return self.history.size.width or self.scrollable_content_region.width

    async def show_thread(self, thread: Thread | None, empty_text: str) -> None:
        async with self._lock:
            await self._clear()
            self.thread = thread
            self._placeholder.show(empty_text)
            self._placeholder.display = thread is None or not thread.order
            if thread is not None:
                order = thread.order
                split = next(
                    (i for i, tid in enumerate(order) if thread.turns[tid].state not in SETTLED), len(order)
                )
                self.history.set_turns([thread.turns[tid] for tid in order[:split]], self._width())
                await self._sync()
            else:
                self.history.set_turns([], self._width())
            self.anchor()
            self._prepare_end()

    async def _clear(self) -> None:
        for view in self._views.values():
            await view.finish_streams()
        if self._views:
            await self.remove_children(list(self._views.values()))
        self._views.clear()

    async def sync(self) -> None:
        async with self._lock:
            await self._sync()

    async def _sync(self) -> None:
        thread = self.thread
        if thread is None:
            return
        order = thread.order
        turns = thread.turns
        self._placeholder.display = not order
        history = self.history
        count = len(history.turns)
        if order[:count] != history.ids:
            # A turn of the history went away (or one came in between): start over.
            await self._clear()
            history.set_turns([], self._width())
            count = 0
        # A turn can leave the settled states again (reopened by a resync): it and the
        # ones after it become widgets.
        for index in range(max(0, count - 20), count):
            if history.turns[index].state not in SETTLED:
                await self._clear()
                history.truncate(index)
                count = index
                break
        wanted = order[count:]
        for tid in [tid for tid in self._views if tid not in turns or tid not in wanted]:
            await self._views.pop(tid).remove()
        new = [tid for tid in wanted if tid not in self._views]
        if new and not self._views:
            # Settled turns that arrive with no live turn before them (a thread's
            # history loading after it was opened) go straight into the history.
            settled = 0
            while settled < len(new) and turns[new[settled]].state in SETTLED:
                settled += 1
            if settled:
                history.append([turns[tid] for tid in new[:settled]])
                new = new[settled:]
                wanted = wanted[settled:]
        for tid in new:
            if not self.is_attached:
                return  # the app is closing: nothing more to mount
            view = TurnView(turns[tid], self.clock)
            before = next((self._views[o] for o in wanted if o > tid and o in self._views), None)
            self._views[tid] = view
            await self.mount(view, before=before) if before is not None else await self.mount(view)
        if new:
            # Keep the widgets in thread order (the dict is what turn_views reports).
            self._views = {tid: self._views[tid] for tid in wanted if tid in self._views}
        for tid, view in self._views.items():
            if tid not in new:
                await view.sync()
        await self._fold()
        # Render what is on screen of the history (new turns, late updates to drawn ones).
        self._prepare()

    async def _fold(self) -> None:
        """Move the oldest settled widgets into the history past ``MAX_LIVE``."""
        views = list(self._views.values())
        folded: list[TurnView] = []
        for view in views[: max(0, len(views) - MAX_LIVE)]:
            if view.turn.state not in SETTLED:
                break
            folded.append(view)
        if not folded:
            return
        following = self._following()
        above = self.scroll_y - self.history.outer_size.height
        old = sum(v.outer_size.height + 1 for v in folded)  # each has a blank line below
        start = len(self.history.turns)
        self.history.append([v.turn for v in folded])
        for view in folded:
            del self._views[view.turn.id]
            await view.finish_streams()
        await self.remove_children(folded)
        if not following and old <= above:
            # They were above the screen: keep what the user reads in place.
            new = self.history.measure_from(start)
            self._move_to(self.scroll_y + new - old)

    # -- keeping the screen still while heights settle --------------------------------

    def _following(self) -> bool:
        return self._anchored and not self._anchor_released

    def _viewport(self) -> tuple[int, int]:
        top = round(self.scroll_y) - self.history.virtual_region.y
        return top, self.scrollable_content_region.height

    def _prepare(self) -> None:
        history = self.history
        if not history.turns or self._adjusting:
            return
        top, height = self._viewport()
        if height <= 0:
            return
        width = history.size.width
        if width and width != history.width:
            self._rewrap(width)
            return
        if self._following():
            self._prepare_end()
            return
        if top >= history.total + height:
            return
        new_top = history.prepare(top, height)
        if new_top != top:
            self._move_to(round(self.scroll_y) + new_top - top)
        index = history.index_at(new_top)
        self._reading = (index, new_top - history.starts[index])

    def _rewrap(self, width: int) -> None:
        """A new width: every line moved; go back to the turn the user was reading."""
        history = self.history
        index, offset = self._reading
        history.set_width(width)
        if self._following() or not history.turns:
            self._prepare_end()
            return
        index = min(index, len(history.turns) - 1)
        history.prepare(history.starts[index], self.scrollable_content_region.height)
        line = min(offset, max(0, history.heights[index] - 1))
        self._move_to(history.virtual_region.y + history.starts[index] + line)

    def _prepare_end(self) -> None:
        """Render the history's last screen (the thread opens at its end)."""
        history = self.history
        height = self.scrollable_content_region.height or self.app.size.height
        if history.turns:
            history.prepare(max(0, history.total - height), height)

    def _move_to(self, y: int) -> None:
        """Scroll to ``y`` before the next frame, past the old end if content grew."""
        self._adjusting = True
        try:
            self.set_reactive(VerticalScroll.scroll_y, float(y))
            self.set_reactive(VerticalScroll.scroll_target_y, float(y))
            self.vertical_scrollbar._reactive_position = float(y)
            self.refresh(layout=True)
        finally:
            self._adjusting = False

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._prepare()

    def on_history_view_changed(self, event: HistoryView.Changed) -> None:
        event.stop()
        self._prepare()

    def on_resize(self) -> None:
        self._prepare()

    def tick(self) -> None:
        """Once a second: elapsed times and countdowns."""
        for view in self._views.values():
            if view.turn.state in ("running", "queued"):
                view.refresh_state()

    async def jump_to_end(self) -> None:
        self.scroll_end(animate=False)
        self.anchor()
