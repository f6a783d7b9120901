"""Pilot tests of the app's real flows against a live opencode server and the mock model.

Each test drives the app the way a user does (keys into the prompt and panels) and checks
what the user would see: the turn views, the footer, the status line, the banner, toasts.
The app sends prompts without a model, so the mock's mode is forced per request with
``mock_model.set_mode(mode, count=N)`` (title requests never consume it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Markdown

from t3tui.app.app import T3App
from t3tui.app.controllers import interrupt as interrupt_module
from t3tui.app.widgets.live_turn import ToolView, TurnView
from t3tui.app.widgets.plain_text import PlainText
from t3tui.app.widgets.request_panels import PermissionPanel, QuestionPanel
from t3tui.eventlog import thread_dump
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeClient, OpencodeError
from t3tui.state.store import Turn

from . import mockmodel as mm
from .mockmodel import MockModel
from .opencode_server import OpencodeServer

SIZE = (120, 36)
TIMEOUT = 60.0
RUNNING = ("sending…", "Working")  # a turn's state line while it runs (en)


@pytest.fixture(autouse=True)
def _roomy_interrupt_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Esc, Esc interrupts within 60 s here, not 2: on a loaded machine the test's own
    steps between the two presses can take longer than 2 s, and these tests are about
    what the interrupt does, not how long the window is."""
    monkeypatch.setattr(interrupt_module, "INTERRUPT_WINDOW", 60.0)


# -- helpers ---------------------------------------------------------------------------


def describe(app: T3App) -> str:
    stream = app.link.stream
    lines = [f"stream={stream.state} connections={stream.connections} current={app.threads.current_id}"]
    for th in app.link.store.threads.values():
        lines.append(f"  {th.id} dir={th.directory} status={th.status}")
        for turn in th.sorted_turns():
            lines.append(f"    {turn.id} {turn.state} prompt={turn.prompt!r} text={turn.text[:60]!r}")
    return "\n".join(lines)


def progress_of(app: T3App) -> list[tuple[str, str, int]]:
    """What a run has done so far: each turn's state and text length."""
    return [
        (turn.id, turn.state, len(turn.text))
        for th in app.link.store.threads.values()
        for turn in th.sorted_turns()
    ]


async def wait_for(
    pilot: Pilot[Any],
    predicate: Callable[[], Any],
    timeout: float = TIMEOUT,
    what: str | Callable[[], str] = "",
    progress: Callable[[], Any] | None = None,
) -> Any:
    """Repaint and poll until ``predicate`` holds; fail with the app's state after ``timeout``.

    With ``progress``, ``timeout`` counts from the last time its value changed: a run
    that keeps streaming on a starved machine is waited for, one that stopped is not.
    """
    app: T3App = pilot.app  # type: ignore[assignment]
    deadline = time.monotonic() + timeout
    seen = progress() if progress is not None else None
    while True:
        await app.frames.frame()
        await pilot.pause(0.05)
        value = predicate()
        if value:
            return value
        if progress is not None and (now := progress()) != seen:
            seen = now
            deadline = time.monotonic() + timeout
        if time.monotonic() >= deadline:
            label = what() if callable(what) else what
            raise AssertionError(
                f"no progress for {timeout:g}s waiting for {label or predicate}\n{describe(app)}"
                if progress is not None
                else f"timed out after {timeout:g}s waiting for {label or predicate}\n{describe(app)}"
            )


async def one_frame(pilot: Pilot[Any]) -> None:
    app: T3App = pilot.app  # type: ignore[assignment]
    await pilot.pause()
    await app.frames.frame()
    await pilot.pause()


def footer_text(app: T3App) -> str:
    return " ".join(str(k.description) for k in app.screen.query("FooterKey"))


def status_text(app: T3App) -> str:
    return str(app.query_one("#status", PlainText).render())


def banner_text(app: T3App) -> str:
    banner = app.query_one("#banner", PlainText)
    return str(banner.render()) if banner.display else ""


def on_screen(app: T3App, *words: str) -> bool:
    screen = app.export_screenshot().replace("&#160;", " ")
    return all(w in screen for w in words)


def toasts(app: T3App) -> list[str]:
    """Every notification so far, expired ones too (tests/conftest.py keeps them)."""
    return list(app.__dict__.get("_every_toast", []))


def turn_views(app: T3App) -> list[Any]:
    """The open thread's turns as shown: history entries, then live turn widgets."""
    return app.main.thread_view.turn_views()


