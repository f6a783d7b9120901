"""The work panel and the status line's cost, in the app (no live server): shown by the
terminal's width, toggled with F12 and remembered, following the todos and files as
they change, a file's diff on Enter, fetched from the server on open and after a
reconnect, never redrawn by streamed text; in English and Chinese."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import ui_support as ui
from eventgen import (
    assistant_info,
    delta,
    ev,
    idle,
    msg_updated,
    new_id,
    part_updated,
    session_info,
    snapshot,
    status,
    text_part,
    user_info,
)
from sse_server import Reply, Script, SSEServer
from textual.pilot import Pilot
from ui_support import wait_for

from t3tui.app.app import T3App
from t3tui.app.widgets.work_panel import FileList
from t3tui.opencode.client import OpencodeClient

SID = ui.SID
OTHER = "ses_e030be698ffekR7lV1Ew0yOTHR"
WIDE = (140, 36)
NARROW = (110, 32)


# -- what is on screen ----------------------------------------------------------------------


def panel_lines(app: T3App) -> list[str]:
    """The work panel's text as drawn, line by line (empty when it is hidden)."""
    panel = app.main.work_panel
    if not panel.display:
        return []
    out = []
    for widget in panel.query("#work-context, #work-todos, #work-empty, #work-files-title, #work-files"):
        if widget.display:
            out += [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]
    return [line for line in out if line]


def panel_text(app: T3App) -> str:
    return "\n".join(panel_lines(app))


def status_text(app: T3App) -> str:
    return str(app.main.status_line.render())


def footer_keys(app: T3App) -> list[str]:
    return [str(k.key) for k in app.screen.query("FooterKey")]


# -- threads ----------------------------------------------------------------------------------


def todo(content: str, status: str) -> dict[str, Any]:
    return {"content": content, "status": status, "priority": "medium"}


