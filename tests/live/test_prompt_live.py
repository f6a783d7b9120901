"""The prompt's daily habits against the real opencode and the scripted model: what the
model receives is read from the mock's request log, what the user sees from the screen.

- ``@file`` (picked from the completion list) puts the file's content in the model's request;
- ``@file#2-3`` only those lines;
- ``/init`` runs the server's command: its template reaches the model;
- ``!echo`` runs in the thread's shell and shows as a completed shell turn with its output;
- Tab picks the plan agent: the server records it and plan mode's rules reach the model.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from t3tui.app.app import T3App

from .mockmodel import MockModel
from .opencode_server import OpencodeServer
from .test_app_live import describe, last_turn, live_app, on_screen, wait_for

# From the template of opencode's own /init command.
INIT_MARK = "Would an agent likely miss this without help?"


def requests_text(mock_model: MockModel, since: int) -> list[str]:
    """Each model request after the first ``since``, as the text of its messages."""
    return [json.dumps(r["messages"]) for r in mock_model.requests[since:] if not r.get("title")]


def completed(app: T3App) -> bool:
    """The open thread's last turn completed (False while there is none yet)."""
    th = app.threads.current
    return th is not None and bool(th.order) and last_turn(app).state == "completed"


def rows(app: T3App) -> list[str]:
    return [item.label for item in app.main.completion.items] if app.main.completion.open else []


async def type_keys(pilot: Pilot[Any], text: str) -> None:
    app: T3App = pilot.app  # type: ignore[assignment]
    app.main.prompt.focus()
    await pilot.press(*text)


async def test_an_at_mention_puts_the_file_in_the_models_request(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    word = f"xyzzy-{uuid.uuid4().hex[:8]}"

    def prepare(project: Path) -> None:
        (project / "notes").mkdir()
        (project / "notes" / "secret.txt").write_text(f"line-one\nline-two {word}\nline-three\n")

    async with live_app(opencode, tmp_path, prepare=prepare) as (app, pilot):
        since = len(mock_model.requests)
        mock_model.set_mode("fast", count=1)
        await type_keys(pilot, "read @secre")
        await wait_for(
            pilot,
            lambda: "@notes/secret.txt" in rows(app),
            what=lambda: f"the file in the list: {app.main.prompt.text!r} {rows(app)}",
        )
        await pilot.press("enter", *"please", "enter")
        await wait_for(
            pilot,
            lambda: any(word in text for text in requests_text(mock_model, since)),
            what=lambda: f"the file's content in the model's request\n{describe(app)}",
        )
        await wait_for(pilot, lambda: completed(app), what="the turn to complete")


async def test_a_line_range_sends_only_those_lines(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    def prepare(project: Path) -> None:
        (project / "ranged.txt").write_text("alpha-1\nbravo-2\ncharlie-3\ndelta-4\necho-5\n")

    async with live_app(opencode, tmp_path, prepare=prepare) as (app, pilot):
        since = len(mock_model.requests)
        mock_model.set_mode("fast", count=1)
        await type_keys(pilot, "@ranged#2-3")
        await wait_for(pilot, lambda: "@ranged.txt" in rows(app), what="the file in the list")
        await pilot.press("enter")
        assert app.main.prompt.text == "@ranged.txt#2-3 "
        await pilot.press(*"what now", "enter")
        await wait_for(
            pilot,
            lambda: any("charlie-3" in text for text in requests_text(mock_model, since)),
            what="the range in the model's request",
        )
        text = next(text for text in requests_text(mock_model, since) if "charlie-3" in text)
        assert "bravo-2" in text and "delta-4" not in text and "echo-5" not in text


async def test_slash_init_runs_the_servers_command(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        await wait_for(pilot, lambda: app.composer.server_commands(app.link), what="the server's commands")
        since = len(mock_model.requests)
        mock_model.set_mode("fast", count=1)
        await type_keys(pilot, "/ini")
        await wait_for(pilot, lambda: rows(app)[:1] == ["/init"], what="/init in the list")
        await pilot.press("enter")
        assert app.main.prompt.text == "/init "
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: any(INIT_MARK in text for text in requests_text(mock_model, since)),
            what=lambda: f"the init template in the model's request\n{describe(app)}",
        )
        await wait_for(pilot, lambda: completed(app), what="the turn to complete")
        assert len(app.threads.current.order) == 1  # one turn: nothing sent twice  # type: ignore[union-attr]


async def test_bang_runs_a_shell_command_and_shows_its_output(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        since = len(mock_model.requests)
        word = f"hi-{uuid.uuid4().hex[:6]}"
        await type_keys(pilot, f"!echo {word}")
        assert app.main.prompt.shell and app.main.prompt.text == f"echo {word}"
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: completed(app) and last_turn(app).shell_done and on_screen(app, word),
            what=lambda: f"the shell turn with its output\n{describe(app)}",
        )
        turn = last_turn(app)
        assert turn.state == "completed" and turn.shell_command == f"echo {word}"
        assert len(app.threads.current.order) == 1  # type: ignore[union-attr]
        assert not requests_text(mock_model, since)  # the model was not asked


async def test_tab_picks_the_plan_agent_for_the_prompt(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        await wait_for(pilot, lambda: app.agents.of(app.link), what="the server's agents")
        assert app.main.prompt.border_title == "Build"
        await pilot.press("tab")
        assert app.main.prompt.border_title == "Plan"
        since = len(mock_model.requests)
        mock_model.set_mode("fast", count=1)
        await type_keys(pilot, "think first")
        await pilot.press("enter")
        await wait_for(pilot, lambda: completed(app), what="the turn to complete")
        th = app.threads.current
        assert th is not None
        messages = await app.link.client.raw_messages(th.id, th.directory)
        assert messages[0]["info"]["agent"] == "plan"
        text = " ".join(requests_text(mock_model, since)).lower()
        assert "plan mode" in text, text[:2000]


async def test_undo_reverts_the_last_turn_and_gives_its_prompt_back_redo_restores_it(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        for text in ("first question", "second question"):
            mock_model.set_mode("fast", count=1)
            await type_keys(pilot, text)
            await pilot.press("enter")
            await wait_for(
                pilot,
                lambda t=text: completed(app) and last_turn(app).prompt == t,
                what=f"{text!r} to complete",
            )
        th = app.threads.current
        assert th is not None
        first, second = (th.turns[tid] for tid in th.order)
        await type_keys(pilot, "/undo")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: second.reverted, what=lambda: f"the last turn reverted\n{describe(app)}"
        )
        assert not first.reverted
        assert app.main.prompt.text == "second question"  # given back to edit and send again
        session = await app.link.client.get_session(th.id, th.directory)
        assert session.revert is not None and session.revert.messageID == second.id
        await wait_for(pilot, lambda: on_screen(app, "reverted"), what="the turn marked reverted")

        app.main.prompt.load_text("")
        await type_keys(pilot, "/redo")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not second.reverted, what="the turn back after redo")
        session = await app.link.client.get_session(th.id, th.directory)
        assert session.revert is None
