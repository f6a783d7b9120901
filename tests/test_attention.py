"""Signals when a thread not on screen needs the user: the bell and the OSC 9/777 desktop
notification written to the terminal, once per event, never for a resync's replay, at
most once a second, each switched off by the config; and the escape sequences themselves
(sanitized text, tmux's passthrough). No server: the store is fed events as the stream
would, and the driver's output is read as the terminal would get it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import ui_support as ui
from eventgen import (
    assistant_info,
    idle,
    msg_updated,
    permission_asked,
    prompt_run,
    question_asked,
    session_error,
    session_updated,
    snapshot,
    status,
)

from t3tui import logs, observations
from t3tui.app.app import T3App
from t3tui.app.controllers.attention import (
    AttentionSettings,
    asked_at,
    notification,
    protocol,
    sanitize,
    tmux_wrap,
)
from t3tui.config import parse
from t3tui.state.store import Store

BG = "ses_1fd0000000aaBackgroundThread"
BG2 = "ses_1fd0000000bbAnotherBackgrnd"
OTHER = "/home/dev/other"


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests say which terminal they run in: not the one running pytest."""
    for var in ("TMUX", "VTE_VERSION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


# -- the sequences ------------------------------------------------------------------------


def test_sanitize_keeps_one_plain_line() -> None:
    hostile = "fix\x1b]9;pwned\x07 the\nbuild;\x9c now\u202etxt.exe\u200b\ud800"
    out = sanitize(hostile)
    assert out == "fix ]9,pwned the build, nowtxt.exe"
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069;]", out)
    long = sanitize("x" * 500, 40)
    assert len(long) == 40 and long.endswith("…")
    assert sanitize("  \t ") == ""


def test_sequences_osc9_osc777_and_tmux() -> None:
    assert notification("osc9", "Build: done") == "\x1b]9;t3tui: Build: done\x07"
    assert notification("osc777", "Build: done") == "\x1b]777;notify;t3tui;Build: done\x07"
    assert notification("off", "Build: done") == ""
    # Inside tmux: its DCS passthrough, every ESC of the sequence doubled.
    wrapped = notification("osc9", "x", tmux=True)
    assert wrapped == "\x1bPtmux;\x1b\x1b]9;t3tui: x\x07\x1b\\"
    assert tmux_wrap("\x1b]777;notify;a;b\x07") == "\x1bPtmux;\x1b\x1b]777;notify;a;b\x07\x1b\\"


def test_auto_picks_what_the_terminal_shows() -> None:
    assert protocol("auto", {"TERM": "xterm-256color"}) == "osc9"
    assert protocol("auto", {"TERM": "xterm-ghostty"}) == "osc9"
    assert protocol("auto", {"TERM": "foot"}) == "osc777"
    assert protocol("auto", {"TERM": "xterm-256color", "VTE_VERSION": "7600"}) == "osc777"
    assert protocol("auto", {"TERM": "rxvt-unicode-256color"}) == "osc777"
    assert protocol("osc777", {"TERM": "xterm"}) == "osc777"
    assert protocol("off", {"TERM": "foot"}) == "off"


def test_asked_at_reads_opencode_ids() -> None:
    now = 1795245230.0
    # A real id format: 12 hex digits of (ms * 4096 + counter), low 48 bits, then 14 base62.
    ms = int((now - 90) * 1000)
    rid = f"per_{(ms * 0x1000 + 1) & 0xFFFFFFFFFFFF:012x}ejKoVupnvJip68"
    assert asked_at(rid, now, seen=now) == pytest.approx(now - 90, abs=0.01)
    # Not that format, or a time that makes no sense: when t3tui first saw it.
    assert asked_at("per_1", now, seen=now - 5) == now - 5
    future = f"per_{((ms + 3_600_000) * 0x1000) & 0xFFFFFFFFFFFF:012x}ejKoVupnvJip68"
    assert asked_at(future, now, seen=now - 5) == now - 5


