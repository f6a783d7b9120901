"""The sidebar kept in order as threads change, at a cost that does not grow with them.

- ``ThreadOrder`` (state/thread_order.py), told only which threads changed, lists the
  same rows as sorting every thread again (``ordered_threads``), on event sequences
  hypothesis makes: ids that collide, parents that arrive after their children,
  threads that move directories, updates out of order, deletions.
- In the app, a sidebar updated frame by frame shows what a sidebar drawn from scratch
  shows, and its line map is Textual's own.
- With 2,000 threads, the 1 s tick and a frame about one thread draw only the rows
  whose text changed (with every row drawn again, the list stuttered at 3,000 threads).
"""

from __future__ import annotations

from typing import Any

import ui_support as ui
from eventgen import ev, prompt_run, session_info
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.text import Text
from textual.app import App
from textual.geometry import Region
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from t3tui import observations
from t3tui.app.app import T3App
from t3tui.app.widgets.sidebar import Sidebar, ordered_threads
from t3tui.state.records import Thread
from t3tui.state.store import Store
from t3tui.state.thread_order import ThreadOrder

IDS = [f"ses_{n:03d}order{'x' * 17}" for n in range(12)]
DIRS = ["/home/dev/a", "/home/dev/b", "/home/dev/c"]


def session_event(
    sid: str, directory: str, parent: str | None, updated: int, title: str = "t"
) -> dict[str, Any]:
    info = session_info(sid, directory, title=title, parent=parent)
    info["time"] = {"created": 1795000000000, "updated": 1795000000000 + updated}
    return ev("session.updated", {"sessionID": sid, "info": info}, directory)


# One step: a session seen (again) with a directory, a parent and an update time (ids
# from a small pool, so they collide; times drawn freely, so updates come out of order),
# or a session deleted.
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("seen"),
            st.sampled_from(IDS),
            st.sampled_from(DIRS),
            st.one_of(st.none(), st.sampled_from(IDS)),
            st.integers(0, 20),  # few values: equal times, where the id decides
        ),
        st.tuples(st.just("deleted"), st.sampled_from(IDS)),
    ),
    max_size=60,
)


def expected(threads: list[Thread]) -> list[tuple[str, list[tuple[int, str]]]]:
    return [(d, [(depth, th.id) for depth, th in rows]) for d, rows in ordered_threads(threads)]


def listed(
    order: ThreadOrder, left_out: set[str] | frozenset[str] = frozenset()
) -> list[tuple[str, list[tuple[int, str]]]]:
    return [(d, list(order.rows(d, left_out))) for d in order.directories(left_out)]


def play(store: Store, step: tuple[Any, ...]) -> None:
    """One step of a script into the store."""
    if step[0] == "seen":
        _, sid, directory, parent, updated = step
        store.apply(session_event(sid, directory, parent if parent != sid else None, updated))
    else:
        store.apply(ev("session.deleted", {"sessionID": step[1], "info": session_info(step[1])}))


@settings(max_examples=150, deadline=None)
@given(steps)
def test_kept_in_order_it_lists_what_a_full_sort_lists(script: list[tuple[Any, ...]]) -> None:
    store = Store(clock=lambda: 0.0)
    order = ThreadOrder()
    for step in script:
        play(store, step)
        for sid in store.take_changes() or ():
            order.update(sid, store.threads.get(sid))
        assert listed(order) == expected(list(store.threads.values()))
    fresh = ThreadOrder()
    fresh.reset(store.threads.values())
    assert listed(fresh) == listed(order)


