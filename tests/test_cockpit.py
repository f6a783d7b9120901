"""The cockpit (F9): every pending permission and question across threads, newest first,
answered with the thread's own panel and keys without leaving the thread on screen; a
key in the list never answers; an answer the server refuses keeps the request."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import ui_support as ui
from eventgen import permission_asked, prompt_run, question_asked, session_updated

from t3tui.app.app import T3App
from t3tui.app.commands import palette_commands
from t3tui.app.screens.cockpit import CockpitScreen
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeClient
from t3tui.state.store import Store

BG = "ses_1fd0000000aaBackgroundThread"
BG2 = "ses_1fd0000000bbAnotherBackgrnd"
OTHER = "/home/dev/other"


def rid(prefix: str, seconds_ago: float) -> str:
    """A request id in opencode's ascending format, asked ``seconds_ago`` before the tests' clock."""
    ms = int((ui.NOW - seconds_ago) * 1000)
    return f"{prefix}_{(ms * 0x1000 + 1) & 0xFFFFFFFFFFFF:012x}ejKoVupnvJip68"


PERM = rid("per", 90)
QUES = rid("que", 10)


def cockpit_store(*, requests: bool = True) -> Store:
    """The thread on screen (idle, nothing asked); a background thread asking a
    permission (90 s ago); one in another project asking a question (10 s ago)."""
    _, _, _, here = prompt_run(ui.SID, "on screen", tokens=2)
    _, _, _, there = prompt_run(BG, "read the hostname", tokens=0, finish=False)
    _, _, _, other = prompt_run(BG2, "ask me", tokens=0, finish=False, directory=OTHER)
    asked = [permission_asked(BG, PERM), question_asked(BG2, QUES, directory=OTHER)] if requests else []
    return ui.make_store(
        [
            session_updated(ui.SID, title="On screen"),
            *here,
            session_updated(BG, title="Background build"),
            *there,
            session_updated(BG2, title="Other project", directory=OTHER),
            *other,
            *asked,
        ]
    )


class Recorder:
    """A client whose server answers every request with ``status`` and records it."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.sent: list[tuple[str, str | None, Any]] = []
        self.client = OpencodeClient(ui.DEAD_URL, transport=httpx.MockTransport(self.answer))

    def answer(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"null")
        self.sent.append((request.url.path, request.url.params.get("directory"), body))
        if self.status != 200:
            return httpx.Response(self.status, json={"data": {"message": "scripted refusal"}})
        return httpx.Response(200, json=True)


def footer_text(app: T3App) -> str:
    return " ".join(str(k.description) for k in app.screen.query("FooterKey"))


def cockpit(app: T3App) -> CockpitScreen:
    screen = app.screen
    assert isinstance(screen, CockpitScreen), type(screen)
    return screen


def rows(app: T3App) -> list[str]:
    listing = cockpit(app).listing
    if not listing.display:
        return []
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def open_cockpit(pilot: Any, app: T3App) -> CockpitScreen:
    await ui.wait_for(pilot, app, lambda: "Requests" in footer_text(app))
    await pilot.press("f9")
    await ui.wait_for(pilot, app, lambda: isinstance(app.screen, CockpitScreen) and rows(app))
    return cockpit(app)


async def test_the_cockpit_lists_requests_across_threads_newest_first() -> None:
    app = ui.make_app(cockpit_store())
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_cockpit(pilot, app)
        assert rows(app) == [
            "? Other project  10s ago\n  /home/dev/other · Which colour?",
            "⚠ Background build  1m30s ago\n  /home/dev/project · external_directory: /etc/*",
        ]
        assert screen.listing.has_focus
        # The newest, highlighted, shows in the thread's own question panel.
        assert screen.question.display and not screen.permission.display
        assert screen.question.request is not None and screen.question.request.id == QUES
        await pilot.press("down")
        await ui.wait_for(pilot, app, lambda: screen.permission.display)
        assert screen.permission.request is not None and screen.permission.request.id == PERM
        assert "Permission needed: external_directory" in app.export_screenshot().replace("&#160;", " ")
        # The thread on screen did not change.
        assert app.threads.current_id == ui.SID


async def test_answers_go_to_each_threads_request_and_list_keys_never_answer() -> None:
    server = Recorder()
    app = ui.make_app(cockpit_store(), client=server.client)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_cockpit(pilot, app)
        await pilot.press("down")
        await ui.wait_for(pilot, app, lambda: screen.permission.display)
        # The panel's keys pressed in the list do nothing: the panel must have the focus.
        await pilot.press("o", "a", "r", "1")
        assert not app.requests.answered and screen.listing.has_focus
        await pilot.press("enter")
        await ui.wait_for(pilot, app, lambda: screen.permission.has_focus)
        assert "Allow once" in footer_text(app)
        await pilot.press("o")
        await ui.wait_for(pilot, app, lambda: server.sent)
        assert server.sent == [(f"/permission/{PERM}/reply", "/home/dev/project", {"reply": "once"})]
        # It leaves the list at once; the focus is back on the list, and a second "o"
        # (a double press) answers nothing else.
        await ui.wait_for(pilot, app, lambda: len(rows(app)) == 1 and screen.listing.has_focus)
        await pilot.press("o")
        assert app.requests.answered == {PERM}
        # The question, in the other project: its panel's keys as in the thread.
        await pilot.press("enter")
        await ui.wait_for(pilot, app, lambda: screen.question.has_focus_within)
        await pilot.press("down", "enter")
        await ui.wait_for(pilot, app, lambda: len(server.sent) == 2)
        assert server.sent[1] == (f"/question/{QUES}/reply", OTHER, {"answers": [["Blue"]]})
        await ui.wait_for(
            pilot, app, lambda: t("cockpit.empty") in app.export_screenshot().replace("&#160;", " ")
        )
        assert app.threads.current_id == ui.SID
        await pilot.press("escape")
        await ui.wait_for(pilot, app, lambda: not isinstance(app.screen, CockpitScreen))


