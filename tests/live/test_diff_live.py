"""The diff viewer against the real opencode: the scripted model edits a file, and the
viewer (F7) shows the lines it changed, removed and added, with their numbers; the edit's
card shows them too, and F7 after a click on it opens that call's diff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from t3tui.app.screens.diff import DiffScreen
from t3tui.app.widgets.live_turn import ToolView

from .mockmodel import MockModel
from .opencode_server import OpencodeServer
from .test_app_live import live_app, send_and_finish, wait_for

BEFORE = "def greet(name):\n    message = 'hello ' + name\n    return message\n"


def viewer(app: Any) -> DiffScreen | None:
    screen = app.screen
    return screen if isinstance(screen, DiffScreen) and screen.files else None


def viewer_text(app: Any) -> str:
    screen = viewer(app)
    return "\n".join(screen.view.lines_on_screen()) if screen is not None and screen.is_mounted else ""


async def test_the_viewer_shows_the_lines_an_edit_changed(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    def prepare(project: Path) -> None:
        (project / "greet.py").write_text(BEFORE)

    async with live_app(opencode, tmp_path, prepare=prepare) as (app, pilot):
        project = Path(app.link.directory)
        steps = [
            {
                "tool": "edit",
                "args": {
                    "filePath": str(project / "greet.py"),
                    "oldString": "    message = 'hello ' + name\n",
                    "newString": "    message = 'Hello, ' + name + '!'\n    print(message)\n",
                },
            },
            {"text": "Edited greet.py."},
        ]
        mock_model.set_mode("script", steps=steps)
        await send_and_finish(pilot, "make the greeting louder")
        assert "Hello, ' + name + '!'" in (project / "greet.py").read_text()
        app.main.prompt.load_text("a draft")
        app.diffs.split = False
        await pilot.press("f7")
        await wait_for(pilot, lambda: "print(message)" in viewer_text(app), what="the viewer with the edit")
        lines = viewer_text(app).split("\n")
        screen = viewer(app)
        assert screen is not None
        header = str(screen.query_one("#diff-file").render())
        assert header.startswith("greet.py  ·  modified  ·  +2 -1")
        # The removed line with its old number, the added ones with their new numbers.
        assert " 2    -     message = 'hello ' + name" in lines
        assert "    2 +     message = 'Hello, ' + name + '!'" in lines
        assert "    3 +     print(message)" in lines
        assert " 1  1   def greet(name):" in lines  # context: both numbers, no sign
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DiffScreen), what="the viewer to close")
        assert app.main.prompt.text == "a draft"
        # The edit's card (the turn ran while the thread was open: a widget): a click shows
        # its change, and F7 then opens that call.
        card = app.query_one(ToolView)
        assert str(card.render()) == "← edit greet.py  +2 -1"
        await pilot.click(ToolView)
        await wait_for(pilot, lambda: "+     print(message)" in str(card.render()), what="the card's diff")
        await pilot.press("f7")
        await wait_for(pilot, lambda: "print(message)" in viewer_text(app), what="the call's diff")
        screen = viewer(app)
        assert screen is not None and "Changes of one edit call" in str(
            screen.query_one("#diff-title").render()
        )