def todos_event(sid: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return ev("todo.updated", {"sessionID": sid, "todos": items})


def file_diff(name: str, added: int, removed: int, status: str = "modified") -> dict[str, Any]:
    return {
        "file": name,
        "patch": f"--- {name}\n+++ {name}\n",
        "additions": added,
        "deletions": removed,
        "status": status,
    }


FILES = [
    file_diff("src/t3tui/app/widgets/a_rather_long_module_name.py", 120, 7),
    file_diff("README.md", 3, 1),
    file_diff("notes.txt", 30, 0, "added"),
    file_diff("old/setup.cfg", 0, 12, "deleted"),
]
TODOS = [
    todo("Read the settlement rule", "completed"),
    todo("Write the store's work records", "in_progress"),
    todo("Draw the panel", "pending"),
    todo("Port to curses", "cancelled"),
]


def session(sid: str, title: str, cost: float | None = None, **tokens: int) -> dict[str, Any]:
    info = session_info(sid, title=title)
    if cost is not None:
        info["cost"] = cost
        info["tokens"] = {
            "input": tokens.get("input", 0),
            "output": tokens.get("output", 0),
            "reasoning": 0,
            "cache": {"read": tokens.get("read", 0), "write": 0},
        }
    return ev("session.updated", {"sessionID": sid, "info": info})


def providers(limit: int) -> dict[str, Any]:
    model = {"id": "fast", "name": "Mock fast", "limit": {"context": limit, "output": 4096}}
    return snapshot(
        "providers",
        {
            "all": [{"id": "mock", "name": "Mock", "models": {"fast": model}}],
            "default": {},
            "connected": ["mock"],
        },
        directory=None,
    )


def worked_turn(sid: str, diffs: list[dict[str, Any]], context: int = 0) -> list[dict[str, Any]]:
    """A finished turn: its prompt says what it changed, its answer what it held in context."""
    user, asst = new_id("msg"), new_id("msg")
    answer = assistant_info(sid, asst, user, finish="stop", completed=True)
    answer["tokens"] = {
        "input": context - 200,
        "output": 150,
        "reasoning": 50,
        "cache": {"read": 0, "write": 0},
    }
    answer["cost"] = 0.0123
    return [
        msg_updated(user_info(sid, user)),
        part_updated(text_part(sid, user, new_id("prt"), "Refactor the store")),
        status(sid, "busy"),
        msg_updated(assistant_info(sid, asst, user)),
        part_updated(text_part(sid, asst, new_id("prt"), "Done: the store keeps the work.", end=True)),
        msg_updated({**user_info(sid, user), "summary": {"diffs": diffs}}),
        msg_updated(answer),
        *idle(sid),
    ]


def busy_thread() -> list[dict[str, Any]]:
    return [
        session(SID, "Work panel", cost=0.4213, input=41_000, output=2_345, read=9_000),
        *worked_turn(SID, FILES, context=12_345),
        todos_event(SID, TODOS),
        providers(200_000),
    ]


def app_with(lines: list[dict[str, Any]], **kw: Any) -> T3App:
    return ui.make_app(ui.make_store(lines), **kw)


# -- shown by the width, toggled and remembered -----------------------------------------------


async def test_the_panel_shows_on_a_terminal_wider_than_120_columns(tmp_path: Path) -> None:
    app = app_with(busy_thread(), state_dir=tmp_path)
    async with app.run_test(size=(121, 36)) as pilot:
        await wait_for(pilot, app, lambda: "Modified files 4  +153 -20" in panel_text(app))
        await wait_for(pilot, app, lambda: "f12" in footer_keys(app))
        await pilot.resize_terminal(120, 36)
        await wait_for(pilot, app, lambda: not app.main.work_panel.display)
        await wait_for(pilot, app, lambda: footer_keys(app) and "f12" not in footer_keys(app))
        await pilot.resize_terminal(160, 36)
        await wait_for(pilot, app, lambda: "Todo 1/4" in panel_text(app))


async def test_f12_hides_the_panel_and_the_choice_is_remembered(tmp_path: Path) -> None:
    app = app_with(busy_thread(), state_dir=tmp_path)
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, app, lambda: "Todo 1/4" in panel_text(app))
        await pilot.press("f12")
        await wait_for(pilot, app, lambda: not app.main.work_panel.display)
        assert json.loads((tmp_path / "work.json").read_text()) == {"panel": "hide"}
    again = app_with(busy_thread(), state_dir=tmp_path)
    async with again.run_test(size=WIDE) as pilot:
        await wait_for(pilot, again, lambda: again.work.wide is True and "f12" in footer_keys(again))
        assert not again.main.work_panel.display  # still hidden after a restart
        await pilot.press("f12")
        await wait_for(pilot, again, lambda: "Todo 1/4" in panel_text(again))
        assert json.loads((tmp_path / "work.json").read_text()) == {"panel": "auto"}


async def test_f12_shows_the_panel_on_a_narrow_terminal_for_this_run(tmp_path: Path) -> None:
    app = app_with(busy_thread(), state_dir=tmp_path)
    async with app.run_test(size=NARROW) as pilot:
        await wait_for(pilot, app, lambda: app.main.ready and app.work.wide is False)
        assert not app.main.work_panel.display
        await pilot.press("f12")
        await wait_for(pilot, app, lambda: "Todo 1/4" in panel_text(app))
        app.main.work_panel.query_one(FileList).focus()
        await pilot.press("f12")  # hidden again, and the focus goes back to the prompt
        await wait_for(pilot, app, lambda: not app.main.work_panel.display)
        assert app.focused is app.main.prompt


# -- what it shows ----------------------------------------------------------------------------