async def test_an_answer_the_server_refuses_is_shown_and_the_request_stays() -> None:
    server = Recorder(status=500)
    app = ui.make_app(cockpit_store(), client=server.client)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_cockpit(pilot, app)
        await pilot.press("down", "enter")
        await ui.wait_for(pilot, app, lambda: screen.permission.has_focus)
        await pilot.press("a")
        await ui.wait_for(pilot, app, lambda: any("scripted refusal" in m for m in ui.toasts(app)))
        assert server.sent == [(f"/permission/{PERM}/reply", "/home/dev/project", {"reply": "always"})]
        await ui.wait_for(pilot, app, lambda: len(rows(app)) == 2)
        assert any("Background build" in row for row in rows(app))


async def test_f9_in_the_sidebar_opens_on_that_threads_request_to_reject_with_a_reason() -> None:
    server = Recorder()
    app = ui.make_app(cockpit_store(), client=server.client)
    async with app.run_test(size=(110, 32)) as pilot:
        await ui.wait_for(pilot, app, lambda: BG in app.main.sidebar.thread_ids)
        sidebar = app.main.sidebar
        sidebar.focus()
        sidebar.highlighted = sidebar.get_option_index(BG)
        await pilot.press("f9")
        await ui.wait_for(pilot, app, lambda: isinstance(app.screen, CockpitScreen))
        screen = cockpit(app)
        # Not the newest (the question): the request of the thread under the cursor, its
        # panel focused, so one more key answers it.
        await ui.wait_for(pilot, app, lambda: screen.permission.display and screen.permission.has_focus)
        assert screen.permission.request is not None and screen.permission.request.id == PERM
        await pilot.press("r")
        await pilot.press(*"not now", "enter")
        await ui.wait_for(pilot, app, lambda: server.sent)
        assert server.sent == [
            (f"/permission/{PERM}/reply", "/home/dev/project", {"reply": "reject", "message": "not now"})
        ]
        assert app.threads.current_id == ui.SID


async def test_f9_shows_while_something_waits_and_the_palette_opens_it_anyway() -> None:
    app = ui.make_app(cockpit_store(requests=False))
    async with app.run_test(size=(110, 32)) as pilot:
        await ui.wait_for(pilot, app, lambda: app.main.sidebar.thread_ids)
        await pilot.pause(0.1)
        assert "Requests" not in footer_text(app)
        await pilot.press("f9")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, CockpitScreen)
        # The palette's entry opens it even so, and it says nothing waits.
        [command] = [c for c in palette_commands(app) if c.title == t("cmd.cockpit")]
        command.callback()
        await ui.wait_for(pilot, app, lambda: isinstance(app.screen, CockpitScreen))
        screen = cockpit(app)
        await ui.wait_for(
            pilot, app, lambda: t("cockpit.empty") in app.export_screenshot().replace("&#160;", " ")
        )
        assert not screen.listing.display and not screen.permission.display
        # A request arrives while it is open: it is listed at once.
        app.link.observe(permission_asked(BG, PERM))
        await ui.wait_for(pilot, app, lambda: len(rows(app)) == 1)
        await pilot.press("escape")
        await ui.wait_for(pilot, app, lambda: not isinstance(app.screen, CockpitScreen))
        await ui.wait_for(pilot, app, lambda: "Requests" in footer_text(app))


async def test_a_new_request_keeps_the_row_being_answered() -> None:
    server = Recorder()
    app = ui.make_app(cockpit_store(), client=server.client)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_cockpit(pilot, app)
        await pilot.press("down", "enter")
        await ui.wait_for(pilot, app, lambda: screen.permission.has_focus)
        # A newer permission, from another thread, lands on top while the user reads
        # this one: the panel still shows (and "o" still answers) the one on screen.
        newer = rid("per", 1)
        app.link.observe(permission_asked(BG2, newer, directory=OTHER))
        await ui.wait_for(pilot, app, lambda: len(rows(app)) == 3)
        assert rows(app)[0].startswith("⚠ Other project")
        assert screen.permission.request is not None and screen.permission.request.id == PERM
        await pilot.press("o")
        await ui.wait_for(pilot, app, lambda: server.sent)
        assert server.sent == [(f"/permission/{PERM}/reply", "/home/dev/project", {"reply": "once"})]


async def test_esc_goes_from_the_panel_to_the_list_then_closes() -> None:
    app = ui.make_app(cockpit_store())
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_cockpit(pilot, app)
        await pilot.press("enter")
        await ui.wait_for(pilot, app, lambda: screen.question.has_focus_within)
        await pilot.press("escape")
        await ui.wait_for(pilot, app, lambda: screen.listing.has_focus)
        assert isinstance(app.screen, CockpitScreen)
        await pilot.press("escape")
        await ui.wait_for(pilot, app, lambda: not isinstance(app.screen, CockpitScreen))
        assert app.attention.cockpit is None


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_cockpit_speaks_the_users_language(lang: str) -> None:
    app = ui.make_app(cockpit_store(), lang=lang)
    async with app.run_test(size=(110, 32)) as pilot:
        await ui.wait_for(pilot, app, lambda: t("bind.cockpit") in footer_text(app))
        await pilot.press("f9")
        await ui.wait_for(pilot, app, lambda: isinstance(app.screen, CockpitScreen) and rows(app))
        shot = app.export_screenshot().replace("&#160;", " ")
        assert t("cockpit.title", count=2) in shot
        assert t("cockpit.ago", ago="10s") in rows(app)[0]
