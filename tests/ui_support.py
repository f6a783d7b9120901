"""A test app with a pinned clock, no blinking cursor and a store built from events."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eventgen import (
    DIR,
    assistant_info,
    delta,
    idle,
    msg_updated,
    part_updated,
    permission_asked,
    prompt_run,
    question_asked,
    session_error,
    session_updated,
    status,
    stream,
    text_part,
    user_info,
)
from textual.app import App
from textual.notifications import Notification

from t3tui import observations
from t3tui.app.app import T3App
from t3tui.opencode.client import OpencodeClient
from t3tui.state.store import Store

NOW = 1795245230.0  # 12 s after the prompts of eventgen were sent
SID = "ses_e030be698ffekR7lV1Ew0yneZ6"
DEAD_URL = "http://127.0.0.1:9"


async def wait_for(pilot: Any, app: T3App, predicate: Callable[[], Any], timeout: float = 60.0) -> None:
    """Repaint from the store until ``predicate()`` holds: a condition, never a fixed sleep
    (30 s is for a loaded 2-core machine; a quiet one takes milliseconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        app.frames.request()
        await app.frames.frame()
        await pilot.pause(0.05)


def notifications(app: App[Any]) -> list[Notification]:
    """Every notification so far (run_test records them without showing them; Textual
    keeps them in App._notifications and has no public way to read them)."""
    return list(app._notifications)


def toasts(app: App[Any]) -> list[str]:
    """The text of every notification so far, expired ones too (tests/conftest.py keeps them)."""
    return list(app.__dict__.get("_every_toast", []))


def clock() -> float:
    return NOW


def turns_shown(app: T3App) -> list[Any]:
    """The open thread's turns as shown (history entries and live turn widgets)."""
    return app.main.thread_view.turn_views()


def last_turn(app: T3App) -> Any:
    shown = turns_shown(app)
    assert shown, "no turn is shown"
    return shown[-1]


def make_store(lines: list[dict[str, Any]]) -> Store:
    store = Store(clock=clock)
    store.apply_all([stream("open"), *lines])
    return store


def make_app(
    store: Store | None = None,
    *,
    lang: str = "en",
    state_dir: Path | None = None,
    url: str = DEAD_URL,
    connect: bool = False,
    thread: str | None = SID,
    **kw: Any,
) -> T3App:
    store = store if store is not None else make_store([])
    client = kw.pop("client", None) or OpencodeClient(url)
    return T3App(
        client,
        directory=DIR,
        store=store,
        clock=clock,
        lang=lang,
        state_dir=state_dir,
        connect=connect,
        cursor_blink=False,
        initial_thread=thread if store.threads.get(thread or "") else None,
        **kw,
    )


# -- states ------------------------------------------------------------------------------


def streaming() -> Store:
    user, asst, part, events = prompt_run(SID, "Explain the **settlement** rule", tokens=0, finish=False)
    chunks = [
        "The rule has ",
        "three parts:\n\n",
        "1. settle on idle\n",
        "2. interrupt is optimistic\n",
        "3. late truth",
    ]
    return make_store(
        [session_updated(SID, title="Settlement"), *events, *(delta(SID, asst, part, c) for c in chunks)]
    )


def reverted() -> Store:
    """Two turns, the second undone (``Session.revert``, as /undo or another client leaves it)."""
    _, _, _, one = prompt_run(SID, "Rename the helper", tokens=3)
    second, _, _, two = prompt_run(SID, "Now delete the old one", tokens=3)
    return make_store(
        [
            session_updated(SID, title="Undo"),
            *one,
            *two,
            session_updated(SID, title="Undo", revert=second),
        ]
    )


def interrupted() -> Store:
    user, asst, part, events = prompt_run(SID, "Count slowly", tokens=4, finish=False)
    store = make_store([session_updated(SID, title="Counting"), *events])
    store.apply(observations.interrupt(SID))
    store.apply_all(idle(SID))
    return store


def errored() -> Store:
    user, asst = "msg_1fcf5d327001fuBvyFDzCRNvhP", "msg_1fcf5d334001JLosyIqFhTibGH"
    api = {"name": "APIError", "data": {"message": "mock upstream exploded (scripted 400)"}}
    return make_store(
        [
            session_updated(SID, title="Bad request"),
            msg_updated(user_info(SID, user)),
            part_updated(text_part(SID, user, "prt_u1", "bad request")),
            status(SID, "busy"),
            msg_updated(assistant_info(SID, asst, user)),
            session_error(SID, "APIError", "mock upstream exploded (scripted 400)"),
            *idle(SID),
            msg_updated(assistant_info(SID, asst, user, completed=True, error=api)),
        ]
    )


def retrying() -> Store:
    _, _, _, events = prompt_run(SID, "fail for a while", tokens=0, finish=False)
    return make_store(
        [
            session_updated(SID, title="Flaky upstream"),
            *events,
            status(
                SID,
                "retry",
                attempt=3,
                message="mock upstream exploded (scripted 500)",
                next=(NOW + 7) * 1000,
            ),
        ]
    )


def permission() -> Store:
    _, _, _, events = prompt_run(SID, "read /etc/hostname", tokens=0, finish=False)
    return make_store([session_updated(SID, title="Reading"), *events, permission_asked(SID, "per_1")])


def question() -> Store:
    _, _, _, events = prompt_run(SID, "ask me something", tokens=0, finish=False)
    return make_store([session_updated(SID, title="Colours"), *events, question_asked(SID, "que_1")])


def reconnecting() -> Store:
    _, _, _, events = prompt_run(SID, "long answer", tokens=3, finish=False)
    return make_store(
        [session_updated(SID, title="Long answer"), *events, stream("closed", "server closed the stream")]
    )


def long_thread(turns: int = 300) -> Store:
    lines: list[dict[str, Any]] = [session_updated(SID, title="A long thread")]
    for i in range(turns):
        _, _, _, events = prompt_run(SID, f"question number {i}", tokens=3)
        lines += events
    return make_store(lines)


def hostile() -> Store:
    user, asst, part, events = prompt_run(SID, "[bold]not markup[/bold] \x1b[31mred?", tokens=0, finish=False)
    nasty = "Reply with [/bold] and [link=x]y[/link] and \x1b[2J\x1b[H escape codes.\n"
    return make_store(
        [session_updated(SID, title="[red]title[/red]"), *events, delta(SID, asst, part, nasty)]
    )


def terminal_writes(app: App[Any]) -> list[str]:
    """Everything the app writes to the terminal from now on (the driver's output)."""
    writes: list[str] = []
    driver = app._driver
    assert driver is not None
    write = driver.write

    def spy(data: str) -> None:
        writes.append(data)
        write(data)

    driver.write = spy  # type: ignore[method-assign]
    return writes


def osc52(writes: list[str]) -> list[str]:
    """The texts of the OSC 52 clipboard sequences written, decoded."""
    found = re.findall(r"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07", "".join(writes))
    return [base64.b64decode(payload).decode("utf-8") for payload in found]
