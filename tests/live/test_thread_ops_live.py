"""Fork, delete and compact against the real opencode and the scripted model.

- fork (F8, then a prompt picked in the timeline) opens a new thread holding the turns
  before the picked prompt, with that prompt in the input;
- Ctrl+D in the sidebar (and y) deletes the thread: the server no longer has it and it
  leaves the sidebar; a thread deleted through the API by another client leaves too;
- ``/compact`` writes the summary and the thread shows the "compacted" marker with it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from textual.widgets import OptionList

from t3tui.app.app import T3App
from t3tui.app.screens.dialogs import ConfirmScreen
from t3tui.app.screens.timeline import TimelineScreen
from t3tui.i18n import t
from t3tui.opencode.client import NotFoundError

from . import mockmodel as mm
from .mockmodel import MockModel
from .opencode_server import OpencodeServer
from .test_app_live import describe, last_turn, live_app, on_screen, toasts, wait_for
from .test_prompt_live import completed, type_keys


async def ask(app: T3App, pilot: object, mock_model: MockModel, text: str) -> None:
    """Send ``text`` in the open (or a new) thread and wait for its answer."""
    mock_model.set_mode("fast", count=1)
    await type_keys(pilot, text)  # type: ignore[arg-type]
    await pilot.press("enter")  # type: ignore[attr-defined]
    await wait_for(
        pilot,  # type: ignore[arg-type]
        lambda: completed(app) and last_turn(app).prompt == text,
        what=lambda: f"{text!r} to complete\n{describe(app)}",
    )


async def test_fork_opens_a_new_thread_with_the_turns_before_the_picked_prompt(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    word = uuid.uuid4().hex[:6]
    first, second = f"first {word}", f"second {word}"
    async with live_app(opencode, tmp_path) as (app, pilot):
        await ask(app, pilot, mock_model, first)
        await ask(app, pilot, mock_model, second)
        source = app.threads.current
        assert source is not None
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen), what="the timeline picker")
        olist = app.screen.query_one(OptionList)
        assert olist.option_count == 2 and olist.highlighted == 1  # the newest, highlighted
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: app.threads.current_id not in (None, source.id),
            what=lambda: f"the fork to open\n{describe(app)}",
        )
        forked = app.threads.current
        assert forked is not None
        await wait_for(
            pilot,
            lambda: [turn.prompt for turn in forked.sorted_turns()] == [first],
            what=lambda: f"the turn before the picked one in the fork\n{describe(app)}",
        )
        assert forked.sorted_turns()[0].text == mm.FAST_TEXT
        assert app.main.prompt.text == second  # to edit and send again
        messages = await app.link.client.raw_messages(forked.id, forked.directory)
        assert [m["info"]["role"] for m in messages] == ["user", "assistant"]
        assert forked.id in app.main.sidebar.thread_ids and source.id in app.main.sidebar.thread_ids
        assert len(source.order) == 2  # the source thread is untouched


async def test_delete_from_the_sidebar_and_by_another_client(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        await ask(app, pilot, mock_model, "to be kept")
        kept = app.threads.current_id
        await pilot.press("ctrl+n")
        await ask(app, pilot, mock_model, "to be deleted")
        doomed = app.threads.current
        assert doomed is not None and doomed.id != kept
        sidebar = app.main.sidebar
        await wait_for(pilot, lambda: doomed.id in sidebar.thread_ids, what="the thread in the sidebar")
        sidebar.focus()
        sidebar.highlighted = sidebar.get_option_index(doomed.id)
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: doomed.id not in sidebar.thread_ids and not app.link.has(doomed.id),
            what=lambda: f"the thread gone from the sidebar\n{describe(app)}",
        )
        assert app.threads.current_id == kept  # its neighbour opened
        with pytest.raises(NotFoundError):
            await app.link.client.get_session(doomed.id, doomed.directory)

        # Another client deletes the open thread: it goes through the server's events.
        other = await app.link.client.create_session(app.link.directory, title="Made elsewhere")
        await wait_for(pilot, lambda: other.id in sidebar.thread_ids, what="the other client's thread")
        await app.threads.open(other.id)
        assert await app.link.client.delete_session(other.id, other.directory)
        await wait_for(
            pilot,
            lambda: other.id not in sidebar.thread_ids and app.threads.current_id is None,
            what=lambda: f"the deleted thread gone, nothing open\n{describe(app)}",
        )
        assert kept in sidebar.thread_ids


async def test_compact_shows_the_marker_with_the_summary(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        await ask(app, pilot, mock_model, "something to summarize")
        th = app.threads.current
        assert th is not None
        since = len(mock_model.requests)
        mock_model.set_mode("fast", count=1)
        await type_keys(pilot, "/compact")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: len(th.order) == 2 and last_turn(app).compaction == "manual" and completed(app),
            what=lambda: f"the compaction turn to complete\n{describe(app)}",
        )
        turn = last_turn(app)
        assert turn.text == mm.FAST_TEXT  # the summary the model wrote
        assert len(mock_model.requests) > since  # the model was asked for it
        marker = t("turn.compacted")
        await wait_for(
            pilot,
            lambda: on_screen(app, marker, "tok9"),
            what=lambda: f"the marker and the summary on screen\n{describe(app)}",
        )
        await wait_for(
            pilot, lambda: any(m.startswith("Compacted:") for m in toasts(app)), what="the done toast"
        )
        messages = await app.link.client.raw_messages(th.id, th.directory)
        assert messages[-2]["parts"][0]["type"] == "compaction"
        assert messages[-1]["info"]["agent"] == "compaction"
