"""Finding a thread: the sidebar's filter (and the server's search behind it), older
threads page by page, the quick switcher, hiding the sidebar, and a sidebar that
scrolls to the thread Alt+Up/Down opens. (Every project of a real server is checked
in tests/live/test_threads_live.py.)"""

from __future__ import annotations

from typing import Any

import pytest
import ui_support as ui
from eventgen import DIR, session_info
from sse_server import Reply, Request, Script, SSEServer
from textual.command import CommandPalette
from textual.pilot import Pilot
from ui_support import wait_for

from t3tui.app.app import T3App
from t3tui.app.widgets.sidebar import EXPAND, MORE
from t3tui.opencode.client import OpencodeClient

OTHER = "/home/dev/other-project"
TITLES = [
    ("fix the login bug", DIR),
    ("refactor the store", DIR),
    ("Fix flaky test", OTHER),
    ("write the docs", OTHER),
    ("add a benchmark", "/home/dev/third"),
]


def sid(n: int) -> str:
    return f"ses_{n:04d}find{'x' * 18}"


def many(titles: list[tuple[str, str]]) -> list[dict[str, Any]]:
    lines = []
    for n, (title, directory) in enumerate(titles):
        info = session_info(sid(n), directory, title=title)
        info["time"] = {"created": 1795245218151 + n, "updated": 1795245218159 + n * 1000}
        lines.append(
            {
                "event": {
                    "directory": directory,
                    "payload": {"type": "session.updated", "properties": {"sessionID": sid(n), "info": info}},
                }
            }
        )
    return lines


def shown(app: T3App) -> list[str]:
    """The titles the sidebar lists, in order."""
    sidebar = app.main.sidebar
    titles = []
    for option_id in sidebar.thread_ids:
        th = app.link_of(option_id).store.threads[option_id]
        titles.append(th.title)
    return titles


async def frame(pilot: Pilot[Any], app: T3App) -> None:
    await app.frames.frame()
    await pilot.pause()


async def test_typing_in_the_sidebar_filters_across_directories_and_esc_clears() -> None:
    app = ui.make_app(ui.make_store(many(TITLES)), thread=None)
    async with app.run_test(size=(110, 30)) as pilot:
        await frame(pilot, app)
        assert len(shown(app)) == 5
        app.main.sidebar.focus()
        await pilot.press("f", "i", "x")
        box = app.main.sidebar_filter
        assert box.display and box.has_focus and box.value == "fix"
        await frame(pilot, app)
        # Case does not matter; both directories have a match.
        assert sorted(shown(app)) == ["Fix flaky test", "fix the login bug"]
        await pilot.press("space", "l", "o")
        await frame(pilot, app)
        assert shown(app) == ["fix the login bug"]
        await pilot.press("enter")
        await wait_for(pilot, app, lambda: app.threads.current_id == sid(0))
        assert app.main.prompt.has_focus
        # Back in the sidebar: Esc in the filter shows every thread again.
        app.main.sidebar_filter.focus()
        await pilot.press("escape")
        await frame(pilot, app)
        assert not box.display and box.value == "" and app.main.sidebar.has_focus
        assert len(shown(app)) == 5


async def test_a_filter_with_no_match_says_so() -> None:
    app = ui.make_app(ui.make_store(many(TITLES)), thread=None)
    async with app.run_test(size=(110, 30)) as pilot:
        await frame(pilot, app)
        app.main.sidebar.focus()
        await pilot.press("z", "z")
        await frame(pilot, app)
        assert shown(app) == []
        labels = [
            str(app.main.sidebar.get_option_at_index(i).prompt) for i in range(app.main.sidebar.option_count)
        ]
        assert any("No thread matches" in label and "zz" in label for label in labels)


def search_server(found: list[dict[str, Any]]) -> SSEServer:
    server = SSEServer(default=Script(ending="heartbeat"))

    def page(req: Request) -> Any:
        if req.query.get("search"):
            words = req.query["search"].lower().split()
            return [s for s in found if all(w in s["title"].lower() for w in words)]
        return []

    server.rest.update({"/experimental/session": page, "/agent": [], "/command": []})
    return server


