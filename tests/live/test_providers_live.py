"""Providers against a live opencode: connect and disconnect, the deferred refresh, the model picker.

An auth change reaches the model only after ``POST /global/dispose``, and on opencode a dispose
aborts every running turn (PROTOCOL.md §(f), §(g)); so t3tui never disposes while a run is active
(STATE.md, "Provider refresh, deferred"). To see what goes over the wire, the app talks to the
server through a ``RecordingProxy``, which records every request line and can answer some itself
(a scripted failure, a server that defers its dispose) or inject an event into ``/global/event``.

These tests run a server of their own (module scope): a dispose affects the whole server and a
connected provider is server state, so they stay out of the shared ``opencode`` fixture.
Every test starts with openai disconnected (``clean_auth``).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from t3tui import logs
from t3tui.app.app import T3App
from t3tui.app.screens.dialogs import ConfirmScreen
from t3tui.app.screens.model_picker import ModelScreen
from t3tui.app.screens.providers import ApiKeyScreen, MethodScreen, OAuthScreen, ProvidersScreen
from t3tui.app.widgets.plain_text import PlainText
from t3tui.eventlog import EventLogWriter
from t3tui.i18n import t

from . import mockmodel as mm
from .helpers import wait_until
from .mockmodel import MockModel
from .opencode_server import OpencodeServer
from .recording_proxy import RecordingProxy
from .test_app_live import (
    describe,
    last_turn,
    last_view,
    live_app,
    send_and_finish,
    shown_markdown,
    status_text,
    wait_for,
)

LOCALES = Path(__file__).resolve().parents[2] / "locales"
CATALOGS = {lang: json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8")) for lang in ("en", "zh")}
PROVIDER = "openai"
NAME = "OpenAI"
DISPOSE = ("POST", "/global/dispose")
SLOW_CHUNKS = 60  # the slow turn: 60 chunks, one every 0.1 s (about 6 s)
# What waits on the real server's own work (a run streaming, a dispose rebuilding its
# instance): seconds on a quiet machine, over a minute at load 15-20 on 2 cores.
WORK = 180.0


def text(lang: str, key: str, **values: str) -> str:
    """A catalog entry with its placeholders filled, read straight from locales/<lang>.json."""
    out = CATALOGS[lang][key]
    for k, v in values.items():
        out = out.replace("{" + k + "}", v)
    return out


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(mock_model: MockModel, opencode_binary: Path) -> Iterator[OpencodeServer]:
    s = OpencodeServer(model_base_url=mock_model.base_url, binary=opencode_binary)
    s.start()
    try:
        yield s
    finally:
        s.stop(cleanup=True)


def _call(server: OpencodeServer, method: str, path: str, body: Any = None) -> Any:
    # Two minutes: right after a dispose the server rebuilds its instance before it answers
    # GET /provider, which took over 15 s on a loaded 2-core machine. A dead server still fails.
    with httpx.Client(base_url=server.url, timeout=120, trust_env=False) as http:
        resp = http.request(method, path, json=body)
        resp.raise_for_status()
        return resp.json() if resp.content else None


def set_openai(server: OpencodeServer, connected: bool, key: str = "sk-t3tui-setup-key") -> None:
    """Put openai in the wanted state on the server, and let it take effect (idle dispose)."""
    if connected:
        assert _call(server, "PUT", f"/auth/{PROVIDER}", {"type": "api", "key": key}) is True
    else:
        assert _call(server, "DELETE", f"/auth/{PROVIDER}") is True
    assert _call(server, "POST", "/global/dispose") is True
    assert (PROVIDER in _call(server, "GET", "/provider")["connected"]) is connected


@pytest.fixture
def clean_auth(server: OpencodeServer) -> OpencodeServer:
    set_openai(server, False)
    return server


@pytest.fixture
async def proxy(clean_auth: OpencodeServer) -> AsyncIterator[RecordingProxy]:
    async with RecordingProxy(clean_auth.url) as p:
        yield p


# -- helpers ---------------------------------------------------------------------------


class Toasts:
    """Every toast the app shows, in order, with its severity (they expire on screen)."""

    def __init__(self, app: T3App) -> None:
        self.seen: list[tuple[str, str]] = []
        notify = app.notify

        def spy(message: str, *args: Any, **kw: Any) -> Any:
            self.seen.append((str(message), str(kw.get("severity", "information"))))
            return notify(message, *args, **kw)

        app.notify = spy  # type: ignore[method-assign]

    def messages(self) -> list[str]:
        return [m for m, _ in self.seen]

    def has(self, message: str) -> bool:
        return message in self.messages()

    def so_far(self, what: str) -> Callable[[], str]:
        """A wait's label that names the toasts seen by the time it gave up."""
        return lambda: f"{what} (toasts so far: {self.messages()})"


