"""The diff viewer on screen: opened by F7 and from an edit's card, unified and side by side,
hunk by hunk and file by file, Esc back to the prompt as it was; hostile patches shown
literally; snapshots in English and Chinese."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import ui_support as ui
from eventgen import (
    DIR,
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
from test_ui_copy import app_on, history_row, server
from textual.pilot import Pilot
from ui_support import wait_for

from t3tui.app.app import T3App
from t3tui.app.screens.diff import DiffScreen
from t3tui.app.widgets.diff_view import DiffFile, DiffView
from t3tui.app.widgets.history import HistoryView
from t3tui.app.widgets.live_turn import ToolView
from t3tui.state.work import FileDiff

SID = ui.SID
SIZE = (100, 30)
WIDE = (150, 30)

# What opencode 1.18.33 put in an edit's state.metadata (the capture), for this project.
README_PATCH = (
    f"Index: {DIR}/README.md\n"
    "===================================================================\n"
    f"--- {DIR}/README.md\n"
    f"+++ {DIR}/README.md\n"
    "@@ -1,1 +1,2 @@\n"
    "-# project p\n"
    "+# project P\n"
    "+more\n"
)


def app_patch(hunks: int = 3, gap: int = 40) -> str:
    """A Python file's patch with ``hunks`` hunks, ``gap`` lines apart."""
    out = ["Index: src/app.py", "=" * 67, "--- src/app.py\t", "+++ src/app.py\t"]
    for h in range(hunks):
        start = 1 + h * gap
        out.append(f"@@ -{start},4 +{start},4 @@ def handler_{h}():")
        out.append(f"     value_{h} = compute({h})")
        out.append(f"-    return old_name(value_{h})  # hunk {h}")
        out.append(f"+    return new_name(value_{h})  # hunk {h}")
        out.append(f"     log('done {h}')")
        out.append("     pass")
    return "\n".join(out) + "\n"


def edit_tool(mid: str, path: str = f"{DIR}/README.md", patch: str = README_PATCH) -> dict[str, Any]:
    return {
        "id": new_id("prt"),
        "sessionID": SID,
        "messageID": mid,
        "type": "tool",
        "tool": "edit",
        "callID": "call_edit",
        "state": {
            "status": "completed",
            "input": {"filePath": path, "oldString": "# project p", "newString": "# project P\nmore"},
            "output": "Edit applied successfully.",
            "title": "README.md",
            "metadata": {
                "diagnostics": {},
                "diff": patch,
                "filediff": {"file": path, "patch": patch, "additions": 2, "deletions": 1},
                "truncated": False,
            },
            "time": {"start": 1795245218300, "end": 1795245218400},
        },
    }


def edit_turn(
    summary: list[dict[str, Any]] | None = None, prompt: str = "fix the title"
) -> list[dict[str, Any]]:
    user, asst = new_id("msg"), new_id("msg")
    info = user_info(SID, user)
    if summary is not None:
        info["summary"] = {"diffs": summary}
    return [
        msg_updated(info),
        part_updated(text_part(SID, user, new_id("prt"), prompt)),
        status(SID, "busy"),
        msg_updated(assistant_info(SID, asst, user)),
        part_updated(edit_tool(asst)),
        part_updated(text_part(SID, asst, new_id("prt"), "Done.", end=True)),
        msg_updated(assistant_info(SID, asst, user, finish="stop", completed=True)),
        *idle(SID),
    ]


SUMMARY = [
    {
        "file": "README.md",
        "patch": README_PATCH.replace(f"{DIR}/", ""),
        "additions": 2,
        "deletions": 1,
        "status": "modified",
    },
    {"file": "src/app.py", "patch": app_patch(), "additions": 3, "deletions": 3, "status": "modified"},
]


def diff_screen(app: T3App) -> DiffScreen | None:
    screen = app.screen
    return screen if isinstance(screen, DiffScreen) else None


def shown(app: T3App) -> str:
    screen = diff_screen(app)
    if screen is None or not screen.is_mounted or not screen.query(DiffView):
        return ""
    header = [str(w.render()) for w in screen.query("#diff-title, #diff-file")]
    return "\n".join([*header, *screen.view.lines_on_screen()])


async def open_viewer(pilot: Pilot[Any], app: T3App, key: str = "f7") -> DiffScreen:
    await pilot.press(key)
    await wait_for(pilot, app, lambda: diff_screen(app) is not None and diff_screen(app).files is not None)
    screen = diff_screen(app)
    assert screen is not None
    await wait_for(pilot, app, lambda: screen.view.coloured)
    return screen


