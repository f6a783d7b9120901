"""Fork, delete and compact against a scripted server: the timeline picker and what it
sends, the confirmation before a delete, and a compaction shown as a marker with its
summary (live and from the history). The real server's side is in
tests/live/test_thread_ops_live.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import ui_support as ui
from eventgen import DIR, ev, prompt_run, session_info, session_updated, snapshot
from sse_server import Reply, Request, Script, SSEServer
from test_store_compaction import compaction_messages, compaction_run, question_messages
from textual.pilot import Pilot
from textual.widgets import OptionList
from ui_support import toasts, wait_for

from t3tui.app.app import T3App
from t3tui.app.screens.dialogs import ConfirmScreen
from t3tui.app.screens.timeline import TimelineScreen
from t3tui.opencode.client import OpencodeClient

SIZE = (110, 32)
SID = ui.SID
OTHER = "ses_e030be698ffekR7lV1Ew0yneZ7"
FORKED = "ses_e030be698ffekR7lV1Ew0yneZ9"
PROMPTS = ("first question", "second question\nwith a second line", "third question")


def three_turns() -> tuple[list[str], list[dict[str, Any]]]:
    ids, lines = [], [session_updated(SID, title="Three questions")]
    for text in PROMPTS:
        user, _, _, events = prompt_run(SID, text, tokens=2)
        ids.append(user)
        lines += events
    return ids, lines


def scripted() -> SSEServer:
    """Answers fork, delete and summarize as opencode does."""
    server = SSEServer(default=Script(ending="heartbeat"))

    def session(req: Request) -> Any:
        if req.method == "DELETE":
            return True
        return session_info(SID, title="Three questions")

    server.rest.update(
        {
            "/agent": [],
            "/command": [],
            f"/session/{SID}/fork": session_info(FORKED, title="Three questions (fork #1)"),
            f"/session/{SID}": session,
            f"/session/{OTHER}": lambda req: True,
            f"/session/{SID}/summarize": True,
            f"/session/{SID}/abort": True,
        }
    )
    return server


def app_on(server: SSEServer, lines: list[dict[str, Any]], **kw: Any) -> T3App:
    return ui.make_app(ui.make_store(lines), connect=True, client=OpencodeClient(server.url), **kw)


def bodies(server: SSEServer, path: str) -> list[Any]:
    return [r.json() for r in server.paths(path) if r.method == "POST"]


def deletes(server: SSEServer) -> list[str]:
    return [r.path for r in server.requests if r.method == "DELETE"]


def rows(app: T3App) -> list[str]:
    olist = app.screen.query_one(OptionList)
    return [str(olist.get_option_at_index(i).prompt) for i in range(olist.option_count)]


def deleted(sid: str) -> dict[str, Any]:
    """The server's ``session.deleted`` (what another client's delete sends everyone)."""
    return ev("session.deleted", {"sessionID": sid, "info": session_info(sid)})


# -- fork ------------------------------------------------------------------------------


async def test_the_picker_lists_the_prompts_and_esc_sends_nothing() -> None:
    ids, lines = three_turns()
    async with scripted() as server:
        app = app_on(server, lines)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f8")
            await wait_for(pilot, app, lambda: isinstance(app.screen, TimelineScreen))
            shown = rows(app)
            assert [row.split("  ")[0] for row in shown] == [
                "first question",
                "second question",
                "third question",
            ]
            assert all(row.endswith(" ago") for row in shown)  # when each was sent
            olist = app.screen.query_one(OptionList)
            assert olist.highlighted == 2  # the newest, at the bottom
            await pilot.press("escape")
            await wait_for(pilot, app, lambda: app.screen is app.main)
            assert not server.paths(f"/session/{SID}/fork")
            assert app.threads.current_id == SID


async def test_fork_opens_the_new_thread_with_the_picked_prompt_in_the_input() -> None:
    ids, lines = three_turns()
    async with scripted() as server:
        server.messages[FORKED] = question_messages(FORKED, "first question", "tok0 tok1 ")
        app = app_on(server, lines)
        async with app.run_test(size=SIZE) as pilot:
            app.main.prompt.load_text("a draft of the old thread")
            app.thread_ops.fork()  # the palette's (the prompt holds a draft)
            await wait_for(pilot, app, lambda: isinstance(app.screen, TimelineScreen))
            await pilot.press("up", "enter")  # the second prompt
            await wait_for(pilot, app, lambda: app.threads.current_id == FORKED)
            assert bodies(server, f"/session/{SID}/fork") == [{"messageID": ids[1]}]
            await wait_for(pilot, app, lambda: app.main.prompt.text == PROMPTS[1])
            # The turns before the picked one, as the server copied them.
            await wait_for(pilot, app, lambda: [v.prompt_text() for v in ui.turns_shown(app)] == [PROMPTS[0]])
            assert any("Forked into “Three questions (fork #1)”" in m for m in toasts(app))
            assert FORKED in app.main.sidebar.thread_ids
            # Nothing lost: the old thread keeps its draft.
            assert app.threads.drafts.get(SID) == "a draft of the old thread"


async def test_a_refused_fork_says_why_and_stays() -> None:
    _, lines = three_turns()
    async with scripted() as server:
        server.rest[f"/session/{SID}/fork"] = Reply(
            400, {"name": "BadRequest", "data": {"message": "no fork"}}
        )
        app = app_on(server, lines)
        async with app.run_test(size=SIZE) as pilot:
            app.thread_ops.fork()
            await wait_for(pilot, app, lambda: isinstance(app.screen, TimelineScreen))
            await pilot.press("enter")
            await wait_for(
                pilot, app, lambda: any("Could not fork the thread: no fork" in m for m in toasts(app))
            )
            assert app.threads.current_id == SID


async def test_a_thread_without_prompts_has_nothing_to_fork() -> None:
    async with scripted() as server:
        app = app_on(server, [session_updated(SID, title="Empty")])
        async with app.run_test(size=SIZE) as pilot:
            app.composer.submit("/fork")
            await wait_for(pilot, app, lambda: any("no prompt to fork from" in m for m in toasts(app)))
            assert not isinstance(app.screen, TimelineScreen)


# -- delete ----------------------------------------------------------------------------


def two_threads() -> list[dict[str, Any]]:
    _, lines = three_turns()
    *_, other = prompt_run(OTHER, "another thread", tokens=1)
    return [*lines, session_updated(OTHER, title="Another"), *other]


async def test_delete_asks_first_and_no_sends_nothing() -> None:
    async with scripted() as server:
        app = app_on(server, two_threads())
        async with app.run_test(size=SIZE) as pilot:
            sidebar = app.main.sidebar
            sidebar.focus()
            sidebar.highlighted = sidebar.get_option_index(SID)
            await pilot.press("ctrl+d")
            await wait_for(pilot, app, lambda: isinstance(app.screen, ConfirmScreen))
            assert "“Three questions”" in app.screen.question and "cannot be undone" in app.screen.question
            await pilot.press("n")
            await wait_for(pilot, app, lambda: app.screen is app.main)
            assert not deletes(server)
            assert SID in sidebar.thread_ids


async def test_delete_the_open_thread_opens_its_neighbour_and_the_event_removes_it() -> None:
    async with scripted() as server:
        app = app_on(server, two_threads())
        async with app.run_test(size=SIZE) as pilot:
            app.thread_ops.delete()  # the palette's: the open thread
            await wait_for(pilot, app, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_for(pilot, app, lambda: deletes(server) == [f"/session/{SID}"])
            await wait_for(pilot, app, lambda: app.threads.current_id == OTHER)
            assert any("Deleted: Three questions" in m for m in toasts(app))
            app.link.observe(deleted(SID))  # the server's event
            await wait_for(pilot, app, lambda: SID not in app.main.sidebar.thread_ids)
            assert app.threads.current_id == OTHER


async def test_a_thread_deleted_elsewhere_while_open_leaves_an_empty_view() -> None:
    async with scripted() as server:
        app = app_on(server, two_threads())
        async with app.run_test(size=SIZE) as pilot:
            # After the resync's listing (the last thing it asks for is the questions): a
            # listing answered before the delete but read after it would bring it back.
            await wait_for(pilot, app, lambda: server.paths("/question"))
            app.link.observe(deleted(SID))
            await wait_for(pilot, app, lambda: SID not in app.main.sidebar.thread_ids)
            await wait_for(pilot, app, lambda: app.threads.current_id is None)
            assert OTHER in app.main.sidebar.thread_ids
            app.link.observe(deleted(OTHER))
            await wait_for(pilot, app, lambda: not app.main.sidebar.thread_ids)


async def test_deleting_a_running_thread_says_so_and_interrupts_it_first() -> None:
    *_, running = prompt_run(SID, "still going", tokens=2, finish=False)
    async with scripted() as server:
        server.rest["/session/status"] = {SID: {"type": "busy"}}
        app = app_on(server, [session_updated(SID, title="Busy"), *running])
        async with app.run_test(size=SIZE) as pilot:
            app.thread_ops.delete()
            await wait_for(pilot, app, lambda: isinstance(app.screen, ConfirmScreen))
            assert "is running" in app.screen.question
            await pilot.press("y")
            await wait_for(pilot, app, lambda: deletes(server))
            aborted = server.paths(f"/session/{SID}/abort")
            assert aborted and aborted[0].time < next(r.time for r in server.requests if r.method == "DELETE")


async def test_a_refused_delete_says_why() -> None:
    async with scripted() as server:
        server.rest[f"/session/{SID}"] = Reply(
            500, {"name": "UnknownError", "data": {"message": "disk on fire"}}
        )
        app = app_on(server, two_threads())
        async with app.run_test(size=SIZE) as pilot:
            app.thread_ops.delete()
            await wait_for(pilot, app, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_for(pilot, app, lambda: any("Could not delete the thread" in m for m in toasts(app)))
            assert app.threads.current_id == SID and SID in app.main.sidebar.thread_ids


# -- compact ---------------------------------------------------------------------------


async def test_compact_sends_the_threads_model_and_says_when_done() -> None:
    _, lines = three_turns()
    async with scripted() as server:
        app = app_on(server, lines)
        async with app.run_test(size=SIZE) as pilot:
            app.composer.submit("/summarize")
            await wait_for(pilot, app, lambda: bodies(server, f"/session/{SID}/summarize"))
            assert bodies(server, f"/session/{SID}/summarize") == [{"providerID": "mock", "modelID": "fast"}]
            await wait_for(pilot, app, lambda: any(m.startswith("Compacted:") for m in toasts(app)))
            assert any("Compacting the thread with mock/fast" in m for m in toasts(app))


async def test_compact_waits_for_a_running_thread() -> None:
    *_, running = prompt_run(SID, "still going", tokens=2, finish=False)
    async with scripted() as server:
        server.rest["/session/status"] = {SID: {"type": "busy"}}
        app = app_on(server, [session_updated(SID, title="Busy"), *running])
        async with app.run_test(size=SIZE) as pilot:
            app.composer.submit("/compact")
            await wait_for(pilot, app, lambda: any("The thread is running" in m for m in toasts(app)))
            assert not server.paths(f"/session/{SID}/summarize")


async def test_a_compaction_streams_and_settles_as_a_marker_with_its_summary() -> None:
    _, lines = three_turns()
    app = ui.make_app(ui.make_store(lines))
    async with app.run_test(size=SIZE) as pilot:
        _, _, events = compaction_run(SID, finish=False)
        for line in events:
            app.link.observe(line)
        await wait_for(pilot, app, lambda: len(ui.turns_shown(app)) == 4)
        live = ui.last_turn(app)
        assert not live.compact  # a widget while it streams
        assert live.prompt_text() == "Compacted: the summary below stands for the earlier turns"
        await wait_for(pilot, app, lambda: "Both were answered." in live.shown_text())
        _, _, done = compaction_run(SID)
        for line in done[-4:]:  # the text in full, the finish, idle
            app.link.observe(line)
        await wait_for(pilot, app, lambda: ui.turns_shown(app)[3].prompt_text().startswith("Compacted"))
        assert "Compacted: the summary below" in app.export_screenshot().replace("&#160;", " ")


async def test_a_compaction_from_the_history_shows_the_marker_not_a_blank_prompt() -> None:
    data = [
        *question_messages(SID, "first question", "tok0 tok1 "),
        *compaction_messages(SID),
        *question_messages(SID, "after the summary", "tok0 "),
    ]
    store = ui.make_store([session_updated(SID, title="Compacted"), snapshot("messages", data, session=SID)])
    app = ui.make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, lambda: len(ui.turns_shown(app)) == 3)
        view = ui.turns_shown(app)[1]
        assert view.compact  # drawn by the history
        assert view.prompt_text() == "Compacted: the summary below stands for the earlier turns"
        drawn = view.rendered_text()
        assert "Compacted: the summary below stands for the earlier turns" in drawn
        assert "Both were answered." in drawn
        assert "█" not in drawn  # no prompt bar: nobody typed this


# -- snapshots -------------------------------------------------------------------------


def offline(lines: list[dict[str, Any]], lang: str) -> T3App:
    return ui.make_app(ui.make_store(lines), lang=lang)


def pressed(*keys: str, until: Callable[[T3App], bool]) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: T3App = pilot.app  # type: ignore[assignment]
        await pilot.pause(0.2)
        await pilot.press(*keys)
        await wait_for(pilot, app, lambda: until(app))
        await app.frames.frame()
        await pilot.pause(0.3)

    return run_before


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_timeline_picker(snap_compare: Callable[..., bool], lang: str) -> None:
    _, lines = three_turns()
    app = offline(lines, lang)
    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=pressed("f8", until=lambda a: isinstance(a.screen, TimelineScreen)),
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_snapshot_compacted_thread(snap_compare: Callable[..., bool], lang: str) -> None:
    data = [
        *question_messages(SID, "first question", "tok0 tok1 "),
        *compaction_messages(SID),
        *question_messages(SID, "after the summary", "tok0 "),
    ]
    app = offline(
        [session_updated(SID, title="Compacted", directory=DIR), snapshot("messages", data, session=SID)],
        lang,
    )
    assert snap_compare(
        app, terminal_size=SIZE, run_before=pressed(until=lambda a: len(ui.turns_shown(a)) == 3)
    )