def test_config_keys_and_their_problems() -> None:
    p = Path("/home/dev/.config/t3tui/config.toml")
    s = parse('bell = false\nnotify = "OSC777"\nattention_first = true\n', p)
    assert (s.problems, s.bell, s.notify, s.attention_first) == ([], False, "osc777", True)
    s = parse("", p)
    assert (s.bell, s.notify, s.attention_first) == (True, "auto", None)
    s = parse('bell = "no"\nnotify = "growl"\nattention_first = 1\n', p)
    assert (s.bell, s.notify, s.attention_first) == (True, "auto", None)
    assert s.problems == [
        f"{p}:1: 'bell' must be true or false, not str; using the default",
        f"{p}:3: 'attention_first' must be true or false, not int; using the default",
        f"{p}:2: 'notify' must be one of auto, osc9, osc777, off, not 'growl'; using auto",
    ]


# -- the app ---------------------------------------------------------------------------


def threads_store(*extra: dict[str, Any]) -> Store:
    """The thread on screen (finished) and two background threads, both running."""
    _, _, _, here = prompt_run(ui.SID, "on screen", tokens=2)
    _, _, _, there = prompt_run(BG, "background work", tokens=0, finish=False)
    _, _, _, other = prompt_run(BG2, "other work", tokens=0, finish=False, directory=OTHER)
    return ui.make_store(
        [
            session_updated(ui.SID, title="On screen"),
            *here,
            session_updated(BG, title="Background build"),
            *there,
            session_updated(BG2, title="Other project", directory=OTHER),
            *other,
            *extra,
        ]
    )


def signals(writes: list[str]) -> list[str]:
    """The app's signal writes: a bell, a notification or both, one write per signal."""
    return [w for w in writes if w == "\x07" or "\x1b]9;" in w or "\x1b]777;" in w]


def texts(writes: list[str]) -> list[str]:
    return re.findall(r"\x1b\]9;t3tui: ([^\x07]*)\x07", "".join(signals(writes)))


def app_with(store: Store, **settings: Any) -> T3App:
    app = ui.make_app(store, attention=AttentionSettings(**{"notify": "osc9", **settings}))
    return app


async def started(pilot: Any, app: T3App) -> list[str]:
    await ui.wait_for(pilot, app, lambda: app.main.sidebar.thread_ids)
    return ui.terminal_writes(app)


async def test_a_background_permission_rings_once_and_notifies() -> None:
    app = app_with(threads_store())
    async with app.run_test(size=(110, 32)) as pilot:
        writes = await started(pilot, app)
        app.link.observe(permission_asked(BG, "per_bg1"))
        await ui.wait_for(pilot, app, lambda: signals(writes))
        [signal] = signals(writes)
        assert signal == "\x1b]9;t3tui: Background build: needs permission (external_directory)\x07\x07"
        # The same request again (a resync lists it, an event repeats it): no new ring.
        app.link.observe(
            snapshot("permissions", [permission_asked(BG, "per_bg1")["event"]["payload"]["properties"]])
        )
        app.link.observe(permission_asked(BG, "per_bg1"))
        for _ in range(5):
            await ui.wait_for(pilot, app, lambda: True)
        # Nothing written, nothing waiting for the gap to be over.
        assert len(signals(writes)) == 1 and app.attention.waiting == 0


async def test_a_resync_that_replays_old_requests_does_not_ring() -> None:
    app = app_with(threads_store())
    async with app.run_test(size=(110, 32)) as pilot:
        writes = await started(pilot, app)
        # Requests the server lists after a (re)connect: old news, shown but not rung.
        props = permission_asked(BG, "per_old")["event"]["payload"]["properties"]
        qprops = question_asked(BG2, "que_old", directory=OTHER)["event"]["payload"]["properties"]
        app.link.observe(snapshot("permissions", [props]))
        app.link.observe(snapshot("questions", [qprops], directory=OTHER))
        await ui.wait_for(pilot, app, lambda: len(app.attention.pending()) == 2)
        # A status snapshot that settles a background run: a guess, not a finish.
        app.link.observe(snapshot("status", {}, directory=OTHER))
        await ui.wait_for(pilot, app, lambda: not app.link.store.threads[BG2].active)
        await ui.wait_for(pilot, app, lambda: True)
        assert signals(writes) == [] and app.attention.waiting == 0
        # The F9 key shows now that something waits.
        await ui.wait_for(pilot, app, lambda: "Requests" in footer_text(app))