async def test_the_server_finds_threads_not_loaded() -> None:
    old = session_info(sid(90), "/home/dev/archive", title="fix the old parser")
    async with search_server([old]) as server:
        app = ui.make_app(
            ui.make_store(many(TITLES)), thread=None, connect=True, client=OpencodeClient(server.url)
        )
        async with app.run_test(size=(110, 30)) as pilot:
            await frame(pilot, app)
            app.main.sidebar.focus()
            await pilot.press("f", "i", "x")
            await wait_for(pilot, app, lambda: "fix the old parser" in shown(app))
            asked = [r.query.get("search") for r in server.paths("/experimental/session")]
            assert any(q and "fix".startswith(q) for q in asked), asked
            # The found thread is in its own directory's group, and opens.
            assert app.link.store.threads[sid(90)].directory == "/home/dev/archive"
            # Its directory is not asked for status at the next resync (it would start
            # an instance of it on the server).
            assert "/home/dev/archive" not in app.link.store.directories


def paged_server(total: int) -> SSEServer:
    """``/experimental/session`` pages of 100, newest first, with opencode's cursor header."""
    server = SSEServer(default=Script(ending="heartbeat"))
    sessions = []
    for n in range(total):
        info = session_info(sid(n), DIR if n % 2 else OTHER, title=f"thread {n:03d}")
        info["time"] = {"created": 1795245218151 + n, "updated": 1795245000000 + n * 1000}
        sessions.append(info)
    sessions.reverse()  # newest first

    def page(req: Request) -> Any:
        limit = int(req.query.get("limit", "100"))
        cursor = req.query.get("cursor")
        rows = [s for s in sessions if cursor is None or s["time"]["updated"] < int(cursor)][:limit]
        headers = {"x-next-cursor": str(rows[-1]["time"]["updated"])} if len(rows) == limit else {}
        return Reply(200, rows, headers=headers)

    server.rest.update({"/experimental/session": page, "/agent": [], "/command": []})
    return server


async def test_older_threads_load_page_by_page_from_the_last_row() -> None:
    async with paged_server(150) as server:
        app = ui.make_app(ui.make_store([]), thread=None, connect=True, client=OpencodeClient(server.url))
        async with app.run_test(size=(110, 30)) as pilot:
            await wait_for(pilot, app, lambda: len(app.link.store.threads) == 100)
            await frame(pilot, app)
            sidebar = app.main.sidebar
            last = sidebar.get_option_at_index(sidebar.option_count - 1)
            assert last.id == MORE and "older threads" in str(last.prompt)
            assert "thread 049" not in shown(app)  # the 50 oldest are not loaded yet
            sidebar.focus()
            sidebar.highlighted = sidebar.option_count - 1
            await pilot.press("enter")
            await wait_for(pilot, app, lambda: len(app.link.store.threads) == 150)
            await frame(pilot, app)
            # Each directory shows its newest 25; its last row opens the rest.
            assert len(app.link.store.threads) == 150 and "thread 000" not in shown(app)
            rows = [sidebar.get_option_at_index(i) for i in range(sidebar.option_count)]
            expand = [i for i, row in enumerate(rows) if (row.id or "").startswith(EXPAND + OTHER)]
            assert expand and "50 more in this directory" in str(rows[expand[0]].prompt)
            sidebar.highlighted = expand[0]
            await pilot.press("enter")
            await frame(pilot, app)
            assert "thread 000" in shown(app) and len([t for t in shown(app) if int(t[-3:]) % 2 == 0]) == 75
            # The last page was short: nothing older, no row for it.
            assert all(sidebar.get_option_at_index(i).id != MORE for i in range(sidebar.option_count))
            cursors = [r.query.get("cursor") for r in server.paths("/experimental/session")]
            assert cursors[-1] is not None