def openai_connected(app: T3App) -> bool | None:
    providers = app.link.store.providers
    return None if providers is None else PROVIDER in providers.connected


def pending(app: T3App) -> bool:
    """The status line shows "refresh pending" (in the app's language)."""
    return t("status.refresh_pending") in status_text(app)


async def open_providers(pilot: Pilot[Any]) -> ProvidersScreen:
    """F2, then filter to openai and highlight its row."""
    app: T3App = pilot.app  # type: ignore[assignment]
    await pilot.press("f2")
    screen = await wait_for(
        pilot, lambda: isinstance(app.screen, ProvidersScreen) and app.screen, what="the providers screen"
    )
    await wait_for(pilot, lambda: any(r.id == PROVIDER for r in screen.rows), what="openai listed")
    await pilot.press(*PROVIDER)
    olist = screen.query_one("#providers-list", OptionList)

    def ids() -> list[str]:
        return [str(olist.get_option_at_index(i).id) for i in range(olist.option_count)]

    await wait_for(pilot, lambda: PROVIDER in ids(), what="openai in the filtered list")
    while olist.highlighted_option is None or olist.highlighted_option.id != PROVIDER:
        assert olist.highlighted is not None and olist.highlighted < olist.option_count - 1, ids()
        await pilot.press("down")
    assert screen.selected() is not None and screen.selected().id == PROVIDER  # type: ignore[union-attr]
    return screen


async def type_api_key(pilot: Pilot[Any], key: str) -> str:
    """On the providers screen (openai highlighted): Enter, pick the API-key method, type the key.

    Leaves the dialog open with the key typed; returns the screenshot taken at that moment."""
    app: T3App = pilot.app  # type: ignore[assignment]
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, MethodScreen | ApiKeyScreen), what="the next dialog")
    if isinstance(app.screen, MethodScreen):
        methods = app.screen.methods
        index = next(i for i, m in enumerate(methods) if m.type == "api")
        olist = app.screen.query_one(OptionList)
        while olist.highlighted != index:
            await pilot.press("down")
        await pilot.press("enter")
    screen = await wait_for(
        pilot, lambda: isinstance(app.screen, ApiKeyScreen) and app.screen, what="the API key dialog"
    )
    field = screen.query_one("#api-key", Input)
    assert field.password is True
    assert field.has_focus
    await pilot.press(*key)
    await pilot.pause()
    assert field.value == key
    return app.export_screenshot()


async def submit_key(pilot: Pilot[Any]) -> None:
    app: T3App = pilot.app  # type: ignore[assignment]
    screen = app.screen
    assert isinstance(screen, ApiKeyScreen)
    field = screen.query_one("#api-key", Input)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, ApiKeyScreen), what="the dialog to close")
    assert field.value == ""


async def connect_via_ui(pilot: Pilot[Any], key: str) -> str:
    """F2, filter, Enter, the API-key method, the key, Enter; returns the screenshot with the key typed."""
    await open_providers(pilot)
    shot = await type_api_key(pilot, key)
    await submit_key(pilot)
    return shot


async def ask_disconnect(pilot: Pilot[Any], lang: str = "en") -> None:
    """F2, filter, Ctrl+D: the confirm dialog is up (not answered yet)."""
    app: T3App = pilot.app  # type: ignore[assignment]
    await open_providers(pilot)
    await pilot.press("ctrl+d")
    screen = await wait_for(
        pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen, what="the confirm dialog"
    )
    assert screen.question == text(lang, "providers.confirm_disconnect", provider=NAME)


async def confirm(pilot: Pilot[Any]) -> None:
    app: T3App = pilot.app  # type: ignore[assignment]
    await pilot.press("y")
    await wait_for(
        pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="the confirm dialog to close"
    )


async def disconnect_via_ui(pilot: Pilot[Any], lang: str = "en") -> None:
    await ask_disconnect(pilot, lang)
    await confirm(pilot)