def footer_text(app: T3App) -> str:
    return " ".join(str(k.description) for k in app.screen.query("FooterKey"))


async def test_the_thread_on_screen_is_not_signalled_unless_the_terminal_is_away() -> None:
    app = app_with(threads_store(status(ui.SID, "busy")))
    async with app.run_test(size=(110, 32)) as pilot:
        writes = await started(pilot, app)
        app.link.observe(permission_asked(ui.SID, "per_here"))
        await ui.wait_for(pilot, app, lambda: app.main.permission.display)
        assert signals(writes) == [] and app.attention.waiting == 0
        # The terminal lost the focus (it reports focus out): now the user is away.
        app.app_focus = False
        app.link.observe(question_asked(ui.SID, "que_here"))
        await ui.wait_for(pilot, app, lambda: signals(writes))
        assert texts(writes) == ["On screen: has a question"]


async def test_finished_failed_and_interrupted_runs() -> None:
    done = "ses_1fd0000000ddFinishedLongAgo"
    _, _, _, old = prompt_run(done, "long ago", tokens=1)
    app = app_with(threads_store(session_updated(done, title="Long done"), *old))
    app.attention.gap = 0.0  # each signal on its own, to read them one by one
    async with app.run_test(size=(110, 32)) as pilot:
        writes = await started(pilot, app)
        # An idle pair for a thread that was not running (opencode answers an abort of
        # any id so): nothing ended, nothing rings.
        for obs in idle(done):
            app.link.observe(obs)
        # A background run that completes: "done", once for idle and session.idle both.
        th = app.link.store.threads[BG]
        turn = th.turns[th.order[-1]]
        asst = turn.assistant[0]
        app.link.observe(msg_updated(assistant_info(BG, asst, turn.id, finish="stop", completed=True)))
        for obs in idle(BG):
            app.link.observe(obs)
        await ui.wait_for(pilot, app, lambda: texts(writes))
        assert texts(writes) == ["Background build: done"]
        # Another that fails: "failed" (the error comes while it runs; the idle ends it).
        app.link.observe(session_error(BG2, "APIError", "upstream exploded", directory=OTHER))
        for obs in idle(BG2, directory=OTHER):
            app.link.observe(obs)
        await ui.wait_for(pilot, app, lambda: len(texts(writes)) == 2)
        assert texts(writes)[1] == "Other project: failed"
        # An idle pair for a thread that was not running (opencode answers any abort so):
        # nothing ended, nothing rings.
        for obs in idle(BG):
            app.link.observe(obs)
        # The user interrupts a background run: they know, nothing rings.
        _, _, _, again = prompt_run(BG, "again", tokens=1, finish=False)
        for obs in again:
            app.link.observe(obs)
        await ui.wait_for(pilot, app, lambda: app.link.store.threads[BG].active)
        app.link.observe(observations.interrupt(BG))
        for obs in idle(BG):
            app.link.observe(obs)
        await ui.wait_for(pilot, app, lambda: not app.link.store.threads[BG].active)
        await ui.wait_for(pilot, app, lambda: True)
        assert len(texts(writes)) == 2 and app.attention.waiting == 0


async def test_signals_come_at_most_once_a_second_gathered() -> None:
    app = app_with(threads_store())
    clock = [1000.0]  # the gap's clock, moved by the test alone (a slow machine waits as long)
    app.attention.monotonic = lambda: clock[0]
    async with app.run_test(size=(110, 32)) as pilot:
        writes = await started(pilot, app)
        app.link.observe(permission_asked(BG, "per_a"))
        await ui.wait_for(pilot, app, lambda: signals(writes))
        # Three more within the second: nothing more until it is over.
        clock[0] += 0.5
        app.link.observe(question_asked(BG2, "que_b", directory=OTHER))
        app.link.observe(permission_asked(BG2, "per_c", directory=OTHER))
        app.link.observe(question_asked(BG, "que_d"))
        await ui.wait_for(pilot, app, lambda: len(app.attention.pending()) == 4)
        await pilot.pause(0.6)  # the timer set for the rest of the second fires, finds it not over
        assert len(signals(writes)) == 1
        # The second is over: one signal for the three.
        clock[0] += 0.5
        await ui.wait_for(pilot, app, lambda: len(signals(writes)) == 2)
        assert texts(writes)[1] == "3 threads need you: Other project, Background build"
        assert signals(writes)[1].endswith("\x07\x07")  # the notification, then one bell
        # Another a second later still: at once, on its own.
        clock[0] += 1.0
        app.link.observe(question_asked(BG2, "que_e", directory=OTHER))
        await ui.wait_for(pilot, app, lambda: len(signals(writes)) == 3)
        assert texts(writes)[2] == "Other project: has a question"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"bell": False}, "\x1b]9;t3tui: Background build: has a question\x07"),
        ({"notify": "off"}, "\x07"),
        ({"notify": "osc777"}, "\x1b]777;notify;t3tui;Background build: has a question\x07\x07"),
    ],
)
async def test_each_signal_can_be_switched_off(settings: dict[str, Any], expected: str) -> None:
    app = app_with(threads_store(), **settings)
    async with app.run_test(size=(110, 32)) as pilot:
        writes = await started(pilot, app)
        app.link.observe(question_asked(BG, "que_1"))
        await ui.wait_for(pilot, app, lambda: signals(writes))
        assert signals(writes) == [expected]


