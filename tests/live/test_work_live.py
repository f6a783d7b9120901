"""The work panel against the real opencode: it follows the model's ``todowrite`` calls,
lists what ``edit`` and ``write`` changed with the server's line counts, and shows the
tokens and cost the server counted (the ``priced`` mock model costs $1,000/$2,000 per
million tokens in/out and has a 1,000-token window, so every number is visible).

The mock model plays a scripted agent loop (``script`` mode): one step per request.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from textual.pilot import Pilot

from t3tui.app.app import T3App
from t3tui.app.widgets.work_panel import money

from .mockmodel import MockModel
from .opencode_server import OpencodeServer
from .test_app_live import live_app, send, status_text, wait_for

WIDE = (140, 36)  # wider than 120 columns: the panel shows by itself
TIMEOUT = 60.0


def panel_lines(app: T3App) -> list[str]:
    panel = app.main.work_panel
    if not panel.display:
        return []
    out = []
    for widget in panel.query("#work-context, #work-todos, #work-empty, #work-files-title, #work-files"):
        if widget.display:
            out += [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]
    return [line for line in out if line]


def todo(content: str, status: str) -> dict[str, Any]:
    return {"content": content, "status": status, "priority": "medium"}


FIRST = [
    todo("Read the README", "in_progress"),
    todo("Fix the title", "pending"),
    todo("Take notes", "pending"),
]
SECOND = [
    todo("Read the README", "completed"),
    todo("Fix the title", "in_progress"),
    todo("Take notes", "pending"),
]
NOTES = "one\ntwo\nthree\n"


async def server_json(server: OpencodeServer, path: str, directory: str) -> Any:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
        r = await c.get(path, params={"directory": directory})
        r.raise_for_status()
        return r.json()


def in_context(messages: list[dict[str, Any]]) -> int:
    """opencode's sidebar rule: the last answer that wrote something, all its tokens."""
    last = [
        m["info"] for m in messages if m["info"]["role"] == "assistant" and m["info"]["tokens"]["output"] > 0
    ]
    tokens = last[-1]["tokens"]
    return (
        tokens["input"]
        + tokens["output"]
        + tokens["reasoning"]
        + tokens["cache"]["read"]
        + tokens["cache"]["write"]
    )


async def until(pilot: Pilot[Any], predicate: Callable[[], Any], what: str) -> None:
    await wait_for(pilot, predicate, TIMEOUT, what)


async def test_the_panel_follows_the_agent_and_counts_as_the_server_does(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    mock_model.hold("second todowrite")
    async with live_app(opencode, tmp_path) as (app, pilot):
        project = Path(app.link.directory)
        steps = [
            {"tool": "todowrite", "args": {"todos": FIRST}},
            # Waits until the test has seen the first list on the panel.
            {"tool": "todowrite", "args": {"todos": SECOND}, "hold": "second todowrite"},
            {
                "tool": "edit",
                "args": {
                    "filePath": str(project / "README.md"),
                    "oldString": f"# project {project.name}",
                    "newString": "# The project\nwith a second line",
                },
            },
            {"tool": "write", "args": {"filePath": str(project / "notes.txt"), "content": NOTES}},
            {"text": "All done."},
        ]
        mock_model.set_mode("script", steps=steps)
        await pilot.resize_terminal(*WIDE)
        app.models.next = ("mock", "priced")  # what the model picker (Ctrl+O) would set
        await send(pilot, "tidy the project")

        await until(
            pilot, lambda: "▶ Read the README" in panel_lines(app), "the first todo list on the panel"
        )
        assert panel_lines(app)[panel_lines(app).index("Todo 0/3") :][:4] == [
            "Todo 0/3",
            "▶ Read the README",
            "○ Fix the title",
            "○ Take notes",
        ]
        mock_model.release("second todowrite")
        await until(pilot, lambda: "▶ Fix the title" in panel_lines(app), "the second todo list")
        assert "✓ Read the README" in panel_lines(app) and "Todo 1/3" in panel_lines(app)

        th = app.threads.current
        assert th is not None
        await until(
            pilot, lambda: not th.active and any("notes.txt" in line for line in panel_lines(app)), "the end"
        )
        sid, directory = th.id, str(project)

        # The files, as the server counts them (the user message's summary.diffs).
        messages = await server_json(opencode, f"/session/{sid}/message", directory)
        summary = messages[0]["info"]["summary"]["diffs"]
        counts = {d["file"]: (d["additions"], d["deletions"]) for d in summary}
        assert counts == {"README.md": (2, 1), "notes.txt": (3, 0)}
        lines = panel_lines(app)
        files = lines[lines.index("Modified files 2  +5 -1") + 1 :]
        assert [row.split() for row in files] == [["README.md", "+2", "-1"], ["notes.txt", "+3"]]

        # Tokens and cost, as the server counts them.
        session = await server_json(opencode, f"/session/{sid}", directory)
        cost = session["cost"]
        assert cost == math.fsum(m["info"]["cost"] for m in messages if m["info"]["role"] == "assistant") > 0
        tokens = in_context(messages)
        await until(pilot, lambda: f"{money(cost)} spent" in panel_lines(app), "the server's cost")
        assert f"{tokens:,} tokens" in panel_lines(app)
        assert f"{math.floor(tokens * 100 / 1000 + 0.5)}% of 1,000 used" in panel_lines(app)
        assert f"│ {money(cost)} · all " in status_text(app)


def run_elsewhere(server: OpencodeServer, project: Path, ran: list[str]) -> None:
    """Another client's whole run, before t3tui starts: t3tui sees none of its events."""
    params = {"directory": str(project)}
    body = {"parts": [{"type": "text", "text": "go"}], "model": {"providerID": "mock", "modelID": "priced"}}
    with httpx.Client(base_url=server.url, timeout=30) as c:
        sid = c.post("/session", params=params, json={"title": "elsewhere"}).json()["id"]
        c.post(f"/session/{sid}/prompt_async", params=params, json=body).raise_for_status()
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            time.sleep(0.2)
            messages = c.get(f"/session/{sid}/message", params=params).json()
            finished = [m for m in messages if m["info"].get("finish") == "stop"]
            if finished and sid not in c.get("/session/status", params=params).json():
                ran.append(sid)
                return
    raise AssertionError("the other client's run did not end")


async def test_a_thread_run_elsewhere_shows_its_todos_and_files_when_opened(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    """Its todo list comes from GET /todo when it is opened, its files and cost from its history."""
    ran: list[str] = []

    def prepare(project: Path) -> None:
        mock_model.set_mode(
            "script",
            steps=[
                {"tool": "todowrite", "args": {"todos": SECOND}},
                {"tool": "write", "args": {"filePath": str(project / "notes.txt"), "content": NOTES}},
                {"text": "Done."},
            ],
        )
        run_elsewhere(opencode, project, ran)

    async with live_app(opencode, tmp_path, prepare=prepare) as (app, pilot):
        await pilot.resize_terminal(*WIDE)
        # t3tui opens the newest thread of its directory at start: that one.
        await until(pilot, lambda: app.threads.current_id == ran[0], "the thread to open")
        await until(pilot, lambda: "▶ Fix the title" in panel_lines(app), "the todos, from GET /todo")
        assert any(line.split() == ["notes.txt", "+3"] for line in panel_lines(app))
        assert any(line.endswith(" spent") and "$0.00" not in line for line in panel_lines(app))