async def close_providers(pilot: Pilot[Any]) -> None:
    app: T3App = pilot.app  # type: ignore[assignment]
    await wait_for(
        pilot, lambda: isinstance(app.screen, ProvidersScreen), what="back on the providers screen"
    )
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is app.main, what="back on the main screen")


def random_key(prefix: str = "sk-t3tui-secret-") -> str:
    return prefix + secrets.token_hex(6)


RUN_GATE = "provider-run"


async def start_slow_turn(pilot: Pilot[Any], mock_model: MockModel) -> None:
    """A slow turn (about 6 s) in a new thread, streaming when this returns.

    It is sent the way Enter in the prompt sends it (``_send``), so that it can start while a
    dialog is open: the dialog is prepared first, the run starts, then the dialog is answered."""
    app: T3App = pilot.app  # type: ignore[assignment]
    mock_model.clear_requests()
    # Held after its first chunk until run_ends_then_dispose releases it: on a loaded
    # machine a run of a few seconds could end before the test looked at it.
    mock_model.hold(RUN_GATE)
    mock_model.set_mode("slow", count=1, interval=0.1, duration=SLOW_CHUNKS * 0.1, hold=RUN_GATE)
    app.sending.send(app.threads.current_id, "count slowly")
    await wait_for(
        pilot,
        lambda: (v := last_view(app)) and "tok0 " in shown_markdown(v),
        what="the slow turn streaming",
    )


def slow_request(mock_model: MockModel) -> dict[str, Any]:
    runs = [e for e in mock_model.requests if e["mode"] == "slow"]
    assert len(runs) == 1, runs
    return runs[0]


async def run_ends_then_dispose(
    pilot: Pilot[Any], proxy: RecordingProxy, mock_model: MockModel, disposed_before: int
) -> int:
    """While the run is active no dispose reaches the server; it completes whole; then the dispose.

    Returns the position of the dispose in the proxy's request log."""
    app: T3App = pilot.app  # type: ignore[assignment]
    th = app.threads.current
    assert th is not None
    assert th.active  # held: still running, whatever the machine's load
    mock_model.release(RUN_GATE)

    def done() -> bool:
        if th.active:
            assert not proxy.seen(*DISPOSE, forwarded=None), f"dispose during the run:\n{proxy.lines()}"
            assert app.link.store.disposed_count == disposed_before
            assert pending(app)
        return not th.active

    await wait_for(pilot, done, timeout=WORK, what="the slow run to end")
    turn = last_turn(app)
    assert turn.state == "completed", describe(app)
    assert turn.text == mm.slow_text(SLOW_CHUNKS)
    entry = slow_request(mock_model)
    assert entry["completed"] and not entry["disconnected"], entry
    await wait_for(pilot, lambda: proxy.seen(*DISPOSE), what="the dispose after the run")
    (dispose,) = proxy.seen(*DISPOSE)
    assert entry["ended"] is not None and dispose.time >= entry["ended"]
    index = proxy.index(*DISPOSE)
    assert index is not None
    return index


async def refreshed(
    pilot: Pilot[Any], proxy: RecordingProxy, after: int, disposed_before: int, connected: bool
) -> None:
    """The dispose's events arrived: providers refetched after it, indicator gone."""
    app: T3App = pilot.app  # type: ignore[assignment]
    await wait_for(
        pilot,
        lambda: app.link.store.disposed_count > disposed_before,
        timeout=WORK,
        what="global.disposed",
    )
    await wait_for(
        pilot,
        lambda: proxy.index("GET", "/provider", after=after) is not None,
        what="GET /provider after the dispose",
    )
    await wait_for(pilot, lambda: openai_connected(app) is connected, what=f"openai connected={connected}")
    await wait_for(pilot, lambda: not pending(app), what="the refresh-pending indicator to clear")
    assert app.link.store.refresh_pending == []


# -- 1 + 3: connect and disconnect, idle and during a run ------------------------------


CASES = [
    ("connect", "idle", "en"),
    ("connect", "running", "en"),
    ("connect", "running", "zh"),
    ("disconnect", "idle", "en"),
    ("disconnect", "running", "en"),
]