async def test_the_panel_shows_context_cost_todos_and_files() -> None:
    app = app_with(busy_thread())
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, app, lambda: "Modified files" in panel_text(app))
        lines = panel_lines(app)
        assert lines[:11] == [
            "Context",
            "12,345 tokens",
            "6% of 200,000 used",
            "$0.42 spent",
            "in 50,000 · out 2,345",  # cache reads count as input
            "Todo 1/4",
            "✓ Read the settlement rule",
            "▶ Write the store's work",  # a long item wraps under its text, not its mark
            "  records",
            "○ Draw the panel",
            "✗ Port to curses",
        ]
        title, *files = lines[11:]
        assert title == "Modified files 4  +153 -20"
        # By path; a long one cut at its start, so that the file's name shows; the
        # counts at the right edge.
        assert [row.split()[0] for row in files[:3]] == ["README.md", "notes.txt", "old/setup.cfg"]
        assert files[0].endswith("+3 -1") and files[1].endswith("+30") and files[2].endswith("-12")
        assert files[3].startswith("…") and files[3].split()[0].endswith("_long_module_name.py")
        assert files[3].endswith("+120 -7") and len({len(row) for row in files}) == 1


async def test_the_panel_follows_each_todowrite_and_each_change() -> None:
    app = app_with([session(SID, "Following")])
    async with app.run_test(size=WIDE) as pilot:
        # Said briefly, wrapped in the panel's width.
        await wait_for(pilot, app, lambda: panel_lines(app) == ["No todos, changed files or", "cost yet."])
        observe = app.link.observe
        observe(todos_event(SID, [todo("Plan", "in_progress"), todo("Build", "pending")]))
        await wait_for(pilot, app, lambda: "▶ Plan" in panel_text(app) and "○ Build" in panel_text(app))
        assert "Todo 0/2" in panel_text(app)
        observe(todos_event(SID, [todo("Plan", "completed"), todo("Build", "in_progress")]))
        await wait_for(pilot, app, lambda: "✓ Plan" in panel_text(app) and "▶ Build" in panel_text(app))
        for line in worked_turn(SID, [file_diff("src/app.py", 3, 1)], context=1000):
            observe(line)
        await wait_for(pilot, app, lambda: "src/app.py" in panel_text(app))
        assert "Modified files 1  +3 -1" in panel_text(app)
        observe(todos_event(SID, [todo("Plan", "completed"), todo("Build", "completed")]))
        await wait_for(pilot, app, lambda: "Todo 2/2 all done" in panel_text(app))
        assert "Build" not in panel_text(app)  # a list all done is one line


async def test_todo_text_is_shown_literally() -> None:
    app = app_with(
        [session(SID, "Hostile"), todos_event(SID, [todo("[/bold]\x1b[2J\u202e gnp.exe", "in_progress")])]
    )
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, app, lambda: "Todo 0/1" in panel_text(app))
        assert "▶ [/bold]␛[2J<U+202E> gnp.exe" in panel_text(app)


async def test_a_huge_change_lists_300_files_and_says_how_many_more() -> None:
    """A change of a whole repository: the list stays short (each row costs the list a
    layout at each change); the viewer still has every file."""
    diffs = [file_diff(f"pkg/mod_{i:04d}.py", 1, 1) for i in range(1000)]
    diffs.append(file_diff("evil/\x1b[31mred\u202e.py", 1, 0))
    app = app_with([session(SID, "Everything"), *worked_turn(SID, diffs, context=1000)])
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, app, lambda: "Modified files 1001" in panel_text(app))
        files = app.main.work_panel.query_one(FileList)
        assert files.option_count == 301
        assert "… 701 more files (all in the diff viewer)" in str(files.get_option_at_index(300).prompt)
        assert "evil/␛[31mred<U+202E>.py" in str(files.get_option_at_index(0).prompt)


async def test_wide_characters_in_a_path_keep_the_counts_in_their_column() -> None:
    from rich.cells import cell_len

    diffs = [file_diff("文档/设计/工作面板的说明文件.md", 4, 2), file_diff("a.py", 1, 0)]
    app = app_with([session(SID, "宽字符"), *worked_turn(SID, diffs, context=1000)])
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, app, lambda: "Modified files 2" in panel_text(app))
        rows = panel_lines(app)[-2:]
        assert rows[1].startswith("…") and rows[1].split()[0].endswith("说明文件.md")
        assert rows[1].endswith("+4 -2") and cell_len(rows[0]) == cell_len(rows[1])


