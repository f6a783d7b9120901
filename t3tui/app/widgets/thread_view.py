"""The open thread: its settled history drawn line by line, then the turns live in it as widgets.

A thread of thousands of turns must open and scroll like a short one, and the text the
user reads must not move while heights settle: this view decides which turns are
widgets, folds the oldest into the history, and keeps the scroll position still.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.scrollbar import ScrollBar

from t3tui.app.widgets.history import HistoryTurn, HistoryView
from t3tui.app.widgets.live_turn import PartToggled, TurnView
from t3tui.app.widgets.plain_text import PlainText
from t3tui.app.widgets.turn_text import Details
from t3tui.state.store import SETTLED, Thread, Turn

Clock = Callable[[], float]
MAX_LIVE = 8  # turns kept as widgets; older settled ones move into the history


class ThreadView(VerticalScroll):
    """The turns of one thread: its settled history, then the turns live in it.

    The history (every turn settled when the thread was opened, and the oldest live
    ones past ``MAX_LIVE``) is one :class:`HistoryView`, which draws only what is on
    screen, so a thread of thousands of turns opens and scrolls like a short one. The
    turns that run while the thread is open are widgets (:class:`TurnView`), for
    streamed Markdown and ticking state lines.

    Both draw tool calls and reasoning as :attr:`details` says (one line, or in full);
    a click on a turn points at it (``pointed``: what the copy key copies).
    """

    BINDINGS = [Binding("enter", "toggle_turn", "bind.toggle_turn", id="toggle_turn", show=False)]

    def __init__(self, clock: Clock, **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.thread: Thread | None = None
        self.details = Details()
        self.pointed: str | None = None  # the turn clicked last
        self.history = HistoryView(clock, self.details)
        self._views: dict[str, TurnView] = {}  # the turns after the history, in order
        self._placeholder = PlainText("", classes="empty")
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
            if thread is None or self.thread is None or thread.id != self.thread.id:
                self.details.forget()  # another thread: its parts start as the setting says
                self.pointed = None
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
            view = TurnView(turns[tid], self.clock, self.details)
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
        """The view sticks to the end of the thread (anchored, and not scrolled away).

        Textual says whether a widget is anchored, but not whether the user released
        the anchor by scrolling up: that one flag is read here, and only here.
        """
        return self.is_anchored and not self._anchor_released

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
            self.vertical_scrollbar.set_reactive(ScrollBar.position, float(y))
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

    # -- details on demand ------------------------------------------------------------

    async def toggle_details(self, ids: set[str] | None = None) -> None:
        """Show or hide in full ``ids`` (parts, or every part of a turn), or every
        tool call and reasoning of the thread (None); the history keeps the reader's place."""
        self.details.toggle(ids)
        await self.redraw()

    async def redraw(self) -> None:
        """What the turns show changed (details, timestamps): draw them again."""
        self.history.refresh()
        self._prepare()
        await self.sync()

    async def on_history_view_toggled(self, event: HistoryView.Toggled) -> None:
        event.stop()
        self.pointed = event.turn
        if event.ids:
            await self.redraw()

    async def on_part_toggled(self, event: PartToggled) -> None:
        event.stop()
        self.pointed = event.turn
        if event.ids:
            await self.redraw()

    def shown_turns(self) -> list[Turn]:
        """The turns on screen now, in order."""
        history = self.history
        top, height = self._viewport()
        shown: list[Turn] = []
        if history.turns and top < history.total and top + height > 0:
            first, last = history.index_at(max(0, top)), history.index_at(top + height - 1)
            shown += history.turns[first : last + 1]
        region = self.region
        shown += [view.turn for view in self._views.values() if view.region.overlaps(region)]
        return shown

    def pointed_turn(self) -> Turn | None:
        """The turn clicked last, while it is on screen (else None)."""
        if self.pointed is None:
            return None
        return next((turn for turn in self.shown_turns() if turn.id == self.pointed), None)

    async def action_toggle_turn(self) -> None:
        """Enter on the thread: the details of the turn pointed at (else the last one)."""
        turn = self.pointed_turn()
        if turn is None and self.thread is not None and self.thread.order:
            turn = self.thread.turns[self.thread.order[-1]]
        if turn is not None:
            await self.toggle_details({turn.id})

    def tick(self) -> None:
        """Once a second: elapsed times and countdowns."""
        for view in self._views.values():
            if view.turn.state in ("running", "queued"):
                view.refresh_state()