@settings(max_examples=100, deadline=None)
@given(steps, st.sets(st.sampled_from(IDS), max_size=4))
def test_threads_left_out_for_the_attention_group_are_listed_as_a_sort_without_them(
    script: list[tuple[Any, ...]], left_out: set[str]
) -> None:
    store = Store(clock=lambda: 0.0)
    order = ThreadOrder()
    for step in script:
        play(store, step)
    for sid in store.take_changes() or ():
        order.update(sid, store.threads.get(sid))
    rest = [th for th in store.threads.values() if th.id not in left_out]
    assert listed(order, left_out) == expected(rest)
    # Each thread's path sorts it where the rows list it.
    for _, rows in listed(order, left_out):
        assert sorted(rows, key=lambda row: order.path(row[1], left_out)[0]) == rows
        assert all(order.path(sid, left_out)[1] == depth for depth, sid in rows)


# -- in the app ---------------------------------------------------------------------------


def rows(app: T3App) -> list[tuple[str | None, str]]:
    sidebar = app.main.sidebar
    return [(o.id, str(o.prompt)) for o in sidebar.options]


def threads_store(count: int, dirs: int = 4) -> Store:
    lines = [
        session_event(f"ses_{n:05d}many{'x' * 17}", f"/home/dev/p{n % dirs}", None, n * 10, f"thread {n}")
        for n in range(count)
    ]
    return ui.make_store(lines)


async def test_a_sidebar_kept_by_frames_shows_what_one_drawn_afresh_shows() -> None:
    """New threads, a thread moving to the top, one running (its badge counts seconds),
    one asking, one deleted: after each, the rows equal a redraw from scratch."""
    store = threads_store(60)
    app = ui.make_app(store, thread=None)
    async with app.run_test(size=(110, 40)) as pilot:
        sidebar = app.main.sidebar
        await ui.wait_for(pilot, app, lambda: len(sidebar.thread_ids) > 20)
        link = app.link

        async def same_as_afresh() -> None:
            app.frames.request()
            await app.frames.frame()
            await ui.wait_for(pilot, app, lambda: sidebar.settled)  # a change put off is shown
            kept = rows(app)
            sidebar.redraw()
            assert rows(app) == kept

        link.observe(session_event("ses_new00000000000000000aa", "/home/dev/p9", None, 5000, "brand new"))
        await same_as_afresh()
        assert sidebar.thread_ids[0] == "ses_new00000000000000000aa"
        old = "ses_00003manyxxxxxxxxxxxxxxxxx"
        link.observe(session_event(old, "/home/dev/p3", None, 6000, "thread 3, touched"))
        await same_as_afresh()
        assert sidebar.thread_ids[0] == old  # its directory and itself first
        _, _, _, run = prompt_run(old, "go", tokens=1, finish=False, directory="/home/dev/p3")
        for obs in run:
            link.observe(obs)
        await same_as_afresh()
        before = str(sidebar.get_option(old).prompt)
        region = Region(0, 0, sidebar.size.width, sidebar.size.height)
        sidebar.render_lines(region)  # drawn once: what a later draw may reuse
        sidebar.clock = lambda: ui.NOW + 5
        app.frames.second()
        after = str(sidebar.get_option(old).prompt)
        assert after != before  # "working 12s" -> "working 17s"
        await pilot.pause()  # and on screen, where only its lines were drawn again
        on_screen = "\n".join(strip.text for strip in sidebar.render_lines(region))
        assert after.split("\n")[1].strip() in on_screen
        assert before.split("\n")[1].strip() not in on_screen
        await same_as_afresh()
        deep = "ses_00004manyxxxxxxxxxxxxxxxxx"  # the oldest of p0: beyond its first 25 rows
        link.observe(ev("session.deleted", {"sessionID": deep, "info": session_info(deep)}))
        await same_as_afresh()
        assert deep not in sidebar.thread_ids


class Probe(App[None]):
    def __init__(self, widget: OptionList) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> Any:
        yield self.widget