def row_on_screen(app: T3App) -> bool:
    """The open thread's row is inside the sidebar's window (each row is one line here)."""
    sidebar = app.main.sidebar
    current = app.threads.current_id
    if current is None or sidebar.highlighted != sidebar.get_option_index(current):
        return False
    top = sidebar.scroll_offset.y
    return top <= sidebar.highlighted < top + sidebar.scrollable_content_region.height


async def test_alt_up_and_down_scroll_the_sidebar_to_the_thread_they_open() -> None:
    titles = [(f"thread {n:02d}", DIR) for n in range(60)]
    app = ui.make_app(ui.make_store(many(titles)), thread=None)
    async with app.run_test(size=(100, 24)) as pilot:
        await frame(pilot, app)
        sidebar = app.main.sidebar
        await wait_for(pilot, app, lambda: app.threads.current_id == sid(59))  # the newest opens
        sidebar.expanded.add(DIR)  # all 60, not the newest 25
        sidebar.redraw()
        await pilot.pause()
        await pilot.press("alt+up")  # round to the oldest, at the bottom
        await frame(pilot, app)
        await wait_for(pilot, app, lambda: app.threads.current_id == sid(0) and row_on_screen(app))
        assert sidebar.scroll_offset.y > 30
        await pilot.press("alt+down")  # round to the newest, at the top
        await frame(pilot, app)
        await wait_for(pilot, app, lambda: app.threads.current_id == sid(59) and row_on_screen(app))
        assert sidebar.scroll_offset.y == 0


async def test_hide_and_show_the_sidebar() -> None:
    app = ui.make_app(ui.make_store(many(TITLES)), thread=sid(0))
    async with app.run_test(size=(80, 24)) as pilot:
        await frame(pilot, app)
        side, view = app.main.side, app.main.thread_view
        # On 80 columns the sidebar takes 22 (it took 34, 40% of the width).
        assert side.outer_size.width == 22
        width = view.outer_size.width
        await pilot.press("f4")
        await pilot.pause()
        assert not side.display and view.outer_size.width > width
        assert app.main.prompt.has_focus
        await pilot.press("f4")
        await pilot.pause()
        assert side.display
        # Ctrl+B to a hidden sidebar shows it and gives it the focus.
        await pilot.press("f4")
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert side.display and app.main.sidebar.has_focus


@pytest.mark.parametrize("key", ["ctrl+l", "palette"])
async def test_the_quick_switcher_opens_a_thread_by_title_or_directory(key: str) -> None:
    app = ui.make_app(ui.make_store(many(TITLES)), thread=sid(0))
    async with app.run_test(size=(110, 30)) as pilot:
        await frame(pilot, app)
        if key == "ctrl+l":
            await pilot.press("ctrl+l")
        else:
            await pilot.press("ctrl+p")
        await wait_for(pilot, app, lambda: CommandPalette.is_open(app))
        await pilot.press(*"third")  # the directory of "add a benchmark"
        palette = app.screen
        await wait_for(
            pilot,
            app,
            lambda: "add a benchmark" in str(palette.query_one("CommandList").get_option_at_index(0).prompt),
        )
        await pilot.press("enter")
        await wait_for(pilot, app, lambda: app.threads.current_id == sid(4))


async def test_ctrl_n_once_in_a_new_thread_opens_no_dialog() -> None:
    """A habit at start (Ctrl+N, then keys) must not open a dialog that takes the keys."""
    app = ui.make_app(ui.make_store([]), thread=None)
    async with app.run_test(size=(110, 30)) as pilot:
        await frame(pilot, app)
        await pilot.press("ctrl+n", *"hello")
        await pilot.pause()
        assert app.screen is app.main and app.main.prompt.text == "hello"