@pytest.mark.parametrize(("op", "when", "lang"), CASES, ids=["-".join(c) for c in CASES])
async def test_auth_change_refreshes_now_or_after_the_run(
    op: str,
    when: str,
    lang: str,
    proxy: RecordingProxy,
    clean_auth: OpencodeServer,
    mock_model: MockModel,
    tmp_path: Path,
) -> None:
    server = clean_auth
    connect = op == "connect"
    if not connect:
        set_openai(server, True)
    verb = "connected" if connect else "disconnected"
    normal = text(lang, f"toast.provider_{verb}", provider=NAME)
    deferred = text(lang, f"toast.provider_{verb}_deferred", provider=NAME)
    auth_call = ("PUT" if connect else "DELETE", f"/auth/{PROVIDER}")
    async with live_app(server, tmp_path, lang=lang, url=proxy.url) as (app, pilot):
        toasts = Toasts(app)
        before = app.link.store.disposed_count
        if connect:
            await open_providers(pilot)
            await type_api_key(pilot, random_key())
        else:
            await ask_disconnect(pilot, lang)
        if when == "running":
            await start_slow_turn(pilot, mock_model)
        await (submit_key(pilot) if connect else confirm(pilot))
        await wait_for(pilot, lambda: toasts.seen, what="a toast")
        await close_providers(pilot)
        (auth,) = proxy.seen(*auth_call)
        assert auth.status == 200
        if when == "running":
            assert toasts.messages() == [deferred]
            assert app.threads.current is not None and app.threads.current.active
            assert not proxy.seen(*DISPOSE, forwarded=None)
            assert [(p["providerID"], p["op"], p["status"]) for p in app.link.store.refresh_pending] == [
                (PROVIDER, op, "pending")
            ]
            await wait_for(pilot, lambda: pending(app), what="refresh pending in the status line")
            # opencode lists a new key in GET /provider at once; a removed one stays
            # listed until the dispose (observed on 1.18.33).
            assert openai_connected(app) is True
            index = await run_ends_then_dispose(pilot, proxy, mock_model, before)
            assert last_view(app) is not None
            assert shown_markdown(last_view(app)).strip() == mm.slow_text(SLOW_CHUNKS).strip()  # type: ignore[arg-type]
        else:
            await wait_for(pilot, lambda: proxy.seen(*DISPOSE), what="the dispose")
            index = proxy.index(*DISPOSE)
            put = proxy.index(*auth_call)
            assert put is not None and index is not None and put < index
            # Right after the auth call: only the providers refetch comes between.
            between = {r.line for r in proxy.requests[put + 1 : index]}
            assert between <= {"GET /provider"}, proxy.lines()
        await refreshed(pilot, proxy, index, before, connected=connect)
        await wait_for(
            pilot, lambda: toasts.has(normal), timeout=WORK, what=toasts.so_far("the normal toast")
        )
        expected = [deferred, normal] if when == "running" else [normal]
        assert toasts.messages() == expected
        assert all(sev == "information" for _, sev in toasts.seen)
        assert len(proxy.seen(*DISPOSE)) == 1
        assert app.link.store.check_invariants() == []


# -- 4: a server that defers the dispose itself ------------------------------------------

DEFERRED_ANSWER = {
    "status": "deferred",
    "lifecycleActionID": "act_1",
    "affectedDirectoryKeys": ["/somewhere/project"],
}


async def test_server_deferred_dispose_completes_on_global_disposed(
    proxy: RecordingProxy, clean_auth: OpencodeServer, tmp_path: Path
) -> None:
    """The proxy answers every dispose as a deferring server would. The connect then completes
    on an injected ``global.disposed``; the disconnect on the events of a real dispose."""
    proxy.answer(*DISPOSE, 200, DEFERRED_ANSWER, times=None)
    async with live_app(clean_auth, tmp_path, url=proxy.url) as (app, pilot):
        toasts = Toasts(app)
        for op, how in (("connect", "injected"), ("disconnect", "real")):
            verb = "connected" if op == "connect" else "disconnected"
            deferred = text("en", f"toast.provider_{verb}_deferred", provider=NAME)
            normal = text("en", f"toast.provider_{verb}", provider=NAME)
            before = app.link.store.disposed_count
            asked_before = len(proxy.seen(*DISPOSE, forwarded=None))
            shown_before = len(toasts.seen)
            if op == "connect":
                await connect_via_ui(pilot, random_key())
            else:
                await disconnect_via_ui(pilot)
            await wait_for(pilot, lambda d=deferred: toasts.has(d), what="the deferred toast")
            await close_providers(pilot)
            asked = proxy.seen(*DISPOSE, forwarded=None)[asked_before:]
            assert len(asked) == 1 and not asked[0].forwarded
            assert [(p["providerID"], p["op"], p["status"]) for p in app.link.store.refresh_pending] == [
                (PROVIDER, op, "deferred")
            ]
            assert app.link.store.refresh_pending[0]["result"]["lifecycleActionID"] == "act_1"
            await wait_for(pilot, lambda: pending(app), what="refresh pending in the status line")

            # A second later: still waiting, and t3tui does not ask again.
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                await wait_for(pilot, lambda: True)
            assert len(proxy.seen(*DISPOSE, forwarded=None)) == asked_before + 1
            assert pending(app) and app.link.store.disposed_count == before
            assert toasts.messages()[shown_before:] == [deferred]

            mark = len(proxy.requests) - 1
            if how == "injected":
                event = {
                    "directory": "global",
                    "payload": {"id": "evt_inj1", "type": "global.disposed", "properties": {}},
                }
                assert proxy.inject(event) == 1
            else:
                resp = await proxy.http.post("/global/dispose")  # straight to the server
                assert resp.json() is True
            await refreshed(pilot, proxy, mark, before, connected=op == "connect")
            await wait_for(
                pilot,
                lambda m=normal: toasts.has(m),
                timeout=WORK,
                what=toasts.so_far("the normal toast"),
            )
            assert toasts.messages()[shown_before:] == [deferred, normal]
            assert len(proxy.seen(*DISPOSE, forwarded=None)) == asked_before + 1


