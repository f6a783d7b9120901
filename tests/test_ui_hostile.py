"""The app under a hostile or broken server: what the user sees, and that nothing typed is lost.

Each test is one break from the adversarial review (issue 11): a reader that dies, bad
events, a prompt whose POST gets no answer (the server may still have taken it), a
malformed answer to ``POST /session``, drafts that cannot be saved, and text that
tries to reorder itself on screen.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import ui_support as ui
from eventgen import session_updated, user_info
from sse_server import Reply, Script, SSEServer
from textual.pilot import Pilot
from ui_support import toasts, wait_for

from t3tui.app.app import T3App
from t3tui.app.widgets.plain_text import PlainText
from t3tui.opencode.client import OpencodeClient
from t3tui.text import clean

SIZE = (110, 32)
SID = ui.SID


def status_line(app: T3App) -> str:
    return str(app.main.query_one("#status", PlainText).render())


def one_thread() -> Any:
    return ui.make_store([session_updated(SID, title="A thread")])


def app_on(server: SSEServer, store: Any = None, **kw: Any) -> T3App:
    client = OpencodeClient(server.url, timeout=kw.pop("timeout", 15.0))
    return ui.make_app(store if store is not None else one_thread(), connect=True, client=client, **kw)


async def type_and_send(pilot: Pilot, text: str) -> None:
    await pilot.press(*text)
    await pilot.press("enter")


# -- the reader ----------------------------------------------------------------------------


async def test_a_reader_that_dies_is_shown_and_restarted() -> None:
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        app = app_on(server)
        real_run = app.link.stream.run
        calls = 0

        async def dies_once() -> None:
            nonlocal calls
            calls += 1
            if calls == 1:
                await asyncio.sleep(0.2)
                raise RuntimeError("boom")
            await real_run()

        app.link.stream.run = dies_once  # type: ignore[method-assign]
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: any("event reader stopped" in m for m in toasts(app)))
            assert "RuntimeError: boom" in " ".join(toasts(app))
            await wait_for(pilot, app, lambda: calls == 2 and app.link.stream.state == "open")
            await wait_for(pilot, app, lambda: "● connected" in status_line(app))


async def test_reconnect_now_brings_back_a_dead_reader() -> None:
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        app = app_on(server)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: app.link.stream.state == "open")
            app.link.stream.stop()  # as if it had ended for good
            await wait_for(pilot, app, lambda: not app.link.reader_alive)
            app.link.stream._stopping = False
            app.connection.reconnect_now()
            await wait_for(pilot, app, lambda: app.link.reader_alive and app.link.stream.state == "open")
            assert app.link.stream.connections == 2


async def test_bad_events_are_counted_on_the_status_line() -> None:
    frames = ["data: {not json\n\n", "data: [1, 2]\n\n"]
    async with SSEServer(default=Script(events=frames, ending="heartbeat")) as server:
        app = app_on(server)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: app.link.stream.skipped == 2)
            await wait_for(pilot, app, lambda: "2 bad events skipped" in status_line(app))
            assert app.link.stream.state == "open"


# -- a prompt is never lost and never sent twice ---------------------------------------------


def prompts_sent(server: SSEServer) -> int:
    return len(server.paths(f"/session/{SID}/prompt_async"))


async def test_a_prompt_that_got_no_answer_but_was_taken_is_not_offered_again() -> None:
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        taken: dict[str, Any] = {}

        def lookup(req: Any) -> Any:
            mid = req.path.rsplit("/", 1)[1]
            if not taken.get("yes"):
                return Reply(500, {"name": "Frozen", "data": {"message": "still busy"}})
            return {"info": user_info(SID, mid), "parts": []}

        server.rest[f"/session/{SID}/prompt_async"] = Reply(204, delay=3.0)
        server.rest[f"/session/{SID}/message/*"] = lookup
        app = app_on(server, timeout=0.5)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: app.link.stream.state == "open")
            await type_and_send(pilot, "do it once")
            await wait_for(pilot, app, lambda: any("Checking whether it took" in m for m in toasts(app)))
            assert app.main.prompt.text == ""  # not "your text is back": it may have been taken
            assert not any("was not sent" in m for m in toasts(app))
            turn = ui.last_turn(app)
            assert turn.turn.state == "running"
            await wait_for(pilot, app, lambda: ui.last_turn(app).state_text() == "sending…")
            await pilot.press("enter")  # nothing to send twice
            taken["yes"] = True
            await wait_for(pilot, app, lambda: any("did take the prompt" in m for m in toasts(app)))
            assert prompts_sent(server) == 1
            th = app.link.store.threads[SID]
            assert [t.prompt for t in th.sorted_turns()] == ["do it once"]
            assert th.sorted_turns()[0].state != "error"


async def test_a_prompt_the_server_does_not_have_is_given_back() -> None:
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        server.rest[f"/session/{SID}/prompt_async"] = Reply(204, delay=3.0)
        server.rest[f"/session/{SID}/message/*"] = Reply(404, {"name": "NotFound"})
        app = app_on(server, timeout=0.5)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: app.link.stream.state == "open")
            await type_and_send(pilot, "try me")
            await wait_for(pilot, app, lambda: any("was not sent" in m for m in toasts(app)))
            assert app.main.prompt.text == "try me"
            assert any("back in the input" in m for m in toasts(app))
            assert app.link.store.threads[SID].sorted_turns()[-1].state == "error"
            assert prompts_sent(server) == 1


async def test_a_draft_typed_meanwhile_is_never_overwritten() -> None:
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        gate = asyncio.Event()

        def lookup(req: Any) -> Any:
            return Reply(404, {"name": "NotFound"}) if gate.is_set() else Reply(500, {"name": "Frozen"})

        server.rest[f"/session/{SID}/prompt_async"] = Reply(204, delay=3.0)
        server.rest[f"/session/{SID}/message/*"] = lookup
        app = app_on(server, timeout=0.5)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: app.link.stream.state == "open")
            await type_and_send(pilot, "first")
            await wait_for(pilot, app, lambda: any("Checking whether" in m for m in toasts(app)))
            await pilot.press(*"second draft")
            gate.set()
            await wait_for(pilot, app, lambda: any("was not sent" in m for m in toasts(app)))
            assert app.main.prompt.text == "second draft"
            sent_toast = next(m for m in toasts(app) if "was not sent" in m)
            assert "back in the input" not in sent_toast and "history" in sent_toast
            assert app.threads.drafts.prompt_history[-1] == "first"


async def test_a_refused_connection_is_not_sent_and_gives_the_text_back() -> None:
    app = ui.make_app(one_thread(), connect=False, thread=SID)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello")
        await wait_for(pilot, app, lambda: any("was not sent" in m for m in toasts(app)))
        assert app.main.prompt.text == "hello"
        assert not any("Checking" in m for m in toasts(app))


async def test_a_malformed_session_answer_keeps_the_prompt() -> None:
    async with SSEServer(default=Script(ending="heartbeat")) as server:
        server.rest["/session"] = []  # POST /session answers [] instead of a session
        app = app_on(server, ui.make_store([]), thread=None)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, app, lambda: app.link.stream.state == "open")
            await type_and_send(pilot, "new thread please")
            await wait_for(pilot, app, lambda: any("was not sent" in m for m in toasts(app)))
            message = next(m for m in toasts(app) if "was not sent" in m)
            assert "cannot use" in message
            assert app.main.prompt.text == "new thread please"


# -- drafts --------------------------------------------------------------------------------


async def test_drafts_that_cannot_be_saved_are_kept_and_said_once(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    store = ui.make_store([session_updated(SID, title="One"), session_updated("ses_other", title="Two")])
    app = ui.make_app(store, state_dir=blocker / "state", thread=SID)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"unsaved words")
        await app.threads.open("ses_other")
        await app.threads.open(SID)
        await app.threads.open("ses_other")
        await wait_for(pilot, app, lambda: any("Drafts cannot be saved" in m for m in toasts(app)))
        await pilot.pause(0.1)
        assert len([m for m in toasts(app) if "Drafts cannot be saved" in m]) == 1
        await app.threads.open(SID)
        assert app.main.prompt.text == "unsaved words"


# -- text that reorders or hides itself ---------------------------------------------------------


def test_bidi_controls_and_invisible_characters_are_shown() -> None:
    spoof = "invoice\u202etxt.exe"
    assert clean(spoof) == "invoice<U+202E>txt.exe"
    assert clean("a\u200bb\u2066c\u2069\ufeff") == "a<U+200B>b<U+2066>c<U+2069><U+FEFF>"
    assert clean("\ud800x") == "\ufffdx"
    family = "\U0001f468\u200d\U0001f469"  # the joiner that emoji need stays
    assert clean(family) == family


async def test_sidebar_shows_spoofing_titles_literally_and_keeps_its_border() -> None:
    store = ui.make_store(
        [
            session_updated(SID, title="plain title"),
            session_updated("ses_rlo", title="report\u202efdp.exe"),
            session_updated("ses_sur", title="lone \ud800 surrogate"),
        ]
    )
    app = ui.make_app(store, thread=SID)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, lambda: len(app.main.sidebar.thread_ids) == 3)
        shown = "\n".join(
            str(app.main.sidebar.get_option_at_index(i).prompt) for i in range(app.main.sidebar.option_count)
        )
        assert "report<U+202E>fdp.exe" in shown
        assert "\u202e" not in shown and "\ud800" not in shown
        assert "lone \ufffd surrogate" in shown  # one cell wide, like any replaced character
        assert "\u202e" not in app.export_screenshot()


async def test_a_secret_echoed_in_an_error_is_never_shown() -> None:
    """A server (or proxy) that echoes the password in an error text: the toast hides it."""
    from t3tui import logs

    logs.add_secret("hunter2-the-password")
    app = ui.make_app(one_thread(), connect=False, thread=SID)
    async with app.run_test(size=SIZE) as pilot:
        app.toast("401: bad credentials hunter2-the-password for opencode")
        await wait_for(pilot, app, lambda: any("bad credentials" in m for m in toasts(app)))
        shown = next(m for m in toasts(app) if "bad credentials" in m)
        assert "hunter2" not in shown and "***" in shown
