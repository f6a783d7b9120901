"""A long thread's history: paging through it, turns moving into it, clicks, resizes.

The history is drawn line by line with estimated heights for turns not yet rendered;
these tests check what a reader would notice if that went wrong: a skipped or repeated
stretch of text while paging, a turn missing, the place lost on a resize.
"""

from __future__ import annotations

import re
from typing import Any

import ui_support as ui
from eventgen import (
    DIR,
    assistant_info,
    delta,
    idle,
    msg_updated,
    new_id,
    part_updated,
    prompt_run,
    session_updated,
    status,
    text_part,
    user_info,
)
from textual.pilot import Pilot
from textual.widgets import Markdown

from t3tui import observations
from t3tui.app.app import T3App
from t3tui.app.widgets.history import HistoryView
from t3tui.app.widgets.live_turn import TurnView
from t3tui.app.widgets.thread_view import MAX_LIVE
from t3tui.state.store import Store

SID = ui.SID
WORDS = ["the", "settlement", "rule", "keeps", "every", "turn", "honest", "about", "whether", "it", "runs"]


def answer(i: int) -> str:
    """Answers of very different shapes, so estimated heights are often wrong."""
    paragraphs = [
        " ".join(WORDS[(i + k) % len(WORDS)] for k in range(8 + (i * 7 + p) % 40)) for p in range(i % 5)
    ]
    text = f"## Answer {i}\n\n" + "\n\n".join(paragraphs)
    if i % 3 == 0:
        text += "\n\n```python\n" + "\n".join(f"line_{n} = {n}" for n in range(i % 7)) + "\n```"
    if i % 4 == 1:
        text += "\n\n" + "\n".join(f"- item {n} of answer {i}" for n in range(i % 6))
    return text + f"\n\nend of answer {i}."


def turn_events(i: int, reasoning: str | None = None) -> list[dict[str, Any]]:
    user, asst = new_id("msg"), new_id("msg")
    events = [
        msg_updated(user_info(SID, user)),
        part_updated(text_part(SID, user, new_id("prt"), f"question {i}")),
        status(SID, "busy"),
        msg_updated(assistant_info(SID, asst, user)),
    ]
    if reasoning is not None:
        thought = text_part(SID, asst, new_id("prt"), reasoning, end=True, kind="reasoning")
        events.append(part_updated(thought))
    events += [
        part_updated(text_part(SID, asst, new_id("prt"), answer(i), end=True)),
        msg_updated(assistant_info(SID, asst, user, finish="stop", completed=True)),
        *idle(SID),
    ]
    return events


def varied_thread(turns: int) -> Store:
    lines: list[dict[str, Any]] = [session_updated(SID, title="Varied")]
    for i in range(turns):
        lines += turn_events(i)
    return ui.make_store(lines)


def history_lines(app: T3App, start: int, count: int) -> list[str]:
    history = app.main.thread_view.history
    end = min(history.total, start + count)
    return [history.render_line(y).text.rstrip() for y in range(max(0, start), end)]


def screen_lines(app: T3App) -> list[str]:
    """The history's lines on screen, as the reader sees them."""
    view = app.main.thread_view
    top = round(view.scroll_y) - view.history.virtual_region.y
    return history_lines(app, top, view.scrollable_content_region.height)


def questions(lines: list[str]) -> set[int]:
    return {int(m.group(1)) for line in lines for m in re.finditer(r"question (\d+)\b", line)}


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause(0.05)
    await pilot.pause(0)


async def run_live(app: T3App, pilot: Pilot[Any], i: int, reasoning: str | None = None) -> None:
    """Turn ``i`` runs while the thread is open: the user sees it start, then end."""
    events = turn_events(i, reasoning=reasoning)
    for obs in events[:4]:
        app.link.observe(obs)
    await settle(pilot)
    for obs in events[4:]:
        app.link.observe(obs)
    await settle(pilot)