def state_text(view: Any) -> str:
    return view.state_text()


def prompt_shown(view: Any) -> str:
    return view.prompt_text()


def shown_markdown(view: Any) -> str:
    """The assistant text the turn shows: its Markdown widgets' sources, in order, or
    (for a turn in the history) its text, checked against the lines drawn for it."""
    if view.compact:
        text = view.shown_text()
        assert " ".join(text.split()) in view.rendered_text(), view.rendered_text()
        return text
    return "".join(md.source for md in view.query(Markdown))


def last_turn(app: T3App) -> Turn:
    th = app.threads.current
    assert th is not None and th.order, describe(app)
    return th.turns[th.order[-1]]


def last_view(app: T3App) -> Any:
    views = turn_views(app)
    return views[-1] if views else None


def ended_with(app: T3App, prefix: str) -> bool:
    view = last_view(app)
    return view is not None and state_text(view).startswith(prefix)


@contextlib.asynccontextmanager
async def live_app(
    server: OpencodeServer,
    tmp_path: Path,
    *,
    lang: str = "en",
    watchdog: float = 25.0,
    url: str | None = None,
    prepare: Callable[[Path], None] | None = None,
    **app_kwargs: Any,
) -> AsyncIterator[tuple[T3App, Pilot[Any]]]:
    """The app on a project directory of its own (so it starts empty), connected for real.

    ``url`` points the app somewhere else than ``server.url`` (a proxy in front of it);
    ``app_kwargs`` go to ``T3App`` (``capture=``…); ``prepare(project)`` runs before the
    app starts (files made later may miss the server's file index for a while)."""
    project = server.project_dir(f"app-{uuid.uuid4().hex[:8]}")
    if prepare is not None:
        prepare(project)
    client = OpencodeClient(url or server.url, password=server.password)
    app = T3App(
        client,
        directory=str(project),
        state_dir=tmp_path / "state",
        lang=lang,
        cursor_blink=False,
        watchdog=watchdog,
        **app_kwargs,
    )
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.link.stream.state == "open", what="the event stream to open")
            await wait_for(pilot, lambda: t("status.connected") in status_text(app), what="status connected")
            try:
                yield app, pilot
            finally:
                # Leave no run going on the shared server.
                for th in list(app.link.store.threads.values()):
                    if th.active:
                        with contextlib.suppress(OpencodeError):
                            await client.abort(th.id, th.directory)
    finally:
        t.set_language("en")
        await client.aclose()


async def send(pilot: Pilot[Any], text: str) -> None:
    app: T3App = pilot.app  # type: ignore[assignment]
    app.main.prompt.focus()
    await pilot.press(*text)
    assert app.main.prompt.text == text
    await pilot.press("enter")


async def send_and_finish(pilot: Pilot[Any], text: str, timeout: float = TIMEOUT) -> TurnView:
    app: T3App = pilot.app  # type: ignore[assignment]
    before = len(app.threads.current.order) if app.threads.current else 0
    await send(pilot, text)
    await wait_for(
        pilot,
        lambda: (
            app.threads.current is not None
            and len(app.threads.current.order) > before
            and last_turn(app).state == "completed"
            and ended_with(app, "Worked")
        ),
        timeout,
        f"{text!r} to complete",
        progress=lambda: progress_of(app),
    )
    view = last_view(app)
    assert view is not None
    return view


# -- 1. send ---------------------------------------------------------------------------