async def test_streamed_text_never_redraws_the_panel() -> None:
    """A 300-delta burst repaints the thread 30 times a second; the panel draws nothing
    until its todos change."""
    user, asst, part = new_id("msg"), new_id("msg"), new_id("prt")
    app = app_with(
        [
            session(SID, "Burst"),
            todos_event(SID, [todo("Stream", "in_progress")]),
            msg_updated(user_info(SID, user)),
            status(SID, "busy"),
            msg_updated(assistant_info(SID, asst, user)),
            part_updated(text_part(SID, asst, part, "", end=False)),
        ]
    )
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, app, lambda: "▶ Stream" in panel_text(app))
        panel = app.main.work_panel
        drawn: list[int] = []
        redraw = panel.redraw
        panel.redraw = lambda *a, **k: (drawn.append(1), redraw(*a, **k))[1]  # type: ignore[method-assign]
        th = app.link.store.threads[SID]
        for i in range(300):
            app.link.observe(delta(SID, asst, part, f"tok{i} "))
            if i % 10 == 0:
                await app.frames.frame()  # the thread repaints: the panel must not
        await app.frames.frame()
        assert th.parts[part].text.endswith("tok299 ")
        assert drawn == []
        app.link.observe(todos_event(SID, [todo("Stream", "completed")]))
        await wait_for(pilot, app, lambda: "Todo 1/1 all done" in panel_text(app))
        assert drawn == [1]


# -- the files list ---------------------------------------------------------------------------


class Viewer:
    """Stands in for the diff viewer (controllers/diffs.py): records what it was asked."""

    def __init__(self) -> None:
        self.opened: list[tuple[str | None, str | None]] = []

    def open(self, thread_id: str | None = None, file: str | None = None) -> None:
        self.opened.append((thread_id, file))


async def test_enter_or_a_click_on_a_file_opens_its_diff_and_esc_goes_back() -> None:
    app = app_with(busy_thread())
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, app, lambda: "notes.txt" in panel_text(app))
        viewer = Viewer()
        app.diffs = viewer  # type: ignore[attr-defined,assignment]
        files = app.main.work_panel.query_one(FileList)
        files.focus()
        await pilot.press("down", "enter")
        await wait_for(pilot, app, lambda: viewer.opened == [(SID, "notes.txt")])
        await pilot.click(FileList, offset=(2, 2))  # the third row
        await wait_for(pilot, app, lambda: len(viewer.opened) == 2)
        assert viewer.opened[1] == (SID, "old/setup.cfg")
        files.focus()
        await pilot.press("escape")
        await wait_for(pilot, app, lambda: app.focused is app.main.prompt)
        assert app.main.work_panel.display  # Esc leaves the list, not the panel


async def test_without_a_diff_viewer_a_file_does_nothing() -> None:
    app = app_with(busy_thread())
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, app, lambda: "notes.txt" in panel_text(app))
        if hasattr(app, "diffs"):
            del app.diffs  # type: ignore[attr-defined]
        app.main.work_panel.query_one(FileList).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.is_running and "notes.txt" in panel_text(app)


# -- the status line --------------------------------------------------------------------------


async def test_the_status_line_has_the_threads_cost_the_total_and_its_tokens() -> None:
    lines = [*busy_thread(), session(OTHER, "Another", cost=0.7787)]
    app = app_with(lines)
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, app, lambda: "$0.42 · all $1.20" in status_text(app))
        assert status_text(app).endswith("│ $0.42 · all $1.20 │ 12k tokens · 6%")
        await pilot.resize_terminal(100, 30)  # no room for the tokens: the cost stays
        await wait_for(pilot, app, lambda: "tokens" not in status_text(app))
        assert "$0.42 · all $1.20" in status_text(app)
        await app.threads.open(OTHER)
        await wait_for(pilot, app, lambda: "$0.78 · all $1.20" in status_text(app))