async def test_paging_up_a_long_thread_skips_and_repeats_nothing() -> None:
    turns = 150
    app = ui.make_app(varied_thread(turns))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = app.main.thread_view
        assert view.mounted_turns == 0  # all history: one widget, whatever the length
        assert f"end of answer {turns - 1}." in "\n".join(screen_lines(app)[-4:])
        seen = questions(screen_lines(app))
        view.focus()
        await pilot.press("pageup")  # the key works on the thread
        await settle(pilot)
        assert view.scroll_y < view.max_scroll_y
        seen |= questions(screen_lines(app))
        height = view.scrollable_content_region.height
        pages = 0
        while view.scroll_y > 0:
            top = round(view.scroll_y) - view.history.virtual_region.y
            above = history_lines(app, top - height, height)
            view.scroll_page_up(animate=False)
            await settle(pilot)
            pages += 1
            now = screen_lines(app)
            if round(view.scroll_y) > 0:
                # Exactly the screen above the previous one: nothing skipped or repeated,
                # even where estimated heights were replaced by real ones.
                assert now == above, f"page {pages} moved the text under the reader"
            seen |= questions(now)
        assert seen == set(range(turns))
        assert screen_lines(app)[0].startswith("█ question 0")
        assert "question&#160;0" in app.export_screenshot()
        await pilot.press("end")
        await settle(pilot)
        assert f"end of answer {turns - 1}." in "\n".join(screen_lines(app)[-4:])