# -- 5: the auth call fails ----------------------------------------------------------------


async def test_failed_auth_call_shows_error_and_changes_nothing(
    proxy: RecordingProxy, clean_auth: OpencodeServer, tmp_path: Path
) -> None:
    failure = {"name": "UnknownError", "data": {"message": "scripted auth failure"}}
    proxy.answer("PUT", f"/auth/{PROVIDER}", 500, failure)
    proxy.answer("DELETE", f"/auth/{PROVIDER}", 500, failure)
    async with live_app(clean_auth, tmp_path, url=proxy.url) as (app, pilot):
        toasts = Toasts(app)
        for op in ("connect", "disconnect"):
            toasts.seen.clear()
            if op == "connect":
                await connect_via_ui(pilot, random_key())
            else:
                await disconnect_via_ui(pilot)
            key = "toast.connect_failed" if op == "connect" else "toast.disconnect_failed"
            expected = text("en", key, provider=NAME, error="scripted auth failure")
            await wait_for(pilot, lambda: toasts.seen, what="a toast")
            assert toasts.seen == [(expected, "error")]
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                await wait_for(pilot, lambda: True)
            assert not proxy.seen(*DISPOSE, forwarded=None), proxy.lines()
            assert app.link.store.refresh_pending == []
            await close_providers(pilot)
            assert not pending(app)
            assert len(toasts.seen) == 1
        assert [r.forwarded for r in proxy.requests if r.path == f"/auth/{PROVIDER}"] == [False, False]
        assert PROVIDER not in _call(clean_auth, "GET", "/provider")["connected"]


# -- dispose fails, then is retried ---------------------------------------------------------


async def test_failed_dispose_is_retried(
    proxy: RecordingProxy, clean_auth: OpencodeServer, tmp_path: Path
) -> None:
    proxy.answer(*DISPOSE, 500, {"name": "UnknownError", "data": {"message": "scripted dispose failure"}})
    async with live_app(clean_auth, tmp_path, url=proxy.url) as (app, pilot):
        # The back-off is held until the pending state is checked (on a loaded machine a
        # one-second back-off could run out first), then made due: no timing assumed.
        app.link.refresh.retry_after = 3600.0
        toasts = Toasts(app)
        before = app.link.store.disposed_count
        await connect_via_ui(pilot, random_key())
        failed = text("en", "toast.refresh_failed", error="scripted dispose failure")
        await wait_for(pilot, lambda: toasts.has(failed), what="the refresh-failed toast")
        await close_providers(pilot)
        assert [(p["providerID"], p["status"]) for p in app.link.store.refresh_pending] == [
            (PROVIDER, "pending")
        ]
        assert pending(app)
        app.link.refresh.retry_at = time.monotonic()
        # Nothing else happens in the app (no repaint is forced here): the retry comes on its own.
        await wait_until(
            lambda: len(proxy.seen(*DISPOSE, forwarded=None)) == 2,
            WORK,
            lambda: "\n".join(proxy.lines()),
        )
        index = proxy.index(*DISPOSE, after=proxy.index(*DISPOSE) or 0)
        assert index is not None
        await refreshed(pilot, proxy, index, before, connected=True)
        normal = text("en", "toast.provider_connected", provider=NAME)
        await wait_for(
            pilot, lambda: toasts.has(normal), timeout=WORK, what=toasts.so_far("the normal toast")
        )
        assert toasts.messages() == [failed, normal]