async def test_a_thread_that_cost_nothing_leaves_the_status_line_as_it_was() -> None:
    app = app_with([session(SID, "Free", cost=0.0)])
    async with app.run_test(size=NARROW) as pilot:
        await wait_for(pilot, app, lambda: "Build" in status_text(app))
        assert status_text(app).endswith("◆ Build")  # no cost, no tokens: nothing added


async def test_the_language_switch_draws_the_panel_again() -> None:
    app = app_with(busy_thread())
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(pilot, app, lambda: "Todo 1/4" in panel_text(app))
        await app.language.set("zh")
        await wait_for(pilot, app, lambda: "待办 1/4" in panel_text(app))
        assert "已修改的文件 4  +153 -20" in panel_text(app) and "已花费 $0.42" in panel_text(app)
        await wait_for(pilot, app, lambda: "$0.42 · 全部 $0.42" in status_text(app))


# -- fetched from the server ------------------------------------------------------------------


def hang_up(srv: SSEServer) -> None:
    """The server drops every connection it holds (the event stream too): the app reconnects."""
    for writer in list(srv._writers):
        writer.transport.abort()


async def test_the_todos_are_fetched_on_open_and_after_a_reconnect() -> None:
    srv = SSEServer(default=Script(ending="heartbeat"))
    todos = f"/session/{SID}/todo"
    srv.rest.update({"/agent": [], "/command": [], todos: [todo("From the server", "in_progress")]})
    srv.rest[f"/session/{SID}/diff"] = []
    async with srv:
        app = ui.make_app(
            ui.make_store([session(SID, "Fetched")]), connect=True, client=OpencodeClient(srv.url)
        )
        async with app.run_test(size=WIDE) as pilot:
            await wait_for(pilot, app, lambda: "▶ From the server" in panel_text(app))
            assert len(srv.paths(todos)) == 1  # once per thread and connection, not per frame
            srv.rest[todos] = [todo("From the server", "completed"), todo("After", "pending")]
            hang_up(srv)
            await wait_for(pilot, app, lambda: "○ After" in panel_text(app))
            assert len(srv.event_requests()) >= 2 and len(srv.paths(todos)) >= 2
            assert all(r.query.get("directory") == ui.DIR for r in srv.paths(f"/session/{SID}/diff"))


async def test_an_answer_older_than_an_event_is_dropped() -> None:
    """The todo list the server had when asked is older than a todo.updated that came
    while the answer was on its way: the panel keeps the event's."""
    slow = Reply(200, [todo("Stale", "pending")], delay=1.0)
    srv = SSEServer(default=Script(ending="heartbeat"))
    srv.rest.update({"/agent": [], "/command": [], f"/session/{SID}/todo": slow, f"/session/{SID}/diff": []})
    async with srv:
        app = ui.make_app(ui.make_store([session(SID, "Race")]), connect=True, client=OpencodeClient(srv.url))
        async with app.run_test(size=WIDE) as pilot:
            await wait_for(pilot, app, lambda: bool(srv.paths(f"/session/{SID}/todo")))
            app.link.observe(todos_event(SID, [todo("Fresh", "in_progress")]))
            await wait_for(pilot, app, lambda: "▶ Fresh" in panel_text(app))
            await wait_for(
                pilot, app, lambda: bool(srv.paths(f"/session/{SID}/diff"))
            )  # the todo answer came
            await app.frames.frame()
            assert "Stale" not in panel_text(app)


# -- snapshots --------------------------------------------------------------------------------


def ready(pilot: Pilot[Any]) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: T3App = pilot.app  # type: ignore[assignment]
        await wait_for(pilot, app, lambda: len(panel_lines(app)) >= 14 and "│ $" in status_text(app))
        app.main.prompt.focus()
        await pilot.pause()

    return run_before(pilot)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_work_panel(snap_compare: Callable[..., bool], lang: str) -> None:
    app = app_with([*busy_thread(), session(OTHER, "Another", cost=0.7787)], lang=lang)
    assert snap_compare(app, terminal_size=WIDE, run_before=ready)