async def test_f7_shows_the_threads_changes_and_esc_gives_the_prompt_back() -> None:
    async with server() as srv:
        app = app_on(srv, [session_updated(SID, title="Edits"), *edit_turn(SUMMARY)])
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: "edit README.md" in "\n".join(history_lines(app)))
            app.main.prompt.load_text("half a thought")
            await open_viewer(pilot, app)
            text = shown(app)
            assert "Changes · Edits" in text
            assert "README.md  ·  modified  ·  +2 -1  ·  file 1 of 2" in text
            # Both line numbers, the sign, the text: the removed line and the added ones.
            assert " 1    - # project p" in text
            assert "    1 + # project P" in text and "    2 + more" in text
            assert "src/app.py" in text
            await pilot.press("escape")
            await wait_for(pilot, app, lambda: diff_screen(app) is None)
            assert app.main.prompt.text == "half a thought"
            assert app.focused is app.main.prompt  # typing goes on where it stopped


def history_lines(app: T3App) -> list[str]:
    history = app.main.thread_view.history
    return [history.render_line(y).text.rstrip() for y in range(history.total)]


def big_files(count: int = 2, hunks: int = 30) -> list[DiffFile]:
    return [
        DiffFile(FileDiff(f"src/mod{i}.py", app_patch(hunks), hunks, hunks, "modified")) for i in range(count)
    ]


async def viewer_of(
    pilot: Pilot[Any], app: T3App, files: list[DiffFile], split: bool | None = None
) -> DiffScreen:
    """A viewer pushed with ``files`` (as the controller does for a tool call)."""
    screen = DiffScreen("test", files=files, split=split)
    await app.push_screen(screen)
    await wait_for(pilot, app, lambda: screen.files is not None and screen.view.total > 0)
    await wait_for(pilot, app, lambda: screen.view.coloured)
    return screen


def top(screen: DiffScreen) -> str:
    return screen.view.lines_on_screen()[0]


async def test_hunk_and_file_keys_move_the_view() -> None:
    app = ui.make_app(ui.make_store([session_updated(SID, title="Edits"), *edit_turn()]))
    async with app.run_test(size=SIZE) as pilot:
        screen = await viewer_of(pilot, app, big_files())
        assert top(screen).startswith(" src/mod0.py  modified  +30 -30  (1/2)")
        assert "file 1 of 2" in shown(app)
        await pilot.press("n")
        await wait_for(pilot, app, lambda: top(screen).startswith("@@ -1,4 +1,4 @@ def handler_0():"))
        await pilot.press("n", "right_square_bracket")
        await wait_for(pilot, app, lambda: top(screen).startswith("@@ -81,4 +81,4 @@ def handler_2():"))
        await pilot.press("p")
        await wait_for(pilot, app, lambda: top(screen).startswith("@@ -41,4 +41,4 @@ def handler_1():"))
        await pilot.press("N")
        await wait_for(pilot, app, lambda: top(screen).startswith(" src/mod1.py"))
        assert "src/mod1.py  ·  modified  ·  +30 -30  ·  file 2 of 2" in shown(app)  # the header follows
        await pilot.press("P")
        await wait_for(pilot, app, lambda: top(screen).startswith(" src/mod0.py"))
        await pilot.press("end")
        await wait_for(pilot, app, lambda: screen.view.scroll_y == screen.view.max_scroll_y)
        assert "     pass" in screen.view.lines_on_screen()[-1]  # the last line of the last hunk
        assert "file 2 of 2" in shown(app)
        await pilot.press("home")
        await wait_for(pilot, app, lambda: screen.view.scroll_y == 0)
        await pilot.press("pagedown")
        await wait_for(pilot, app, lambda: screen.view.scroll_y > 0)