# -- 6: the key stays secret ---------------------------------------------------------------


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, {n: logging.getLogger(n).level for n in ("httpx", "httpcore")})
    path = logs.setup(tmp_path / "logs", debug=True)
    assert path is not None
    try:
        yield path
    finally:
        for h in root.handlers:
            if h not in saved[0]:
                h.close()
        root.handlers = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


def user_dirs() -> list[Path]:
    """Where t3tui would write outside the test's tmp dir if something bypassed ``state_dir``."""
    import platformdirs

    return [
        platformdirs.user_state_path("t3tui"),
        platformdirs.user_log_path("t3tui"),
        platformdirs.user_cache_path("t3tui"),
        platformdirs.user_config_path("t3tui"),
        platformdirs.user_data_path("t3tui"),
    ]


async def test_api_key_goes_to_the_server_only(
    proxy: RecordingProxy, clean_auth: OpencodeServer, tmp_path: Path, debug_log: Path
) -> None:
    """Two keys: one that the log redaction patterns know (``sk-…``), one they do not."""
    keys = [random_key("sk-t3tui-secret-"), random_key("plain-t3tui-secret-")]
    started = time.time()
    capture = EventLogWriter(tmp_path / "events.jsonl")
    try:
        async with live_app(clean_auth, tmp_path, url=proxy.url, capture=capture) as (app, pilot):
            toasts = Toasts(app)
            normal = text("en", "toast.provider_connected", provider=NAME)
            for n, key in enumerate(keys, 1):
                shot = await connect_via_ui(pilot, key)
                assert key not in shot and key[-12:] not in shot
                assert "•" * 8 in shot  # the masked input shows bullets
                await wait_for(
                    pilot,
                    lambda n=n: toasts.messages().count(normal) == n,
                    timeout=WORK,
                    what=toasts.so_far("the normal toast"),
                )
                await close_providers(pilot)
                await wait_for(pilot, lambda: openai_connected(app), what="openai connected")
                assert key not in app.export_screenshot()
                assert key not in repr(app.link.store.refresh_pending) and key not in repr(toasts.seen)
    finally:
        capture.close()
    # The server got them: in the PUT bodies, and openai is connected there.
    puts = proxy.seen("PUT", f"/auth/{PROVIDER}")
    assert [json.loads(r.body) for r in puts] == [{"type": "api", "key": k} for k in keys]
    assert PROVIDER in _call(clean_auth, "GET", "/provider")["connected"]
    # Nothing t3tui wrote has them: state dir, event log, debug log (checked to hold httpx lines).
    for h in logging.getLogger().handlers:
        h.flush()
    log_text = debug_log.read_text(encoding="utf-8")
    assert "/auth/openai" in log_text and "DEBUG" in log_text
    assert (tmp_path / "events.jsonl").stat().st_size > 0
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {tmp_path / "events.jsonl", debug_log} <= set(written)
    # The server's own HOME (where opencode keeps auth.json) is elsewhere.
    assert clean_auth.root not in (tmp_path, *tmp_path.parents)
    for d in user_dirs():
        if d.is_dir():
            written += [p for p in d.rglob("*") if p.is_file() and p.stat().st_mtime >= started]
    for path in written:
        data = path.read_bytes()
        for key in keys:
            assert key.encode() not in data, path
            assert key[-12:].encode() not in data, path
    assert not any(key in v for key in keys for v in os.environ.values())


# -- OAuth: the same refresh after the sign-in ------------------------------------------------