async def test_both_off_write_nothing() -> None:
    app = app_with(threads_store(), bell=False, notify="off")
    async with app.run_test(size=(110, 32)) as pilot:
        writes = await started(pilot, app)
        app.link.observe(question_asked(BG, "que_1"))
        await ui.wait_for(pilot, app, lambda: app.attention.pending())
        assert signals(writes) == [] and app.attention.waiting == 0


async def test_inside_tmux_the_notification_passes_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,1234,0")
    app = app_with(threads_store())
    async with app.run_test(size=(110, 32)) as pilot:
        writes = await started(pilot, app)
        app.link.observe(question_asked(BG, "que_1"))
        await ui.wait_for(pilot, app, lambda: any(w.startswith("\x1bPtmux;") for w in writes))
        [out] = [w for w in writes if w.startswith("\x1bPtmux;")]
        assert out == "\x1bPtmux;\x1b\x1b]9;t3tui: Background build: has a question\x07\x1b\\\x07"


async def test_hostile_titles_and_secrets_never_reach_the_terminal() -> None:
    logs.add_secret("hunter2-very-secret")
    hostile = "\x1b]52;c;cHduZWQ=\x07[red]x\u202eexe.txt;4;1 hunter2-very-secret"
    _, _, _, there = prompt_run(BG, "background work", tokens=0, finish=False)
    store = ui.make_store(
        [session_updated(ui.SID, title="On screen"), session_updated(BG, title=hostile), *there]
    )
    app = app_with(store)
    async with app.run_test(size=(110, 32)) as pilot:
        writes = await started(pilot, app)
        app.link.observe(question_asked(BG, "que_1"))
        await ui.wait_for(pilot, app, lambda: signals(writes))
        [out] = signals(writes)
        body = out.removeprefix("\x1b]9;").removesuffix("\x07\x07")
        assert "\x1b" not in body and "\x07" not in body and "\u202e" not in body and ";" not in body
        assert "hunter2-very-secret" not in out
        assert body.startswith("t3tui: ]52,c,cHduZWQ= [red]xexe.txt,4,1 ")


async def test_a_subagent_asking_rings_but_its_finish_does_not() -> None:
    child = "ses_1fd0000000ccChildOfBackgrnd"
    _, _, _, run = prompt_run(child, "sub task", tokens=0, finish=False)
    app = app_with(threads_store(session_updated(child, title="Subagent", parent=BG), *run))
    app.attention.gap = 0.0
    async with app.run_test(size=(110, 32)) as pilot:
        writes = await started(pilot, app)
        th = app.link.store.threads[child]
        turn = th.turns[th.order[-1]]
        app.link.observe(
            msg_updated(assistant_info(child, turn.assistant[0], turn.id, finish="stop", completed=True))
        )
        for obs in idle(child):
            app.link.observe(obs)
        await ui.wait_for(pilot, app, lambda: not app.link.store.threads[child].active)
        app.link.observe(permission_asked(child, "per_child"))
        await ui.wait_for(pilot, app, lambda: signals(writes))
        assert texts(writes) == ["Subagent: needs permission (external_directory)"]
