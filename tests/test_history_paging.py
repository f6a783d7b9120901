"""Paging a long history as the terminal shows it.

The history draws its lines straight from its turns' cache and repaints only the screen
it is on (it is as tall as the thread); these tests read what was written to the
terminal, frame after frame, so a line not repainted after a scroll, or a stale one,
shows up as text that differs from the history's. They also check the cache's bound in
lines and that paging through turns never measured keeps the thread's length (the
scrollbar) steady.
"""

from __future__ import annotations

from typing import Any

import ui_support as ui
from eventgen import (
    assistant_info,
    idle,
    msg_updated,
    new_id,
    part_updated,
    session_updated,
    status,
    text_part,
    user_info,
)
from test_ui_history import history_lines, questions, screen_lines, settle, turn_events
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.screen import Screen

from t3tui.app.app import T3App
from t3tui.app.widgets.history import CACHE_SCREENS
from t3tui.app.widgets.thread_view import ThreadView

SID = ui.SID


async def press(pilot: Any, key: str) -> None:
    """A key in the prompt (PgUp / PgDn scroll the thread from there), then the frame."""
    await pilot.press(key)
    await settle(pilot)


class Terminal:
    """The characters a terminal holds after every update the app wrote to it."""

    def __init__(self, app: T3App, width: int, height: int) -> None:
        self.grid = [[" "] * width for _ in range(height)]
        display = app._display

        def written(screen: Screen[Any], update: Any) -> None:
            self.apply(update)
            display(screen, update)

        app._display = written  # type: ignore[method-assign]

    def put(self, x: int, y: int, text: str) -> None:
        row = self.grid[y]
        for i, char in enumerate(text):
            if 0 <= x + i < len(row):
                row[x + i] = char

    def apply(self, update: Any) -> None:
        if isinstance(update, LayoutUpdate):
            for y, line in enumerate(update.strips, update.region.y):
                x = update.region.x
                for strip in line:
                    self.put(x, y, strip.text)
                    x += strip.cell_length
        elif isinstance(update, ChopsUpdate):
            # As ChopsUpdate.render_segments writes it.
            for y, x1, x2 in update.spans:
                for end, (x, strip) in zip(update.chop_ends[y], update.chops[y].items(), strict=False):
                    if strip is None or x > x2 or end <= x1:
                        continue
                    if not (x2 > x >= x1 and end <= x2):
                        strip = strip.crop(0, min(end, x2) - x)
                    self.put(x, y, strip.text)

    def lines(self, view: ThreadView) -> list[str]:
        """The history's rows of the thread view, as the terminal shows them."""
        region = view.history.region.intersection(view.scrollable_content_region)
        return ["".join(row[region.x : region.right]).rstrip() for row in self.grid[region.y : region.bottom]]


def big_turn(i: int) -> list[dict[str, Any]]:
    """A turn whose answer is far taller than the cache's bound."""
    user, asst = new_id("msg"), new_id("msg")
    text = "\n\n".join(f"paragraph {n} of the big answer" for n in range(700))
    return [
        msg_updated(user_info(SID, user)),
        part_updated(text_part(SID, user, new_id("prt"), f"question {i}")),
        status(SID, "busy"),
        msg_updated(assistant_info(SID, asst, user)),
        part_updated(text_part(SID, asst, new_id("prt"), text, end=True)),
        msg_updated(assistant_info(SID, asst, user, finish="stop", completed=True)),
        *idle(SID),
    ]


def thread(turns: int, big: int | None = None) -> Any:
    lines: list[dict[str, Any]] = [session_updated(SID, title="Long")]
    for i in range(turns):
        lines += big_turn(i) if i == big else turn_events(i)
    return ui.make_store(lines)


async def test_paging_up_shows_on_the_terminal_exactly_the_history_text() -> None:
    turns = 160
    app = ui.make_app(thread(turns))
    async with app.run_test(size=(100, 30)) as pilot:
        terminal = Terminal(app, 100, 30)
        await settle(pilot)
        view = app.main.thread_view
        app.refresh()  # one whole frame on the terminal to start from
        await settle(pilot)
        assert terminal.lines(view) == screen_lines(app)
        assert f"end of answer {turns - 1}." in "\n".join(terminal.lines(view)[-4:])
        length = view.max_scroll_y
        height = view.scrollable_content_region.height
        seen = questions(terminal.lines(view))
        app.main.prompt.focus()
        pages = 0
        while view.scroll_y > 0:
            top = round(view.scroll_y) - view.history.virtual_region.y
            above = history_lines(app, top - height, height)
            await press(pilot, "pageup")
            pages += 1
            shown = terminal.lines(view)
            # What the terminal shows is the history's text at that place: no line left
            # from the screen before, none blank that should not be.
            assert shown == screen_lines(app), f"page {pages}: the terminal differs from the history"
            if round(view.scroll_y) > 0:
                assert shown == above, f"page {pages} moved the text under the reader"
            # Turns measured for the first time do not change the thread's length while
            # turns never drawn remain to absorb the difference: the scrollbar stays
            # where it is while the reader pages.
            if not all(view.history.measured):
                assert view.max_scroll_y == length, f"page {pages} changed the thread's length"
            length = view.max_scroll_y
            seen |= questions(shown)
        assert seen == set(range(turns))
        assert terminal.lines(view)[0].startswith("█ question 0")
        await press(pilot, "ctrl+end")
        assert f"end of answer {turns - 1}." in "\n".join(terminal.lines(view)[-4:])
        assert terminal.lines(view) == screen_lines(app)


async def test_the_render_cache_holds_a_few_screens_of_lines_whatever_was_paged() -> None:
    app = ui.make_app(thread(300, big=150))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = app.main.thread_view
        history = view.history
        height = view.scrollable_content_region.height
        bound = history.cache.limit
        assert bound <= max(200, CACHE_SCREENS * height)
        app.main.prompt.focus()
        while view.scroll_y > 0:
            await press(pilot, "pageup")
            # The big answer is kept while it is drawn (it alone is over the bound).
            on_screen = history.turns[150] in view.shown_turns()
            assert history.cache.lines <= bound or on_screen, history.cache.lines
        assert history.cache.lines <= bound
        assert history.rendered >= 300  # every turn was drawn on the way up
        assert screen_lines(app)[0].startswith("█ question 0")


async def test_a_jump_to_the_middle_then_paging_down_shows_the_terminal_right() -> None:
    app = ui.make_app(thread(200))
    async with app.run_test(size=(100, 30)) as pilot:
        terminal = Terminal(app, 100, 30)
        await settle(pilot)
        view = app.main.thread_view
        view.scroll_to(y=view.max_scroll_y // 2, animate=False, immediate=True)
        await settle(pilot)
        assert terminal.lines(view) == screen_lines(app)
        app.main.prompt.focus()
        for _ in range(12):
            await press(pilot, "pagedown")
            assert terminal.lines(view) == screen_lines(app)
        assert questions(terminal.lines(view))
