"""Nothing in the app assumes one server: a second one's threads are listed, opened and
interrupted through its own client (a later issue shows several servers in one window)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import ui_support as ui
from eventgen import prompt_run, session_updated
from ui_support import wait_for

from t3tui.opencode.client import OpencodeClient

SIZE = (110, 32)
OTHER = "ses_e030be698ffekR7lV1Ew0yneZ8"
ELSEWHERE = "/srv/other-project"


def recording(asked: list[tuple[str, str]]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        asked.append((request.method, request.url.path))
        return httpx.Response(500, json={"data": {"message": "scripted"}})

    return answer


async def test_a_second_server_is_followed_through_its_own_client() -> None:
    first_asked: list[tuple[str, str]] = []
    second_asked: list[tuple[str, str]] = []
    first = OpencodeClient(ui.DEAD_URL, transport=httpx.MockTransport(recording(first_asked)))
    app = ui.make_app(ui.interrupted(), client=first)
    _, _, _, events = prompt_run(OTHER, "elsewhere", tokens=0, directory=ELSEWHERE, finish=False)
    other_store = ui.make_store([session_updated(OTHER, directory=ELSEWHERE, title="Far away"), *events])
    second = OpencodeClient("http://127.0.0.1:10", transport=httpx.MockTransport(recording(second_asked)))
    link = app.add_server(second, directory=ELSEWHERE, store=other_store, connect=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app, lambda: set(app.main.sidebar.thread_ids) == {ui.SID, OTHER})
        assert app.link_of(OTHER) is link and app.link_of(ui.SID) is app.link
        await app.threads.open(OTHER)
        assert app.threads.link is link
        await wait_for(pilot, app, lambda: ("GET", f"/session/{OTHER}/message") in second_asked)
        await wait_for(pilot, app, lambda: ui.last_turn(app).prompt_text() == "elsewhere")
        app.interrupt.interrupt(OTHER)
        await app.workers.wait_for_complete()
        assert ("POST", f"/session/{OTHER}/abort") in second_asked
        assert first_asked == []