async def test_jumping_to_the_middle_shows_whole_turns() -> None:
    app = ui.make_app(varied_thread(200))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = app.main.thread_view
        view.scroll_to(y=view.max_scroll_y // 2, animate=False, immediate=True)
        await settle(pilot)
        lines = screen_lines(app)
        shown = sorted(questions(lines))
        assert shown, lines
        # Every turn on screen is drawn from its own lines: its prompt is followed by
        # its own answer (no line of one turn drawn at another's place).
        for q in shown[:-1]:
            at = next(i for i, line in enumerate(lines) if line.startswith(f"█ question {q}"))
            assert any(f"Answer {q}" in line for line in lines[at : at + 4]), lines


async def test_turns_that_ran_while_open_join_the_history_past_the_limit() -> None:
    app = ui.make_app(ui.interrupted())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        count = MAX_LIVE + 4
        for i in range(count):
            await run_live(app, pilot, i)
        await settle(pilot)
        view = app.main.thread_view
        thread = app.threads.current
        assert thread is not None
        shown = view.turn_views()
        assert [v.turn.id for v in shown] == thread.order
        assert 0 < view.mounted_turns <= MAX_LIVE
        assert len(view.history.turns) == len(thread.order) - view.mounted_turns
        for v in shown:
            assert v.shown_text() == v.turn.text
            if v.compact and v.turn.prompt.startswith("question"):  # drawn from its own text
                assert f"end of answer {v.turn.prompt.split()[-1]}." in v.rendered_text()
        # Still at the end: the newest answer is on screen.
        assert view.scroll_y == view.max_scroll_y
        last = list(view.query(TurnView))[-1]
        assert last.turn.id == thread.order[-1] and last.region.height > 0
        assert last.state_text().startswith("Worked")


async def test_history_arriving_after_the_thread_opened_goes_into_the_history() -> None:
    """Opening a thread for the first time: its messages load afterwards."""
    store = ui.make_store([session_updated(SID, title="Loads later")])
    app = ui.make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for i in range(60):
            for obs in turn_events(i):
                app.link.observe(obs)
        await settle(pilot)
        await settle(pilot)
        view = app.main.thread_view
        assert view.mounted_turns == 0
        assert len(view.history.turns) == 60
        assert "end of answer 59." in "\n".join(screen_lines(app)[-4:])


async def test_click_on_a_history_turn_shows_its_reasoning() -> None:
    thought = "First I weigh [bold]this[/bold] against that."
    store = ui.make_store([session_updated(SID, title="Thinking"), *turn_events(0, reasoning=thought)])
    app = ui.make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert not any(thought in line for line in screen_lines(app))
        assert any("Reasoning" in line for line in screen_lines(app))
        await pilot.click(HistoryView, offset=(4, 0))
        await settle(pilot)
        assert any(thought in line for line in screen_lines(app))  # literal, not markup
        await pilot.click(HistoryView, offset=(4, 0))
        await settle(pilot)
        assert not any(thought in line for line in screen_lines(app))


async def test_resize_keeps_the_reader_on_the_same_turn() -> None:
    app = ui.make_app(varied_thread(120))
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(pilot)
        view = app.main.thread_view
        view.scroll_to(y=view.max_scroll_y // 3, animate=False, immediate=True)
        await settle(pilot)
        history = view.history

        def top_turn() -> int:
            return history.index_at(round(view.scroll_y) - history.virtual_region.y)

        before = top_turn()
        first_line = screen_lines(app)[0]
        assert before > 10
        await pilot.resize_terminal(80, 30)
        await settle(pilot)
        await settle(pilot)
        assert top_turn() == before, (before, top_turn())
        if first_line.startswith("█ question"):
            assert screen_lines(app)[0] == first_line
        width = view.history.size.width
        assert all(len(line) <= width for line in screen_lines(app))


async def test_a_turn_removed_from_the_thread_leaves_the_history() -> None:
    store = ui.make_store([session_updated(SID, title="Two"), *turn_events(0), *turn_events(1)])
    app = ui.make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        thread = app.threads.current
        assert thread is not None and len(app.main.thread_view.history.turns) == 2
        first = thread.order[0]
        removed = {"type": "message.removed", "properties": {"sessionID": SID, "messageID": first}}
        app.link.observe(observations.event({"directory": DIR, "payload": removed}))
        await settle(pilot)
        assert [v.turn.id for v in app.main.thread_view.turn_views()] == thread.order
        assert "question 0" not in "\n".join(screen_lines(app))


async def test_prompt_run_after_long_history_streams_into_a_widget() -> None:
    app = ui.make_app(varied_thread(40))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        _, _, _, events = prompt_run(SID, "one more", tokens=4, finish=False)
        for obs in events:
            app.link.observe(obs)
        await settle(pilot)
        view = app.main.thread_view
        live = list(view.query(TurnView))
        assert len(live) == 1 and live[0].turn.state == "running"
        assert live[0].shown_text() == "tok0 tok1 tok2 tok3 "
        assert view.scroll_y == view.max_scroll_y


async def test_page_keys_scroll_the_thread_from_the_prompt() -> None:
    app = ui.make_app(varied_thread(60))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.main.prompt.focus()
        await pilot.press(*"half a thought")
        view = app.main.thread_view
        height = view.scrollable_content_region.height
        top = round(view.scroll_y) - view.history.virtual_region.y
        above = history_lines(app, top - height, height)
        await pilot.press("pageup")
        await settle(pilot)
        assert screen_lines(app) == above
        await pilot.press("pagedown")
        await settle(pilot)
        assert view.scroll_y == view.max_scroll_y
        assert app.main.prompt.text == "half a thought" and app.main.prompt.has_focus


async def test_theme_change_redraws_the_history_in_the_new_colours() -> None:
    app = ui.make_app(varied_thread(5))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        history = app.main.thread_view.history

        def prompt_style() -> Any:
            lines = [history.render_line(y) for y in range(history.total)]
            prompt = next(line for line in lines if line.text.startswith("█ question"))
            return list(prompt)[1].style  # the prompt's background, from the theme

        before = prompt_style()
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await settle(pilot)
        assert prompt_style().bgcolor != before.bgcolor


async def test_a_late_update_to_a_turn_on_screen_is_redrawn() -> None:
    """A resync can bring a settled turn's final text after it was drawn."""
    user, asst, part = new_id("msg"), new_id("msg"), new_id("prt")
    lines = [
        session_updated(SID, title="Late"),
        *turn_events(0),
        msg_updated(user_info(SID, user)),
        part_updated(text_part(SID, user, new_id("prt"), "question 1")),
        status(SID, "busy"),
        msg_updated(assistant_info(SID, asst, user)),
        part_updated(text_part(SID, asst, part, "a first draft", end=True)),
        msg_updated(assistant_info(SID, asst, user, finish="stop", completed=True)),
        *idle(SID),
    ]
    app = ui.make_app(ui.make_store(lines))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "a first draft" in "\n".join(screen_lines(app))
        final = "the final text,\n\nin two paragraphs"
        app.link.observe(part_updated(text_part(SID, asst, part, final, end=True)))
        await settle(pilot)
        shown = "\n".join(screen_lines(app))
        assert "a first draft" not in shown
        assert "the final text," in shown and "in two paragraphs" in shown
        assert "Worked" in screen_lines(app)[-2]


async def test_click_on_a_turn_far_down_a_scrolled_history_expands_that_turn() -> None:
    thought = "weighing the last question"
    lines: list[dict[str, Any]] = [session_updated(SID, title="Scrolled")]
    for i in range(30):
        lines += turn_events(i, reasoning=thought if i == 29 else None)
    app = ui.make_app(ui.make_store(lines))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view, history = app.main.thread_view, app.main.thread_view.history
        assert view.scroll_y > 0
        top = round(view.scroll_y) - history.virtual_region.y
        row = view.scrollable_content_region.height - 3  # inside the last turn, near its end
        assert history.index_at(top + row) == 29 and top > 0
        await pilot.click("#thread", offset=(6, row))
        await settle(pilot)
        assert history.expanded == {history.turns[29].id}
        assert any(thought in line for line in screen_lines(app))


async def test_folding_old_turns_into_the_history_does_not_move_what_is_read() -> None:
    app = ui.make_app(ui.interrupted())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        thought = "weighing it " * 40

        for i in range(MAX_LIVE):
            await run_live(app, pilot, i, thought)
        view = app.main.thread_view
        widgets = list(view.query(TurnView))
        assert len(widgets) == MAX_LIVE
        # The history draws these turns taller than their widgets (reasoning shown in
        # full), so folding them changes the height above the reader.
        view.history.expanded.update(w.turn.id for w in widgets)
        # The reader scrolls up into the live turns (no longer following the end).
        reading = widgets[MAX_LIVE // 2]
        view.scroll_to(y=reading.virtual_region.y + 1, animate=False, immediate=True)
        await settle(pilot)
        offset = view.scroll_y - reading.virtual_region.y
        for i in range(MAX_LIVE, MAX_LIVE + 3):
            await run_live(app, pilot, i, thought)  # each pushes the oldest widget into the history
        await settle(pilot)
        assert len(view.history.turns) >= 3 and reading.is_mounted
        assert view.scroll_y - reading.virtual_region.y == offset


async def test_a_turn_shown_as_ended_shows_all_its_text() -> None:
    """The state line never says "Worked" while the last streamed text is still pending."""
    user, asst, part, events = prompt_run(SID, "stream then stop", tokens=2, finish=False)
    app = ui.make_app(ui.make_store([session_updated(SID, title="Flush"), *events]))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        (view,) = app.main.thread_view.query(TurnView)
        big = "".join(f" word{i}" for i in range(2000))
        app.link.store.apply(delta(SID, asst, part, big))
        app.frames.request()
        await app.frames.frame()  # the stream's task starts appending this, over several awaits
        full = "tok0 tok1 " + big + " and the last words."
        for obs in [
            delta(SID, asst, part, " and the last words."),
            part_updated(text_part(SID, asst, part, full, end=True)),
            msg_updated(assistant_info(SID, asst, user, finish="stop", completed=True)),
            *idle(SID),
        ]:
            app.link.store.apply(obs)
        app.frames.request()
        await app.frames.frame()  # one repaint, no pause: what the user sees at that moment
        assert view.state_text().startswith("Worked")
        assert view.query_one(Markdown).source == full