async def test_a_new_thread_starts_in_the_open_threads_directory_or_the_one_picked(tmp_path: Any) -> None:
    app = ui.make_app(ui.make_store(many(TITLES)), thread=sid(2))  # a thread of OTHER
    async with app.run_test(size=(110, 30)) as pilot:
        await frame(pilot, app)
        await pilot.press("ctrl+n")
        await frame(pilot, app)
        assert app.threads.current_id is None and app.threads.directory == OTHER
        assert "other-project" in str(app.main.thread_view._placeholder.render())
        # In the sidebar, Ctrl+N starts one in the directory of the thread under the cursor.
        sidebar = app.main.sidebar
        sidebar.focus()
        sidebar.highlighted = sidebar.get_option_index(sid(4))
        await pilot.press("ctrl+n")
        await frame(pilot, app)
        assert app.threads.directory == "/home/dev/third" and app.main.prompt.has_focus
        # /new takes a path; a word or a missing directory is refused, and says why.
        app.composer.submit("/new somewhere")
        await wait_for(pilot, app, lambda: any("takes a directory path" in m for m in ui.toasts(app)))
        app.composer.submit("/new /no/such/dir/here")
        await wait_for(pilot, app, lambda: any("No such directory" in m for m in ui.toasts(app)))
        assert app.threads.directory == "/home/dev/third"
        app.composer.submit(f"/new {tmp_path}")
        await wait_for(pilot, app, lambda: app.threads.directory == str(tmp_path))


async def test_ctrl_n_in_a_new_thread_asks_where_and_keeps_the_text(tmp_path: Any) -> None:
    from t3tui.app.screens.directory import DirectoryScreen

    app = ui.make_app(ui.make_store(many(TITLES)), thread=sid(0))
    async with app.run_test(size=(110, 30)) as pilot:
        await frame(pilot, app)
        await pilot.press("ctrl+n")
        await pilot.press(*"draft")
        await pilot.press("ctrl+n", "ctrl+n")  # twice (within 2 s) in a new thread: where?
        await wait_for(pilot, app, lambda: isinstance(app.screen, DirectoryScreen))
        screen: Any = app.screen
        # The known directories, the most recently active first.
        assert screen.directories[:3] == ["/home/dev/third", OTHER, DIR]
        await pilot.press(*str(tmp_path / "missing"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DirectoryScreen)  # refused: it does not exist here
        assert "No such directory" in str(screen.query_one("#directory-hint").render())
        for _ in str(tmp_path / "missing"):
            await pilot.press("backspace")
        await pilot.press(*str(tmp_path))
        await pilot.press("enter")
        await wait_for(pilot, app, lambda: not isinstance(app.screen, DirectoryScreen))
        assert app.threads.directory == str(tmp_path)
        assert app.main.prompt.text == "draft"
        # Esc leaves everything as it was.
        await pilot.press("ctrl+n", "ctrl+n")
        await wait_for(pilot, app, lambda: isinstance(app.screen, DirectoryScreen))
        await pilot.press("escape")
        await pilot.pause()
        assert app.threads.directory == str(tmp_path) and app.main.prompt.text == "draft"


async def test_a_server_without_the_cross_project_listing_lists_each_project() -> None:
    """An older opencode or a fork: GET /project, then each worktree's threads (not the
    project '/', whose listing would start an instance at the filesystem root)."""
    elsewhere = session_info(sid(70), "/w/proj/sub", title="in a subdirectory of a project")
    server = SSEServer(default=Script(ending="heartbeat"))

    def listing(req: Request) -> Any:
        if req.query.get("directory") == "/w/proj" and req.query.get("scope") == "project":
            return [elsewhere]
        return []

    server.rest.update(
        {
            "/agent": [],
            "/command": [],
            "/session": listing,
            "/project": [{"worktree": "/w/proj"}, {"worktree": "/"}],
        }
    )
    async with server:
        app = ui.make_app(ui.make_store([]), thread=None, connect=True, client=OpencodeClient(server.url))
        async with app.run_test(size=(110, 30)) as pilot:
            await wait_for(pilot, app, lambda: sid(70) in app.link.store.threads)
            asked = [r.query.get("directory") for r in server.paths("/session")]
            assert "/w/proj" in asked and "/" not in asked
            assert "/w/proj/sub" not in app.link.store.directories