async def test_unified_and_side_by_side() -> None:
    app = ui.make_app(ui.make_store([session_updated(SID, title="Edits"), *edit_turn(SUMMARY)]))
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_viewer(pilot, app)
        # Wide enough: side by side at first, the old line beside the new one.
        assert "side by side" in shown(app)
        line = next(x for x in screen.view.lines_on_screen() if "# project p" in x)
        assert line.startswith(" 1 - # project p") and "│ 1 + # project P" in line
        await pilot.press("s")
        await wait_for(pilot, app, lambda: "unified" in shown(app))
        assert " 1    - # project p" in shown(app) and "    1 + # project P" in shown(app)
        await pilot.press("escape")
        await wait_for(pilot, app, lambda: diff_screen(app) is None)
        # Remembered while the app runs; too narrow for side by side: unified, and why.
        await pilot.resize_terminal(70, 30)
        screen = await open_viewer(pilot, app)
        assert "unified" in shown(app) and "side by side" not in shown(app)
        await pilot.press("s")
        await wait_for(pilot, app, lambda: "side by side needs 80 columns" in shown(app))
        assert " 1    - # project p" in shown(app)
        await pilot.press("s")
        await wait_for(pilot, app, lambda: "needs 80" not in shown(app))


async def test_an_edit_card_shows_its_diff_and_f7_opens_that_call() -> None:
    second = edit_turn(prompt="and the app")  # a later turn's edit: not the one clicked
    async with server() as srv:
        app = app_on(srv, [session_updated(SID, title="Edits"), *edit_turn(SUMMARY), *second])
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: "← edit README.md  +2 -1" in "\n".join(history_lines(app)))
            x, y = history_row(app, "← edit README.md")
            await pilot.click(HistoryView, offset=(x, y))
            # The card opens on the change itself: numbers, signs, the hint.
            await wait_for(
                pilot, app, lambda: "F7 opens this diff in the viewer" in "\n".join(history_lines(app))
            )
            card = "\n".join(history_lines(app))
            assert "│  1 - # project p" in card and "│  1 + # project P" in card and "│  2 + more" in card
            screen = await open_viewer(pilot, app)
            assert "Changes of one edit call (1 files)" in shown(app)
            assert "README.md  ·  modified  ·  +2 -1" in shown(app) and "src/app.py" not in shown(app)
            await pilot.press("a")  # the whole thread instead
            await wait_for(pilot, app, lambda: "Changes · Edits" in shown(app) and screen.files)
            await wait_for(pilot, app, lambda: "file 1 of 2" in shown(app))
            await pilot.press("escape")
            await wait_for(pilot, app, lambda: diff_screen(app) is None)
            await pilot.press("f7")  # the card clicked last is still on screen: that call again
            await wait_for(pilot, app, lambda: "Changes of one edit call" in shown(app))
            await pilot.press("f7")  # F7 again closes it
            await wait_for(pilot, app, lambda: diff_screen(app) is None)


async def test_a_live_edit_card_opens_its_diff_too() -> None:
    async with server() as srv:
        app = app_on(srv, [session_updated(SID, title="Edits"), *edit_turn(SUMMARY)])
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: app.main.thread_view.history.total > 0)
            events = edit_turn(prompt="again")
            for obs in events[:5]:  # running while the thread is open: its card is a widget
                app.link.observe(obs)
            await wait_for(pilot, app, lambda: app.query(ToolView))
            card = app.query_one(ToolView)
            await wait_for(pilot, app, lambda: str(card.render()) == "← edit README.md  +2 -1")
            await pilot.click(ToolView)
            await wait_for(pilot, app, lambda: "F7 opens this diff in the viewer" in str(card.render()))
            assert " 2 + more" in str(card.render())
            await open_viewer(pilot, app)
            assert "Changes of one edit call (1 files)" in shown(app)
            assert "    2 + more" in shown(app)


async def test_the_servers_diff_when_the_store_has_none_and_one_file_for_the_work_panel() -> None:
    async with server() as srv:
        srv.rest[f"/session/{SID}/diff"] = SUMMARY
        turn = edit_turn()
        app = app_on(srv, [session_updated(SID, title="Edits"), *turn])
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: app.main.thread_view.history.total > 0)
            app.diffs.open(SID, "src/app.py")
            await wait_for(pilot, app, lambda: diff_screen(app) is not None and diff_screen(app).files)
            text = shown(app)
            assert "Changes · Edits · src/app.py" in text
            assert "src/app.py  ·  modified  ·  +3 -3" in text and "README.md" not in text
            await pilot.press("escape")
            app.diffs.open(SID, "nowhere.txt")
            await wait_for(pilot, app, lambda: "No changes to nowhere.txt in this thread" in shown(app))