async def test_the_line_map_is_textuals_own() -> None:
    """The sidebar counts a label's lines instead of measuring it with Rich: the map must
    be the one OptionList makes (here with titles cut to the width, a badge, a place, and
    a label too wide for the list, which is measured)."""
    labels = [
        Text("/home/dev/project"),
        Text("▸ a title\n    ● working 3s"),
        Text("  other\n    ⚠ needs permission\n    /home/dev/x"),
        Text("a line much too long for a narrow list, so it wraps " * 2),
        Text("  中文标题\n    ✕ error"),
    ]
    made: list[list[tuple[int, int]]] = []
    for widget in (Sidebar(lambda: 0.0), OptionList()):
        app = Probe(widget)
        async with app.run_test(size=(30, 20)) as pilot:
            widget.add_options([Option(label, id=str(n)) for n, label in enumerate(labels)])
            await pilot.pause()
            made.append(list(widget._lines))
    assert made[0] == made[1]
    assert len(made[0]) > len(labels) + 4  # the long label wrapped


async def test_the_tick_and_a_frame_draw_only_the_rows_that_changed() -> None:
    store = threads_store(2000, dirs=10)
    app = ui.make_app(store, thread=None)
    async with app.run_test(size=(110, 40)) as pilot:
        sidebar = app.main.sidebar
        await ui.wait_for(pilot, app, lambda: len(sidebar.thread_ids) >= 250)
        made: list[str] = []
        original = Sidebar._row

        def counting(th: Thread, *args: Any) -> Any:
            made.append(th.id)
            return original(th, *args)

        sidebar._row = counting  # type: ignore[method-assign]
        for _ in range(3):
            app.frames.second()
        assert made == []  # nothing runs: nothing to draw again
        busy = sidebar.thread_ids[40]
        app.link.observe(
            observations.event(
                {
                    "directory": "/home/dev/p0",
                    "payload": {
                        "id": "evt_x",
                        "type": "session.status",
                        "properties": {"sessionID": busy, "status": {"type": "busy"}},
                    },
                }
            )
        )
        app.frames.request()
        await app.frames.frame()
        assert set(made) == {busy}
        made.clear()
        sidebar.clock = lambda: ui.NOW + 5  # five seconds later
        app.frames.second()
        assert made == [busy]  # its "working 5s", and no other row


@settings(max_examples=100, deadline=None)
@given(steps, st.sets(st.sampled_from(IDS), max_size=5), st.integers(0, 6))
def test_a_directorys_first_rows_keep_the_threads_that_need_the_user(
    script: list[tuple[Any, ...]], kept: set[str], limit: int
) -> None:
    """Its newest ``limit`` rows, then any kept thread (running, asking, unseen, open)
    further down, where the full list has it."""
    store = Store(clock=lambda: 0.0)
    for step in script:
        play(store, step)
    order = ThreadOrder()
    order.reset(store.threads.values())
    for directory in order.directories():
        full = list(order.rows(directory))
        wanted = [row for n, row in enumerate(full) if n < limit or row[1] in kept]
        assert order.first_rows(directory, (), kept, limit) == wanted
        assert order.first_rows(directory, (), kept, None) == full


async def test_a_click_after_the_rows_moved_opens_the_thread_under_the_pointer() -> None:
    """A row's drawn lines are kept across rebuilds, but the row it belongs to is put in
    anew: a click on a row that moved down opens that row's thread, not the one that was
    there before."""
    app = ui.make_app(threads_store(8, dirs=1), thread=None)
    async with app.run_test(size=(110, 40)) as pilot:
        sidebar = app.main.sidebar
        await ui.wait_for(pilot, app, lambda: len(sidebar.thread_ids) == 8)
        await pilot.pause()
        target = sidebar.thread_ids[2]
        for n in range(3):  # three newer threads above it
            app.link.observe(session_event(f"ses_top{n}{'x' * 22}", "/home/dev/p0", None, 9000 + n))
        await ui.wait_for(pilot, app, lambda: sidebar.thread_ids[5] == target)
        await pilot.pause()
        line = sidebar._index_to_line[sidebar.get_option_index(target)] - sidebar.scroll_offset.y
        await pilot.click(Sidebar, offset=(6, line))
        await ui.wait_for(pilot, app, lambda: app.threads.current_id == target)
