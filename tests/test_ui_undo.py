"""Thread operations against a scripted server: /undo and /redo (what is reverted, what
comes back into the prompt, and that nothing the user typed is overwritten) and renaming.
(The live test checks the real server's revert in tests/live/test_prompt_live.py.)"""

from __future__ import annotations

from typing import Any

import ui_support as ui
from eventgen import DIR, prompt_run, session_updated
from sse_server import Request, Script, SSEServer
from textual.pilot import Pilot
from textual.widgets import Input
from ui_support import toasts, wait_for

from t3tui.app.app import T3App
from t3tui.app.screens.dialogs import TextScreen
from t3tui.opencode.client import OpencodeClient

SIZE = (110, 32)
SID = ui.SID


def two_turns() -> tuple[str, str, list[dict[str, Any]]]:
    first, _, _, one = prompt_run(SID, "first question", tokens=2)
    second, _, _, two = prompt_run(SID, "second question", tokens=2)
    return first, second, [session_updated(SID, title="Undo"), *one, *two]


def revert_server() -> SSEServer:
    """Answers revert and unrevert with the session, as opencode does."""
    server = SSEServer(default=Script(ending="heartbeat"))

    def reverted(req: Request) -> dict[str, Any]:
        return {
            "id": SID,
            "directory": DIR,
            "title": "Undo",
            "revert": {"messageID": req.json()["messageID"]},
        }

    server.rest.update(
        {
            "/agent": [],
            "/command": [],
            f"/session/{SID}/revert": reverted,
            f"/session/{SID}/unrevert": {"id": SID, "directory": DIR, "title": "Undo"},
            f"/session/{SID}/abort": True,
            f"/session/{SID}": lambda req: {
                "id": SID,
                "directory": DIR,
                "title": (req.json() or {}).get("title"),
            },
        }
    )
    return server


def app_on(server: SSEServer, lines: list[dict[str, Any]]) -> T3App:
    return ui.make_app(ui.make_store(lines), connect=True, client=OpencodeClient(server.url))


def reverts(server: SSEServer) -> list[str]:
    return [r.json()["messageID"] for r in server.paths(f"/session/{SID}/revert")]


async def run(pilot: Pilot[Any], command: str) -> None:
    app: T3App = pilot.app  # type: ignore[assignment]
    app.composer.submit(command)
    await pilot.pause()


async def test_undo_then_redo_walks_the_revert_point() -> None:
    first, second, lines = two_turns()
    async with revert_server() as server:
        app = app_on(server, lines)
        async with app.run_test(size=SIZE) as pilot:
            prompt = app.main.prompt
            await run(pilot, "/undo")
            await wait_for(pilot, app, lambda: reverts(server) == [second])
            await wait_for(pilot, app, lambda: prompt.text == "second question")
            th = app.threads.current
            assert th is not None and th.turns[second].reverted and not th.turns[first].reverted
            # Again, from the palette while the input holds text: the point moves back one
            # more prompt, and what is in the input stays.
            app.undo.undo()
            await wait_for(pilot, app, lambda: reverts(server) == [second, first])
            await wait_for(pilot, app, lambda: any("in the history" in m for m in toasts(app)))
            assert prompt.text == "second question"
            assert app.threads.drafts.prompt_history[-1] == "first question"
            # Redo: forward one prompt, then everything back.
            await run(pilot, "/redo")
            await wait_for(pilot, app, lambda: reverts(server) == [second, first, second])
            await run(pilot, "/redo")
            await wait_for(pilot, app, lambda: server.paths(f"/session/{SID}/unrevert"))
            await wait_for(pilot, app, lambda: th.revert_id is None)
            await run(pilot, "/redo")
            await wait_for(pilot, app, lambda: any("Nothing to redo" in m for m in toasts(app)))


async def test_undo_interrupts_a_running_turn_first() -> None:
    _, _, _, running = prompt_run(SID, "still going", tokens=2, finish=False)
    async with revert_server() as server:
        server.rest["/session/status"] = {SID: {"type": "busy"}}
        app = app_on(server, [session_updated(SID, title="Undo"), *running])
        async with app.run_test(size=SIZE) as pilot:
            await run(pilot, "/undo")
            await wait_for(pilot, app, lambda: reverts(server))
            aborted = server.paths(f"/session/{SID}/abort")
            assert aborted and aborted[0].time < server.paths(f"/session/{SID}/revert")[0].time


async def test_nothing_to_undo_says_so() -> None:
    async with revert_server() as server:
        app = app_on(server, [session_updated(SID, title="Empty")])
        async with app.run_test(size=SIZE) as pilot:
            await run(pilot, "/undo")
            await wait_for(pilot, app, lambda: any("Nothing to undo" in m for m in toasts(app)))
            assert not reverts(server)


def patches(server: SSEServer) -> list[Any]:
    return [r.json() for r in server.requests if r.method == "PATCH"]


async def test_rename_from_the_slash_command_and_from_the_sidebar() -> None:
    _, _, lines = two_turns()
    async with revert_server() as server:
        app = app_on(server, lines)
        async with app.run_test(size=SIZE) as pilot:
            await run(pilot, "/rename  A   better\ttitle ")
            await wait_for(pilot, app, lambda: patches(server) == [{"title": "A better title"}])
            await wait_for(pilot, app, lambda: app.threads.current.title == "A better title")  # type: ignore[union-attr]
            # Ctrl+R in the sidebar asks, prefilled; Esc sends nothing.
            app.main.sidebar.focus()
            await pilot.press("ctrl+r")
            await wait_for(pilot, app, lambda: isinstance(app.screen, TextScreen))
            assert app.screen.query_one(Input).value == "A better title"
            await pilot.press("escape")
            await wait_for(pilot, app, lambda: app.screen is app.main)
            assert len(patches(server)) == 1
            await pilot.press("ctrl+r")
            await wait_for(pilot, app, lambda: isinstance(app.screen, TextScreen))
            app.screen.query_one(Input).value = ""
            await pilot.press(*"[b]Kept literally[/b]", "enter")
            await wait_for(pilot, app, lambda: len(patches(server)) == 2)
            assert patches(server)[-1] == {"title": "[b]Kept literally[/b]"}
            shown = lambda: app.export_screenshot().replace("&#160;", " ")  # noqa: E731
            await wait_for(pilot, app, lambda: "[b]Kept literally[/b]" in shown())