async def test_without_a_server_the_edit_tools_diffs() -> None:
    app = ui.make_app(ui.make_store([session_updated(SID, title="Edits"), *edit_turn()]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, lambda: app.main.thread_view.history.total > 0)
        await open_viewer(pilot, app)
        assert "README.md  ·  modified  ·  +2 -1" in shown(app)  # relative to the thread's directory
        assert "    2 + more" in shown(app)


async def test_f7_without_a_thread_says_so() -> None:
    app = ui.make_app(ui.make_store([]), thread=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        await wait_for(pilot, app, lambda: "Open a thread to see its changes" in ui.toasts(app))
        assert diff_screen(app) is None


def hostile_files() -> list[DiffFile]:
    huge = "@@ -1,25000 +1,25000 @@\n" + "".join(f"-old {i}\n+new {i}\n" for i in range(25000))
    markup = "@@ -1,2 +1,2 @@\n-[bold]x[/bold] \x1b[2J\x1b[31mred\n+[/] \u202etxt.exe\tTAB\n \x00end\n"
    return [
        DiffFile(FileDiff("big.py", huge, 25000, 25000)),
        DiffFile(FileDiff("[red]markup[/red].py", markup)),
        DiffFile(FileDiff("garbage.txt", "not a diff\n@@ nonsense\n\x1b]52;c;aGk=\x07")),
        DiffFile(FileDiff("counts-only.py", "", 3, 1)),
        DiffFile(FileDiff("logo.png", "Binary files a/logo.png and b/logo.png differ\n")),
        DiffFile(FileDiff("long.py", "@@ -0,0 +1 @@\n+" + "x = 1  # " + "word " * 40 + "END\n")),
    ]


async def test_hostile_patches_never_crash_and_show_literally() -> None:
    app = ui.make_app(ui.make_store([session_updated(SID, title="Edits")]))
    async with app.run_test(size=SIZE) as pilot:
        screen = await viewer_of(pilot, app, hostile_files())
        view = screen.view
        assert view.total > 50_000  # every line of the 50,000-line patch, and the others
        await pilot.press("N")  # past the long file: the others share the last screen
        await wait_for(pilot, app, lambda: view.scroll_y == view.max_scroll_y)
        await wait_for(pilot, app, lambda: view.coloured)
        lines = view.lines_on_screen()
        assert "25000       - old 24999" in lines
        at = lines.index(" [red]markup[/red].py  modified  +1 -1  (2/6)")
        assert lines[at + 1 : at + 5] == [
            "@@ -1,2 +1,2 @@",
            " 1    - [bold]x[/bold] ␛[2J␛[31mred",
            "    1 + [/] <U+202E>txt.exe TAB",  # the tab as spaces, bidi by name
            " 2  2   ␀end",
        ]
        at = lines.index(" garbage.txt  modified  +0 -0  (3/6)")
        assert lines[at + 1 : at + 4] == ["not a diff", "@@ nonsense", "␛]52;c;aGk=␇"]
        assert "The server sent no patch for this file (+3 -1)" in lines
        assert "A binary file: no lines to show" in lines
        # A long line wraps: nothing of it is out of sight.
        assert lines[-1].endswith("word word END") and lines[-2].startswith("      ")
        assert lines[-3].startswith("    1 + x = 1  # word word")
        await pilot.press("home", "s")  # side by side: the same lines, each in its place
        await wait_for(pilot, app, lambda: "side by side" in shown(app))
        assert view.lines_on_screen()[2].startswith("    1 - old 0")
        await pilot.press("end")
        await wait_for(pilot, app, lambda: view.scroll_y == view.max_scroll_y)


# -- snapshots ---------------------------------------------------------------------------------


def snapshot_run(split: bool) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await wait_for(pilot, app, lambda: app.main.thread_view.history.total > 0)
        app.diffs.split = split
        await open_viewer(pilot, app)
        await pilot.pause()

    return run_before


def snapshot_app(lang: str) -> T3App:
    summary = [
        *SUMMARY,
        {
            "file": "docs/notes.md",
            "patch": "@@ -0,0 +1,2 @@\n+# Notes\n+- one\n",
            "additions": 2,
            "deletions": 0,
            "status": "added",
        },
    ]
    store = ui.make_store([session_updated(SID, title="Edits"), *edit_turn(summary)])
    return ui.make_app(store, lang=lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_diff_unified(snap_compare: Callable[..., bool], lang: str) -> None:
    assert snap_compare(snapshot_app(lang), terminal_size=SIZE, run_before=snapshot_run(False))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_diff_side_by_side(snap_compare: Callable[..., bool], lang: str) -> None:
    assert snap_compare(snapshot_app(lang), terminal_size=WIDE, run_before=snapshot_run(True))