async def test_send_shows_turn_at_once_then_streams_reply(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        observed = spy_on_store(app)
        assert not on_screen(app, "Working")
        # The reply waits after its first word until the test has seen the run: a reply of
        # a few seconds could end, on a loaded machine, before the test looked at it.
        mock_model.hold("reply")
        mock_model.set_mode("fast", count=1, interval=0.2, hold="reply")
        await send(pilot, "hello there")
        assert app.main.prompt.text == ""
        view = await wait_for(pilot, lambda: last_view(app), what="the first turn view")
        # The first frame that shows the turn shows the prompt, and that it is running.
        assert prompt_shown(view) == "hello there"
        assert last_turn(app).state == "running"
        # Running: "sending…" until the server shows the prompt, then "Working".
        await wait_for(pilot, lambda: state_text(view).startswith(RUNNING), what="a running state line")
        # It came from the app's own action, before the server said a word about it.
        assert first_mention(observed, last_turn(app).id).get("action", {}).get("kind") == "prompt"
        # The thread is in the sidebar, opened.
        sid = app.threads.current_id
        assert sid is not None and sid.startswith("ses_")
        await wait_for(pilot, lambda: sid in app.main.sidebar.thread_ids, what="the thread in the sidebar")
        # While it runs the footer offers Interrupt; once it ends, no longer.
        await wait_for(pilot, lambda: "Interrupt" in footer_text(app), what="Interrupt in the footer")
        mock_model.release("reply")
        # The reply streams in and the turn ends.
        await wait_for(pilot, lambda: ended_with(app, "Worked"), what="Worked")
        assert last_turn(app).state == "completed"
        await wait_for(
            pilot, lambda: "Interrupt" not in footer_text(app), what="Interrupt gone from the footer"
        )
        assert shown_markdown(view).strip() == mm.FAST_TEXT.strip()
        await wait_for(
            pilot,
            lambda: on_screen(app, "hello", "tok0", "tok9", "Worked"),
            what="the reply on screen",
        )
        assert app.threads.current is not None and app.threads.current.status == "ready"

        # A second prompt in the open thread shows on the very next frame (its reply held
        # until the test has read the running line).
        mock_model.hold("again")
        mock_model.set_mode("fast", count=1, interval=0.2, hold="again")
        await send(pilot, "and again")
        await one_frame(pilot)
        views = turn_views(app)
        assert len(views) == 2
        assert prompt_shown(views[-1]) == "and again"
        await wait_for(pilot, lambda: state_text(views[-1]).startswith(RUNNING), what="a running state line")
        assert first_mention(observed, views[-1].turn.id).get("action", {}).get("kind") == "prompt"
        mock_model.release("again")
        await wait_for(pilot, lambda: ended_with(app, "Worked"), what="second turn Worked")
        assert shown_markdown(turn_views(app)[-1]).strip() == mm.FAST_TEXT.strip()
        assert [tv.turn.state for tv in turn_views(app)] == ["completed", "completed"]
        assert not [m for m in toasts(app) if "not sent" in m]


def spy_on_store(app: T3App) -> list[dict[str, Any]]:
    """Record every observation the store gets (events, snapshots and the app's actions)."""
    observed: list[dict[str, Any]] = []
    apply = app.link.store.apply

    def recording(obs: Any) -> None:
        observed.append(obs)
        apply(obs)

    app.link.store.apply = recording  # type: ignore[method-assign]
    return observed


def first_mention(observed: list[dict[str, Any]], message_id: str) -> dict[str, Any]:
    return next((o for o in observed if message_id in json.dumps(o)), {})


# -- 2. a 2,000-token burst -------------------------------------------------------------


async def test_burst_of_2000_tokens_arrives_whole_and_in_order(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        mock_model.set_mode("bench", count=1)
        view = await send_and_finish(pilot, "burst", timeout=60)
        turn = last_turn(app)
        assert turn.text == mm.BENCH_TEXT
        shown = shown_markdown(view).strip()
        assert shown == mm.BENCH_TEXT.strip(), (len(shown), shown[:80], shown[-80:])
        assert len(view.query(Markdown)) == 1


# -- 3. interrupt -----------------------------------------------------------------------


async def test_double_escape_interrupts_and_keeps_streamed_text(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        mock_model.set_mode("slow", count=1, interval=0.1)
        await send(pilot, "count slowly")
        view = await wait_for(pilot, lambda: (v := last_view(app)) and "tok3 " in shown_markdown(v) and v)
        assert "Interrupt" in footer_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: "Esc again to interrupt" in footer_text(app), what="the armed footer")
        assert t("hint.esc_again") in str(app.query_one("#hint", PlainText).render())
        assert last_turn(app).state == "running"
        assert state_text(view).startswith("Working")

        await pilot.press("escape")
        await one_frame(pilot)
        assert state_text(view) == "Interrupted · you interrupted it"
        assert last_turn(app).state == "interrupted"
        kept = shown_markdown(view)
        assert kept.startswith("tok0 tok1 tok2 tok3")

        # The server confirms: the model stream is cut, the session goes idle.
        await asyncio.to_thread(
            mock_model.wait_for_request, lambda e: e["mode"] == "slow" and e["disconnected"], 10
        )
        await wait_for(
            pilot,
            lambda: app.threads.current is not None and app.threads.current.status == "ready",
            what="the thread ready",
        )
        await wait_for(
            pilot, lambda: "Esc again" not in footer_text(app) and "Interrupt" not in footer_text(app)
        )
        # The server's MessageAbortedError that follows does not make it someone else's.
        assert state_text(view) == "Interrupted · you interrupted it"
        assert last_turn(app).state == "interrupted"
        assert shown_markdown(view).startswith(kept.strip())
        assert not [m for m in toasts(app) if "Could not interrupt" in m]


# -- 4. permission ----------------------------------------------------------------------


async def test_permission_panel_allow_once_completes_the_turn(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        mock_model.set_mode("toolread", count=2)
        await send(pilot, "read the hostname")
        panel = app.query_one(PermissionPanel)
        await wait_for(pilot, lambda: panel.display and panel.has_focus, what="the permission panel, focused")
        assert "external_directory" in str(panel.query_one(".panel-title", PlainText).render())
        await wait_for(pilot, lambda: "Allow once" in footer_text(app), what="permission keys in the footer")
        await pilot.press("o")
        await wait_for(pilot, lambda: not panel.display, what="the panel to close")
        await wait_for(pilot, lambda: ended_with(app, "Worked"), what="Worked")
        view = last_view(app)
        assert view is not None
        assert mm.TOOL_DONE_TEXT in shown_markdown(view)
        tools = [str(tv.render()) for tv in view.query(ToolView)]
        assert any("read" in x for x in tools), tools
        assert app.main.prompt.has_focus
        th = app.threads.current
        assert th is not None and not th.permissions and th.status == "ready"


# -- 5. question ------------------------------------------------------------------------


async def test_question_panel_answer_by_keyboard_completes_the_turn(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        mock_model.clear_requests()
        mock_model.set_mode("question", count=2)
        await send(pilot, "ask me")
        panel = app.query_one(QuestionPanel)
        await wait_for(
            pilot, lambda: panel.display and panel.has_focus_within, what="the question panel, focused"
        )
        assert "Which colour?" in str(panel.query_one(".panel-body", PlainText).render())
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: not panel.display, what="the panel to close")
        await wait_for(pilot, lambda: ended_with(app, "Worked"), what="Worked")
        view = last_view(app)
        assert view is not None and mm.TOOL_DONE_TEXT in shown_markdown(view)
        # The model saw the answer the user picked.
        second = [e for e in mock_model.requests if e["mode"] == "question" and not e.get("tool_call")]
        assert second and "Blue" in str([m for m in second[-1]["messages"] if m.get("role") == "tool"])
        assert app.main.prompt.has_focus


# -- 6. switching threads ------------------------------------------------------------------


async def test_switch_threads_shows_their_turns_and_keeps_drafts(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        await send_and_finish(pilot, "first thread")
        first = app.threads.current_id
        await pilot.press("ctrl+n")
        await wait_for(
            pilot, lambda: app.threads.current_id is None and not turn_views(app), what="a new empty thread"
        )
        await send_and_finish(pilot, "second thread")
        second = app.threads.current_id
        assert first and second and first != second
        await wait_for(
            pilot, lambda: {first, second} <= set(app.main.sidebar.thread_ids), what="both in the sidebar"
        )

        await pilot.press(*"draft for two")
        await pilot.press("alt+down")
        await wait_for(pilot, lambda: app.threads.current_id == first, what="switch to the first thread")
        await wait_for(pilot, lambda: [prompt_shown(v) for v in turn_views(app)] == ["first thread"])
        assert shown_markdown(turn_views(app)[0]).strip() == mm.FAST_TEXT.strip()
        assert app.main.prompt.text == ""
        await pilot.press(*"draft for one")

        # Back up to the newer one (the sidebar lists other projects' threads after these).
        await pilot.press("alt+up")
        await wait_for(pilot, lambda: app.threads.current_id == second, what="switch back")
        await wait_for(pilot, lambda: [prompt_shown(v) for v in turn_views(app)] == ["second thread"])
        assert app.main.prompt.text == "draft for two"

        await pilot.press("alt+down")
        await wait_for(pilot, lambda: app.threads.current_id == first)
        assert app.main.prompt.text == "draft for one"
        assert [prompt_shown(v) for v in turn_views(app)] == ["first thread"]


# -- 7. reconnect -------------------------------------------------------------------------


async def test_server_killed_and_restarted_banner_and_settlement(
    fresh_opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    server = fresh_opencode
    async with live_app(server, tmp_path) as (app, pilot):
        app.link.stream.backoff_max = 1.0  # keep the test short; the backoff itself is tested elsewhere
        mock_model.set_mode("slow", count=1, interval=0.1)
        await send(pilot, "long answer")
        view = await wait_for(pilot, lambda: (v := last_view(app)) and "tok3 " in shown_markdown(v) and v)
        assert banner_text(app) == ""

        await asyncio.to_thread(server.kill)
        await wait_for(pilot, lambda: "Connection lost; reconnecting" in banner_text(app), what="the banner")
        assert "state may be stale" in banner_text(app)
        await wait_for(pilot, lambda: "reconnecting" in status_text(app), what="status reconnecting")
        # Nothing is settled without evidence: the turn still looks like it runs.
        assert last_turn(app).state == "running"
        streamed = shown_markdown(view)
        assert streamed.startswith("tok0 tok1 tok2 tok3")

        await asyncio.to_thread(server.restart)
        await wait_for(pilot, lambda: banner_text(app) == "", timeout=30, what="the banner to go")
        await wait_for(pilot, lambda: t("status.connected") in status_text(app), what="status connected")
        await wait_for(
            pilot,
            lambda: (
                state_text(view) == "Interrupted · the server restarted or the connection was lost mid-run"
            ),
            what="the killed turn interrupted, settled by the resync",
        )
        assert last_turn(app).state == "interrupted"
        assert shown_markdown(view).startswith(streamed.strip())
        assert last_turn(app).text.startswith(streamed.strip())
        assert app.threads.current is not None and app.threads.current.status == "ready"


# -- 8. Chinese ---------------------------------------------------------------------------


async def test_send_in_chinese(opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path) -> None:
    async with live_app(opencode, tmp_path, lang="zh") as (app, pilot):
        assert "已连接" in status_text(app)
        await wait_for(pilot, lambda: "新建会话" in footer_text(app), what="zh footer")
        assert "New thread" not in footer_text(app)
        mock_model.set_mode("slow", count=1, interval=0.1)
        await send(pilot, "你好")
        view = await wait_for(pilot, lambda: (v := last_view(app)) and "tok1 " in shown_markdown(v) and v)
        assert prompt_shown(view) == "你好"
        assert state_text(view).startswith("运行中")
        await wait_for(pilot, lambda: "中断" in footer_text(app), what="zh interrupt key")
        await pilot.press("escape")
        await wait_for(pilot, lambda: "再按 Esc 中断" in footer_text(app), what="zh armed footer")
        assert "2 秒内再按一次 Esc" in str(app.query_one("#hint", PlainText).render())
        await pilot.press("escape")
        await one_frame(pilot)
        assert state_text(view) == "已中断 · 你中断了它"
        await wait_for(
            pilot, lambda: app.threads.current is not None and app.threads.current.status == "ready"
        )

        view = await send_and_finish_zh(pilot, "再来一次")
        assert shown_markdown(view).strip() == mm.FAST_TEXT.strip()
        assert on_screen(app, "用时")


async def send_and_finish_zh(pilot: Pilot[Any], text: str) -> TurnView:
    app: T3App = pilot.app  # type: ignore[assignment]
    await send(pilot, text)
    await wait_for(pilot, lambda: len(turn_views(app)) == 2 and ended_with(app, "用时"), what="zh Worked")
    view = last_view(app)
    assert view is not None and prompt_shown(view) == text
    return view


# -- 9. how turns end and look (issue 12) ---------------------------------------------------


@contextlib.asynccontextmanager
async def another_client(server: OpencodeServer, app: T3App) -> AsyncIterator[httpx.AsyncClient]:
    """A second client of the same server (opencode's own TUI, say), on the app's project."""
    async with httpx.AsyncClient(
        base_url=server.url, params={"directory": app.link.directory}, auth=server.auth, timeout=30
    ) as http:
        yield http


def badge_shown(app: T3App) -> bool:
    return on_screen(app, t("badge.error"))


async def test_a_shell_command_from_another_client_shows_as_a_command(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        await send_and_finish(pilot, "hello")
        sid = app.threads.current_id
        command = "printf 'shell-%s' output"
        async with another_client(opencode, app) as http:
            # opencode's `!printf ...`
            r = await http.post(f"/session/{sid}/shell", json={"command": command, "agent": "build"})
            assert r.status_code == 200, r.text
        await wait_for(
            pilot,
            lambda: (
                len(turn_views(app)) == 2
                and prompt_shown(turn_views(app)[-1]) == f"$ {command}"
                and ended_with(app, "Worked")
            ),
            what="the shell command shown as a command, completed",
        )
        turn = last_turn(app)
        assert (turn.state, turn.settled_by) == ("completed", "server")
        await wait_for(pilot, lambda: on_screen(app, "shell-output", "bash"), what="its output on screen")
        assert not on_screen(app, "The following tool")
        assert app.threads.current is not None and app.threads.current.status == "ready"


async def test_a_run_aborted_from_another_client_says_so(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        mock_model.set_mode("slow", count=1, interval=0.1)
        await send(pilot, "count slowly")
        view = await wait_for(pilot, lambda: (v := last_view(app)) and "tok2 " in shown_markdown(v) and v)
        async with another_client(opencode, app) as http:
            assert (await http.post(f"/session/{app.threads.current_id}/abort")).json() is True
        said = "Interrupted · aborted from another client"
        await wait_for(pilot, lambda: state_text(view) == said, what="the abort, said")
        # The aborted message that follows changes nothing.
        await wait_for(pilot, lambda: last_turn(app).has_evidence(), what="the aborted message")
        await one_frame(pilot)
        assert state_text(view) == said
        assert last_turn(app).settled_by == "aborted"


async def test_a_run_closed_by_an_instance_dispose_says_so(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        mock_model.set_mode("slow", count=1, interval=0.1)
        await send(pilot, "count slowly")
        view = await wait_for(pilot, lambda: (v := last_view(app)) and "tok2 " in shown_markdown(v) and v)
        async with another_client(opencode, app) as http:
            assert (await http.post("/instance/dispose")).json() is True
        await wait_for(
            pilot,
            lambda: state_text(view) == "Interrupted · an instance dispose closed it",
            what="the dispose, said",
        )
        assert last_turn(app).settled_by == "disposed"
        await wait_for(
            pilot, lambda: app.threads.current is not None and app.threads.current.status == "ready"
        )


async def test_undo_and_redo_from_another_client(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        await send_and_finish(pilot, "first")
        await send_and_finish(pilot, "second")
        sid = app.threads.current_id
        first, second = turn_views(app)
        reverted = " · " + t("turn.reverted")
        async with another_client(opencode, app) as http:
            r = await http.post(f"/session/{sid}/revert", json={"messageID": second.turn.id})
            assert r.status_code == 200, r.text
            await wait_for(
                pilot, lambda: state_text(second).endswith(reverted), what="the second turn reverted"
            )
            assert not state_text(first).endswith(reverted)
            if isinstance(second, TurnView):
                assert second.has_class("-reverted")
            assert [x["reverted"] for x in thread_dump(app.threads.current)["turns"]] == [False, True]

            assert (await http.post(f"/session/{sid}/unrevert")).status_code == 200
            await wait_for(pilot, lambda: not state_text(second).endswith(reverted), what="redo")

            r = await http.post(f"/session/{sid}/revert", json={"messageID": second.turn.id})
            await wait_for(pilot, lambda: state_text(second).endswith(reverted), what="undone again")
        # The next prompt: opencode drops the reverted turn for good.
        await send(pilot, "third")
        await wait_for(
            pilot,
            lambda: (
                [prompt_shown(v) for v in turn_views(app)] == ["first", "third"] and ended_with(app, "Worked")
            ),
            what="the reverted turn gone, the new one done",
        )
        assert not any(state_text(v).endswith(reverted) for v in turn_views(app))


async def test_after_a_restart_a_thread_that_failed_then_succeeded_has_no_error_badge(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(opencode, tmp_path) as (app, pilot):
        mock_model.set_mode("error400", count=1)
        await send(pilot, "bad request")
        await wait_for(pilot, lambda: badge_shown(app), what="the error badge")
        await send_and_finish(pilot, "again")
        await wait_for(pilot, lambda: not badge_shown(app), what="no error badge once it succeeded")
        sid, project = app.threads.current_id, app.link.directory
    # t3tui again, with --session: the thread's history comes from GET /session/{id}/message.
    client = OpencodeClient(opencode.url, password=opencode.password)
    again = T3App(
        client, directory=project, state_dir=tmp_path / "again", cursor_blink=False, initial_thread=sid
    )
    try:
        async with again.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: len(turn_views(again)) == 2, what="the history loaded")
            assert [v.turn.state for v in turn_views(again)] == ["error", "completed"]
            await wait_for(
                pilot, lambda: sid in again.main.sidebar.thread_ids, what="the thread in the sidebar"
            )
            await one_frame(pilot)
            assert again.link.store.threads[sid].status == "ready"
            assert not badge_shown(again)
    finally:
        await client.aclose()