async def test_oauth_sign_in_refreshes_like_an_api_key(
    proxy: RecordingProxy, clean_auth: OpencodeServer, tmp_path: Path
) -> None:
    """The sign-in itself is scripted (the proxy answers authorize and callback; a real one
    needs a browser); what follows is real: the providers refetch and the dispose."""
    link = "https://auth.example.invalid/authorize?client=t3tui-test"
    proxy.answer("POST", f"/provider/{PROVIDER}/oauth/authorize", 200, {"url": link, "method": "auto"})
    proxy.answer("POST", f"/provider/{PROVIDER}/oauth/callback", 200, True)
    async with live_app(clean_auth, tmp_path, url=proxy.url) as (app, pilot):
        toasts = Toasts(app)
        before = app.link.store.disposed_count
        await open_providers(pilot)
        await pilot.press("enter")
        methods = await wait_for(
            pilot, lambda: isinstance(app.screen, MethodScreen) and app.screen, what="the method dialog"
        )
        assert methods.methods[0].type == "oauth"
        await pilot.press("enter")
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, OAuthScreen) and app.screen, what="the sign-in dialog"
        )
        done = screen.query_one("#oauth-done")
        await wait_for(pilot, lambda: done.display and done.has_focus, what="the sign-in link")
        assert link in str(screen.query_one("#oauth-body", PlainText).render())
        (authorize,) = proxy.seen("POST", f"/provider/{PROVIDER}/oauth/authorize", forwarded=False)
        assert json.loads(authorize.body) == {"method": 0}
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, OAuthScreen), what="the dialog to close")
        normal = text("en", "toast.provider_connected", provider=NAME)
        await wait_for(
            pilot, lambda: toasts.has(normal), timeout=WORK, what=toasts.so_far("the normal toast")
        )
        callback = proxy.index("POST", f"/provider/{PROVIDER}/oauth/callback")
        dispose = proxy.index(*DISPOSE)
        assert callback is not None and dispose is not None and callback < dispose, proxy.lines()
        await wait_for(
            pilot, lambda: app.link.store.disposed_count > before, timeout=WORK, what="global.disposed"
        )
        await wait_for(
            pilot, lambda: proxy.index("GET", "/provider", after=dispose) is not None, what="the refetch"
        )
        assert toasts.messages() == [normal]


# -- 7: the model picker -----------------------------------------------------------------


async def test_model_picker_lists_connected_providers_and_sets_the_thread_model(
    proxy: RecordingProxy, clean_auth: OpencodeServer, mock_model: MockModel, tmp_path: Path
) -> None:
    async with live_app(clean_auth, tmp_path, url=proxy.url) as (app, pilot):
        toasts = Toasts(app)
        await send_and_finish(pilot, "first")
        first = [e for e in mock_model.requests if not e["title"]]
        assert first and first[-1]["model"] == "fast"

        # Before: no openai model on offer.
        await pilot.press("ctrl+o")
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, ModelScreen) and app.screen, what="the model picker"
        )
        # The picker opens at once and fills in when the providers arrive.
        await wait_for(pilot, lambda: not screen.loading, what="the models to load")
        pairs = {(p, m) for p, m, _ in screen.choices}
        assert ("mock", "slow") in pairs and ("mock", "fast") in pairs
        assert not any(p == PROVIDER for p, _ in pairs)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)

        app.providers.connect_api_key(app.link, PROVIDER, NAME, random_key())
        normal = text("en", "toast.provider_connected", provider=NAME)
        await wait_for(pilot, lambda: toasts.has(normal), what="connected")

        await pilot.press("ctrl+o")
        screen = await wait_for(
            pilot, lambda: isinstance(app.screen, ModelScreen) and app.screen, what="the model picker"
        )
        await wait_for(pilot, lambda: not screen.loading, what="the models to load")
        pairs = {(p, m) for p, m, _ in screen.choices}
        assert ("mock", "slow") in pairs and any(p == PROVIDER for p, _ in pairs)
        await pilot.press(*"mock/slow")
        olist = screen.query_one(OptionList)
        await wait_for(pilot, lambda: olist.option_count == 1, what="one model left")
        assert olist.get_option_at_index(0).id == "mock/slow"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app.main, what="the picker to close")
        assert toasts.has(text("en", "toast.model", model="mock/slow"))
        await wait_for(pilot, lambda: "mock/slow" in status_text(app), what="the model in the status line")

        # The next prompt goes out with that model (kept short: the mock answers fast anyway).
        mock_model.set_mode("fast", count=1)
        mark = len(proxy.requests)
        await send_and_finish(pilot, "second")
        prompt = next(r for r in proxy.requests[mark:] if r.path.endswith("/prompt_async"))
        assert json.loads(prompt.body)["model"] == {"providerID": "mock", "modelID": "slow"}
        second = [e for e in mock_model.requests if not e["title"]]
        assert second[-1]["model"] == "slow", [e["model"] for e in second]
