"""The terminal app: sidebar, thread view, prompt, and the store behind them.

Data flows one way: the event stream feeds observations to the store; a 30 Hz timer
repaints what changed; user actions go to the client and, as actions, to the store
(which is how the interrupt and the sent prompt show at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import MountError
from textual.widgets import Footer, HelpPanel, Input, Markdown, OptionList
from textual.worker import Worker, WorkerState

from t3tui import logs, observations
from t3tui.app import gcpolicy, refresh
from t3tui.app.panels import PermissionPanel, QuestionPanel
from t3tui.app.prompt import Drafts, PromptArea
from t3tui.app.refresh import Item as RefreshItem
from t3tui.app.sidebar import Sidebar, short_dir
from t3tui.app.turns import Literal, ThreadView
from t3tui.eventlog import EventLogWriter
from t3tui.i18n import available, catalog, t
from t3tui.opencode.client import NotFoundError, OpencodeClient, OpencodeError, UncertainError, ascending_id
from t3tui.opencode.stream import EventStream, ResyncTargets, store_targets
from t3tui.state.store import SETTLED, Store, Thread

log = logging.getLogger(__name__)

FRAME = 1 / 30
CONFIRM_FOR = 300.0  # seconds to keep asking whether a prompt that got no answer was taken
PROMPT_REPAINT = frozenset({"message.part.updated", "message.updated", "session.status", "session.idle"})
TESTED_VERSION = "1.18.33"
MIN_VERSION = (1, 18)


def version_tuple(version: str | None) -> tuple[int, ...]:
    """``"1.18.33"`` -> ``(1, 18, 33)``; ``()`` when it is not a version at all."""
    numbers = []
    for piece in (version or "").split(".")[:3]:
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        numbers.append(int(digits.group(0)))
    return tuple(numbers)


INTERRUPT_WINDOW = 2.0
MARKDOWN_SAMPLE = "A **paragraph** with `code`.\n\n- an item\n\n```python\nx = 1\n```\n\n# A heading\n"
SETTLE_AFTER = 100  # snapshot items (messages, sessions) that make a load "large"
LANGUAGE_NAMES = {"en": "English", "zh": "简体中文"}


def default_model(config: Any, providers: Any) -> tuple[str, str] | None:
    """The model a new thread runs on when nobody picks one, as opencode's TUI finds it:
    the config's ``model``, else the first provider that can run and its default."""
    model = config.get("model") if isinstance(config, dict) else None
    if isinstance(model, str) and "/" in model:
        provider, _, model_id = model.partition("/")
        return provider, model_id
    listed = providers.get("providers") if isinstance(providers, dict) else None
    if not isinstance(listed, list) or not listed or not isinstance(listed[0], dict):
        return None
    first = listed[0]
    pid = first.get("id")
    defaults = providers.get("default") if isinstance(providers.get("default"), dict) else {}
    mid = defaults.get(pid) or next(iter(first.get("models") or {}), None)
    return (pid, mid) if isinstance(pid, str) and isinstance(mid, str) else None


def localize_bindings(node: DOMNode, overrides: dict[str, str] | None = None) -> None:
    """Give every binding with an ``id`` its description from the catalog (``bind.<id>``)."""
    overrides = overrides or {}
    bindings = node._bindings.key_to_bindings
    for key, items in bindings.items():
        fresh = []
        for b in items:
            if b.id:
                text = t(overrides.get(b.id, f"bind.{b.id}"))
                b = replace(b, description=text, tooltip="")
            fresh.append(b)
        bindings[key] = fresh


class T3App(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "t3tui"
    DISPOSE_RETRY = 10.0  # seconds before a failed POST /global/dispose is tried again
    BINDINGS = [
        Binding("ctrl+n", "new_thread", "bind.new_thread", id="new_thread"),
        Binding("alt+up", "prev_thread", "bind.prev_thread", id="prev_thread", show=False),
        Binding("alt+down", "next_thread", "bind.next_thread", id="next_thread"),
        Binding("ctrl+b", "toggle_focus", "bind.toggle_focus", id="toggle_focus", show=False),
        Binding("escape", "interrupt", "bind.interrupt", id="interrupt"),
        Binding("ctrl+o", "choose_model", "bind.choose_model", id="choose_model"),
        Binding("f2", "providers", "bind.providers", id="providers"),
        Binding("ctrl+p", "command_palette", "bind.palette", id="palette", show=False, priority=True),
        Binding("f1", "toggle_keys", "bind.keys", id="keys", show=False),
        Binding("ctrl+q", "quit", "bind.quit", id="quit", priority=True),
    ]

    def __init__(
        self,
        client: OpencodeClient,
        *,
        directory: str,
        store: Store | None = None,
        clock: Callable[[], float] = time.time,
        lang: str = "en",
        state_dir: Path | None = None,
        connect: bool = True,
        capture: EventLogWriter | None = None,
        watchdog: float = 25.0,
        cursor_blink: bool = True,
        initial_thread: str | None = None,
        notices: list[str] | None = None,
        keymap: dict[str, str] | None = None,
        theme: str | None = None,
        server_log: Path | None = None,
    ) -> None:
        t.set_language(lang)
        super().__init__()
        self.client = client
        self.directory = directory
        self.clock = clock
        self.store = store if store is not None else Store(clock=clock)
        self.capture = capture
        self.connect = connect
        self.cursor_blink = cursor_blink
        self.current_id: str | None = initial_thread
        self.unseen: set[str] = set()
        self._last_seen: dict[str, tuple[str, str]] = {}
        self._answered: set[str] = set()
        self._loaded: set[str] = set()
        self._models: dict[str, tuple[str, str]] = {}
        self._next_model: tuple[str, str] | None = None
        self._disposed_seen = self.store.disposed_count
        self.provider_refresh = refresh.RefreshCoordinator(retry_after=self.DISPOSE_RETRY)
        self._armed_at: float | None = None
        self._bindings_key: tuple[bool, bool] | None = None
        self._auto_opened = initial_thread is not None
        self.drafts = Drafts(state_dir)
        self._store_targets = store_targets(self.store, [directory], viewed=lambda: [self.current_id or ""])
        self.stream = EventStream(
            client, self.observe, self._targets, watchdog=watchdog, on_state=lambda _s: self._mark_changed()
        )
        self.stream_task: Any = None
        self._frame_timer: Any = None
        self._freeze_timer: Any = None
        self._frames_paused = False
        self._idle_frames = 0
        self._frame_soon = False
        self.notices = list(notices or [])
        self.server_log = server_log
        self._theme_name = theme
        self._version_checked = False
        if keymap:
            self.set_keymap(keymap)

    # -- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Literal("", id="status")
        yield Literal("", id="banner")
        with Horizontal(id="body"):
            yield Sidebar(self.clock, id="sidebar")
            with Vertical(id="main"):
                yield ThreadView(self.clock, id="thread")
                yield PermissionPanel(id="permission")
                yield QuestionPanel(id="question")
                yield Literal("", id="hint")
                yield PromptArea(self.drafts.prompt_history, id="prompt")
        yield Footer()

    @property
    def main(self) -> Screen[Any]:
        """The screen with the thread view (other screens may be pushed over it)."""
        return self.screen_stack[0]

    @property
    def sidebar(self) -> Sidebar:
        return self.main.query_one(Sidebar)

    @property
    def thread_view(self) -> ThreadView:
        return self.main.query_one(ThreadView)

    @property
    def prompt(self) -> PromptArea:
        return self.main.query_one(PromptArea)

    async def on_mount(self) -> None:
        self.localize()
        prompt = self.prompt
        prompt.cursor_blink = self.cursor_blink
        prompt.load_text(self.drafts.get(self._draft_key()))
        prompt.focus()
        self.main.query_one("#permission").display = False
        self.main.query_one("#question").display = False
        self.main.query_one("#banner").display = False
        await self.thread_view.show_thread(self.current_thread, self._empty_text())
        self._frame_timer = self.set_interval(FRAME, self._frame)
        self.set_interval(1.0, self._second)
        if self.connect:
            self._start_stream()
        if self._theme_name:
            if self._theme_name in self.available_themes:
                self.theme = self._theme_name
            else:
                self.notices.append(t("toast.bad_theme", theme=self._theme_name))
        for notice in self.notices:
            self.toast(notice, severity="warning", timeout=15)
        if self.drafts.error is not None:
            self._drafts_warned = True
            self.toast(t("toast.drafts_unsaved", error=self.drafts.error), severity="warning", timeout=15)
        self._mark_changed()
        await self._frame()
        gcpolicy.tune()
        self.call_after_refresh(self._freeze_memory)
        self.set_timer(0.2, self._warm_markdown)

    def _start_stream(self) -> None:
        self.stream_task = self.run_worker(
            self.stream.run(), name="stream", group="stream", exit_on_error=False
        )

    def _stream_alive(self) -> bool:
        task = self.stream_task
        return task is not None and not task.is_finished

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The event reader must never be dead while the app looks connected."""
        worker = event.worker
        if worker is not self.stream_task or self.stream.stopping:
            return
        if worker.state not in (WorkerState.ERROR, WorkerState.SUCCESS):
            return  # running, or cancelled by the app on its way out
        error = worker.error
        reason = f"{error.__class__.__name__}: {error}" if error is not None else str(worker.state.name)
        self.stream.crashed(f"the event reader stopped ({reason})")
        self.toast(t("toast.reader_stopped", error=reason), severity="error", timeout=10)
        self.set_timer(1.0, self._restart_stream)

    def _restart_stream(self) -> None:
        if not self.stream.stopping and not self._stream_alive():
            self._start_stream()

    def reconnect_now(self) -> None:
        """The palette's "Reconnect now": skip the wait, or bring back a dead reader."""
        if not self.connect:
            return
        if self._stream_alive():
            self.stream.retry_now()
        else:
            self._start_stream()

    async def _warm_markdown(self) -> None:
        """Render a hidden Markdown sample once, soon after start.

        The first Markdown a Textual app renders pays for imports, the parser and style
        lookups (about 30 ms more than later ones): paid here, while idle, rather than
        in the middle of the first streamed reply.
        """
        if not self._main_ready() or not self.main.is_attached:
            return  # starting, or already quitting
        sample = Markdown("", classes="warmup")
        sample.display = False
        try:
            await self.main.mount(sample)
        except MountError:
            return  # the app began to quit meanwhile
        try:
            stream = Markdown.get_stream(sample)
            await stream.write(MARKDOWN_SAMPLE)
            await stream.stop()
        finally:
            await sample.remove()

    def _freeze_memory(self) -> None:
        self._freeze_timer = None
        gcpolicy.freeze_after_load()

    def _freeze_soon(self) -> None:
        """A large load arrived: settle the collector once it is in (see gcpolicy)."""
        if self._freeze_timer is not None:
            self._freeze_timer.reset()
        else:
            self._freeze_timer = self.set_timer(0.5, self._freeze_memory)

    async def on_unmount(self) -> None:
        self._save_draft()
        self.stream.stop()

    # -- observations -----------------------------------------------------------------

    def observe(self, obs: dict[str, Any]) -> None:
        """Everything the client learns or does goes through here, once."""
        if self.capture is not None:
            self.capture.write(obs)
        self.store.apply(obs)
        snapshot = obs.get("snapshot")
        if isinstance(snapshot, dict):
            if len(snapshot.get("data") or ()) >= SETTLE_AFTER:
                self._freeze_soon()
            if snapshot.get("kind") == "sessions":
                self._listed = True
        if self._frames_paused:
            self.request_frame()
        event = obs.get("event")
        payload = event.get("payload") if isinstance(event, dict) else None
        if not self._frame_soon and isinstance(payload, dict) and payload.get("type") in PROMPT_REPAINT:
            # A part or message is complete, or a status changed: show it now rather
            # than at the next tick (deltas, the bulk of a burst, wait for the tick).
            self._frame_soon = True
            self.call_later(self._frame_now)

    def _loading(self) -> bool:
        """The thread list is still on its way (so "no threads yet" would be a guess)."""
        if not self.connect or self.stream.state in ("auth_failed", "stopped"):
            return False
        return not self._listed and self.stream.attempt == 0

    def _targets(self) -> ResyncTargets:
        """What a resync fetches: every known directory, running threads and the open one."""
        return self._store_targets()

    def toast(self, message: str, *, severity: Any = "information", timeout: float | None = None) -> None:
        """A notification whose text is shown as it is (messages carry server text), less
        any secret value t3tui knows (a password or key echoed in an error)."""
        self.notify(logs.scrub(message), markup=False, severity=severity, timeout=timeout)

    def _mark_changed(self) -> None:
        self.request_frame()

    async def _frame_now(self) -> None:
        self._frame_soon = False
        await self._frame()

    def request_frame(self) -> None:
        """Something changed: repaint on the next frame (and wake the frame timer).

        The timer pauses itself after half a second with nothing to paint, so an idle
        t3tui does not wake up 30 times a second.
        """
        self.store.changed = True
        timer = self._frame_timer
        if timer is not None and self._frames_paused:
            self._frames_paused = False
            timer.resume()

    # -- repaint ----------------------------------------------------------------------

    async def _frame(self) -> None:
        store = self.store
        if not store.has_changes or not self._main_ready():
            self._idle_frames += 1
            if self._idle_frames > 15 and self._frame_timer is not None and not self._frames_paused:
                self._frames_paused = True
                self._frame_timer.pause()
            return
        self._idle_frames = 0
        dirty = store.take_changes() or set()
        self._track_unseen(dirty)
        if self.current_id is not None and self.current_id not in store.threads and self.current_id in dirty:
            self.current_id = None
            await self.thread_view.show_thread(None, self._empty_text())
        if not self._auto_opened and store.threads:
            await self._auto_open()
        self.sidebar.rebuild(store, self.current_id, self.unseen, self._loading())
        if self.current_id in dirty:
            view = self.thread_view
            if view.thread is None and self.current_thread is not None:
                await view.show_thread(self.current_thread, self._empty_text())
            else:
                await view.sync()
        self._sync_panels()
        self._sync_bindings()
        self._sync_status()
        self._sync_screens()
        self._refresh_providers_if_due()

    async def _auto_open(self) -> None:
        """On start, open the newest thread of this directory (if it has one)."""
        mine = [
            th for th in self.store.threads.values() if th.directory == self.directory and not th.parent_id
        ]
        if not mine:
            return
        self._auto_opened = True
        if self.current_id is None and not self.prompt.text:
            newest = max(mine, key=lambda th: (th.updated, th.id))
            await self.open_thread(newest.id)

    def _main_ready(self) -> bool:
        """The main screen's widgets exist (not during start-up or shutdown)."""
        if not self.screen_stack:
            return False
        main = self.screen_stack[0]
        return main.is_attached and bool(main.query(Sidebar)) and bool(main.query("#status"))

    def _second(self) -> None:
        if not self._main_ready():
            return
        self.sidebar.rebuild(self.store, self.current_id, self.unseen, self._loading())
        self.thread_view.tick()
        self._sync_status()
        self._sync_screens()
        # A failed dispose is retried on a timer: nothing else may change meanwhile.
        self._refresh_providers_if_due()
        if self._armed_at is not None and time.monotonic() - self._armed_at > INTERRUPT_WINDOW:
            self._disarm()

    def _track_unseen(self, dirty: Iterable[str]) -> None:
        for sid in dirty:
            th = self.store.threads.get(sid)
            if th is None or not th.order:
                continue
            latest = th.turns[th.order[-1]]
            key = (latest.id, latest.state)
            before = self._last_seen.get(sid)
            self._last_seen[sid] = key
            if sid == self.current_id:
                continue
            if before is not None and before != key and latest.state in SETTLED and before[1] not in SETTLED:
                self.unseen.add(sid)

    def _sync_status(self) -> None:
        stream = self.stream
        th = self.current_thread
        directory = th.directory if th is not None and th.directory else self.directory
        if not self.connect:
            conn, style = (
                t("status.connected") if self.store.connection == "open" else t("status.offline"),
                "",
            )
        elif stream.state == "open":
            conn, style = t("status.connected"), "green"
        elif stream.state == "auth_failed":
            refused = self.client.has_password
            conn, style = t("status.auth_failed" if refused else "status.auth_needed"), "red"
        elif stream.connections == 0 and stream.attempt == 0:
            conn, style = t("status.connecting"), "yellow"
        elif stream.connections == 0:
            conn, style = t("status.offline"), "red"
        else:
            conn, style = t("status.reconnecting", attempt=stream.attempt), "yellow"
        sep = (" │ ", "dim")
        line = Text.assemble(
            ("t3tui", "bold"),
            sep,
            (self.client.base_url, "dim"),
            sep,
            ("● " + conn, style),
            sep,
            short_dir(directory),
        )
        if stream.skipped:
            line.append_text(Text.assemble(sep, ("⚠ " + t("status.skipped", count=stream.skipped), "yellow")))
        model = self.chosen_model() or (th.model if th is not None else None)
        fresh = th is None or not th.order
        if not model and fresh and self.default_model is not None:
            model = t("status.default_model", model="/".join(self.default_model))
        if model:
            line.append_text(Text.assemble(sep, (model, "dim")))
        if self.store.refresh_pending:
            line.append_text(Text.assemble(sep, (t("status.refresh_pending"), "bold yellow")))
        self.main.query_one("#status", Literal).update(line)
        banner = self.main.query_one("#banner", Literal)
        stale = self.store.connection != "open" and (stream.connections > 0 or stream.attempt > 0)
        if self.connect and stream.state == "auth_failed":
            # The stream's own error already says "refused" or "needs": not said twice.
            banner.show(t("banner.auth_refused" if self.client.has_password else "banner.auth_needed"))
            banner.display = True
        elif (
            self.connect
            and stale
            or not self.connect
            and self.store.connection == "closed"
            and self.store.threads
        ):
            wait = stream.retry_in()
            if self.connect and stream.connections == 0:
                # Never connected: nothing was lost, and nothing on screen is stale.
                text = t("banner.unreachable", url=self.client.base_url, attempt=max(1, stream.attempt))
            else:
                text = t("banner.reconnecting", attempt=max(1, stream.attempt))
            if wait:
                text += " " + t("banner.retry_in", seconds=f"{wait:.0f}s")
            if stream.last_error:
                text += " · " + stream.last_error
            if not self.connect or stream.connections > 0:
                text += " · " + t("banner.stale")
            if self.server_log is not None:
                text += "\n" + t("banner.server_log", path=str(self.server_log))
            banner.show(logs.scrub(text))
            banner.display = True
        else:
            banner.display = False

    def _sync_screens(self) -> None:
        """The unreachable and password screens follow the stream's state."""
        from t3tui.app.screens import PasswordScreen, UnreachableScreen

        if not self.connect:
            return
        stream = self.stream
        top = self.screen
        if stream.state == "open":
            if isinstance(top, UnreachableScreen | PasswordScreen):
                top.dismiss(None)
            if not self._version_checked:
                self._version_checked = True
                self._check_version()
                self._load_default_model()
            return
        if stream.state == "auth_failed":
            if isinstance(top, UnreachableScreen):
                top.dismiss(None)
            if not isinstance(self.screen, PasswordScreen) and not self._password_refused:
                self._password_refused = True
                self.push_screen(PasswordScreen(stream.last_error))
            return
        if stream.connections == 0 and stream.attempt >= 1:
            if isinstance(top, UnreachableScreen):
                top.update_from(stream)
            elif top is self.main:
                self.push_screen(UnreachableScreen())

    _password_refused = False

    def use_password(self, password: str) -> None:
        logs.add_secret(password)
        self.client.set_password(password)
        self._password_refused = False
        self.stream.retry_now()

    @work(group="version", exit_on_error=False)
    async def _check_version(self) -> None:
        try:
            health = await self.client.health()
        except OpencodeError:
            return
        version = health.version
        numbers = version_tuple(version)
        if not numbers:
            self.toast(t("toast.server_unknown"), severity="warning", timeout=15)
        elif numbers < MIN_VERSION:
            warning = t("toast.server_old", version=version, tested=TESTED_VERSION)
            self.toast(warning, severity="warning", timeout=15)

    @work(group="default-model", exclusive=True, exit_on_error=False)
    async def _load_default_model(self) -> None:
        """Which model a new thread will use, to show it before the first prompt."""
        try:
            config = await self.client.raw_config(self.directory)
            providers = await self.client.raw_config_providers(self.directory)
        except OpencodeError as exc:
            log.info("default model unknown: %s", exc.message)
            return
        self.default_model = default_model(config, providers)
        self.request_frame()

    default_model: tuple[str, str] | None = None

    def _sync_panels(self) -> None:
        th = self.current_thread
        perm_panel = self.main.query_one(PermissionPanel)
        q_panel = self.main.query_one(QuestionPanel)
        perm = next((p for p in (th.permissions.values() if th else ()) if p.id not in self._answered), None)
        question = next(
            (q for q in (th.questions.values() if th else ()) if q.id not in self._answered), None
        )
        self._show_panel(perm_panel, perm, perm_panel.focus)
        self._show_panel(q_panel, question if perm is None else None, q_panel.focus_first)

    def _show_panel(self, panel: Any, request: Any, focus: Callable[[], object]) -> None:
        """Show a request in its panel (focused when it appears), or hide the panel."""
        if request is not None:
            panel.show_request(request)
            if not panel.display:
                panel.display = True
                focus()
        elif panel.display:
            panel.display = False
            panel.request = None
            self._refocus_prompt()

    def _sync_bindings(self) -> None:
        """The footer's keys depend on state (Interrupt only while the thread runs): refresh on change."""
        th = self.current_thread
        key = (th is not None and th.active, bool(self.store.threads))
        if key != self._bindings_key:
            self._bindings_key = key
            self.refresh_bindings()

    def _refocus_prompt(self) -> None:
        focused = self.focused
        if (
            focused is None
            or not focused.display
            or any(
                not n.display
                for n in focused.ancestors_with_self
                if isinstance(n, DOMNode) and hasattr(n, "display")
            )
        ):
            self.prompt.focus()

    # -- threads ----------------------------------------------------------------------

    @property
    def current_thread(self) -> Thread | None:
        return self.store.threads.get(self.current_id) if self.current_id else None

    def _draft_key(self, sid: str | None = None) -> str:
        sid = sid if sid is not None else self.current_id
        return sid or f"new:{self.directory}"

    def _save_draft(self) -> None:
        with contextlib.suppress(Exception):
            self.drafts.set(self._draft_key(), self.prompt.text)
        self._save_drafts()

    def _save_drafts(self) -> None:
        """Write the drafts; if they cannot be written, say so once and keep them in memory."""
        self.drafts.save()
        if self.drafts.error is not None and not self._drafts_warned:
            self._drafts_warned = True
            self.toast(t("toast.drafts_unsaved", error=self.drafts.error), severity="warning", timeout=15)

    _drafts_warned = False
    _listed = False  # a thread list arrived from the server

    def _empty_text(self) -> str:
        th = self.current_thread
        directory = th.directory if th is not None and th.directory else self.directory
        if self.store.threads:
            return t("thread.empty_new", directory=short_dir(directory))
        return t("thread.first_run", directory=short_dir(directory))

    async def open_thread(self, sid: str | None) -> None:
        if sid == self.current_id and self.thread_view.thread is not None:
            return
        self._save_draft()
        self.current_id = sid
        self._auto_opened = True
        if sid is not None:
            self.unseen.discard(sid)
            self._need_messages(sid)
        self.prompt.load_text(self.drafts.get(self._draft_key()))
        self.prompt.move_cursor(self.prompt.document.end)
        await self.thread_view.show_thread(self.current_thread, self._empty_text())
        self._answered.clear()
        self.request_frame()
        self.refresh_bindings()

    @work(group="messages", exit_on_error=False)
    async def _need_messages(self, sid: str) -> None:
        """Load a thread's history the first time it is opened."""
        th = self.store.threads.get(sid)
        if th is None or sid in self._loaded:
            return
        self._loaded.add(sid)
        try:
            data = await self.client.raw_messages(sid, th.directory)
        except OpencodeError as exc:
            self._loaded.discard(sid)
            self.toast(t("toast.load_failed", error=exc.message), severity="error")
            return
        except Exception as exc:  # never a thread that silently looks empty
            log.exception("loading %s failed", sid)
            self._loaded.discard(sid)
            self.toast(t("toast.load_failed", error=f"{exc.__class__.__name__}: {exc}"), severity="error")
            return
        self.observe(observations.snapshot("messages", th.directory, data, session_id=sid))

    @on(OptionList.OptionSelected, "#sidebar")
    async def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            await self.open_thread(event.option.id)
            self.prompt.focus()

    async def action_new_thread(self) -> None:
        await self.open_thread(None)
        self.prompt.focus()

    async def action_prev_thread(self) -> None:
        await self.open_thread(self.sidebar.neighbour(self.current_id, -1))

    async def action_next_thread(self) -> None:
        await self.open_thread(self.sidebar.neighbour(self.current_id, 1))

    def action_toggle_focus(self) -> None:
        if self.sidebar.has_focus:
            self.prompt.focus()
        else:
            self.sidebar.focus()

    # -- sending ----------------------------------------------------------------------

    @on(PromptArea.ScrollThread)
    def _scroll_thread(self, event: PromptArea.ScrollThread) -> None:
        view = self.thread_view
        if event.direction == 2:
            view.scroll_end(animate=False)
        elif event.direction < 0:
            view.scroll_page_up(animate=False)
        else:
            view.scroll_page_down(animate=False)

    @on(PromptArea.Submitted)
    def _submitted(self, event: PromptArea.Submitted) -> None:
        text = event.text
        if not text.strip():
            return
        self.drafts.remember(text)
        event.area.load_text("")
        self.drafts.set(self._draft_key(), "")
        self._save_drafts()
        self._send(self.current_id, text)

    @work(group="send", exit_on_error=False)
    async def _send(self, sid: str | None, text: str) -> None:
        """Send a prompt: never lost (a certain failure gives the text back), never twice
        (a prompt the server may have taken is checked, not offered to send again)."""
        mid = ascending_id("msg")
        th = self.store.threads.get(sid) if sid else None
        posted = False
        new_thread = False
        try:
            if th is None:
                # A new thread, or one the store has not heard of yet (opened by id).
                if sid is None:
                    session = await self.client.create_session(self.directory)
                else:
                    session = await self.client.get_session(sid, self.directory)
                self.observe(
                    observations.snapshot(
                        "session",
                        session.directory or self.directory,
                        session.model_dump(mode="json", exclude_none=True),
                    )
                )
                new_thread = sid is None
                sid = session.id
                if new_thread:
                    await self.open_thread(sid)
                th = self.store.threads[sid]
            # Before the turn exists: a model picked for a new thread applies to its
            # first prompt (model_for looks at whether the thread has turns yet).
            model = self.model_for(th, new_thread)
            self.observe(observations.prompt_sent(sid, mid, text, th.directory))
            posted = True
            await self.client.prompt_async(sid, th.directory, text, message_id=mid, model=model)
        except UncertainError as exc:
            if posted and sid is not None and th is not None:
                await self._confirm_prompt(sid, th.directory, mid, text, exc.message)
            else:
                self._prompt_failed(sid, mid, text, exc.message, posted=posted)
        except OpencodeError as exc:
            self._prompt_failed(sid, mid, text, exc.message, posted=posted)
        except Exception as exc:  # a bug here must not eat the prompt
            log.exception("sending a prompt failed")
            self._prompt_failed(sid, mid, text, f"{exc.__class__.__name__}: {exc}", posted=posted)

    def _prompt_failed(
        self, sid: str | None, mid: str, text: str, error: str, *, posted: bool = True
    ) -> None:
        """The server certainly did not take the prompt: say so, and give the text back."""
        if sid and posted:
            self.observe(observations.prompt_refused(sid, mid, error))
        restored = self._restore(sid, text)
        key = "toast.send_failed" if restored else "toast.send_failed_kept"
        self.toast(t(key, error=error), severity="error", timeout=10)

    async def _confirm_prompt(self, sid: str, directory: str | None, mid: str, text: str, error: str) -> None:
        """The prompt was sent but no answer came: find out whether the server has it.

        The message id is ours, so the server's copy can be looked up. Until then the
        turn shows "sending…" (the store keeps it open); only a server that answers
        and does not have the message makes it "not sent".
        """
        self.observe(observations.prompt_uncertain(sid, mid, "unknown"))
        self.toast(t("toast.send_checking", error=error), severity="warning", timeout=10)
        missing = 0
        delay = 1.0
        deadline = time.monotonic() + CONFIRM_FOR
        while True:
            turn = self._turn(sid, mid)
            if turn is not None and turn.user is not None:
                break  # the stream (or a resync) already showed the server's copy
            try:
                await self.client.raw_message(sid, mid, directory)
                break
            except NotFoundError:
                missing += 1
                if missing >= 2:  # twice, a moment apart: not a request still in flight
                    self._prompt_failed(sid, mid, text, t("send.not_taken"))
                    return
            except OpencodeError:
                pass  # still frozen or down: ask again
            if time.monotonic() > deadline:
                self.observe(observations.prompt_uncertain(sid, mid, "gave_up"))
                self.toast(t("toast.send_unknown"), severity="warning", timeout=15)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 8.0)
        self.observe(observations.prompt_confirmed(sid, mid))
        self.toast(t("toast.send_confirmed"))

    def _turn(self, sid: str, mid: str) -> Any:
        th = self.store.threads.get(sid)
        return th.turns.get(mid) if th is not None else None

    def _restore(self, sid: str | None, text: str) -> bool:
        """A refused prompt goes back into the input, unless the user typed since.

        Returns whether it is in the input now (otherwise it is in the prompt history,
        and in the thread's draft if that was empty): the toast must not claim more.
        """
        key = self._draft_key(sid)
        restored = False
        if sid == self.current_id and not self.prompt.text.strip():
            self.prompt.load_text(text)
            self.prompt.move_cursor(self.prompt.document.end)
            restored = True
        elif not self.drafts.get(key):
            self.drafts.set(key, text)
        self._save_drafts()
        return restored

    def model_for(self, th: Thread, new_thread: bool = False) -> tuple[str, str] | None:
        """The model to send with a prompt: the thread's own choice, if it has one."""
        if th.id not in self._models and not th.order:
            # A new thread: the model picked for it, else the default shown in the
            # status line (sent, as opencode's TUI does, so that what was shown is used;
            # an existing thread without loaded turns keeps the server's choice).
            chosen = self._next_model or (self.default_model if new_thread else None)
            self._next_model = None
            if chosen is not None:
                self._models[th.id] = chosen
        return self._models.get(th.id)

    def chosen_model(self) -> str | None:
        chosen = self._models.get(self.current_id or "") if self.current_id else self._next_model
        return f"{chosen[0]}/{chosen[1]}" if chosen else None

    def action_choose_model(self) -> None:
        from t3tui.app.providers import ModelScreen

        th = self.current_thread
        current = self.chosen_model() or (th.model if th is not None else None)

        def chosen(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            if self.current_id:
                self._models[self.current_id] = choice
            else:
                self._next_model = choice
            self.request_frame()
            self.toast(t("toast.model", model=f"{choice[0]}/{choice[1]}"))

        # The picker opens at once and says it is loading: keys typed meanwhile land
        # in its filter, not in the prompt.
        screen = ModelScreen(self.store.providers, current)
        self.push_screen(screen, chosen)
        if self.store.providers is None:
            self._load_models(screen)

    @work(group="providers", exit_on_error=False)
    async def _load_models(self, screen: Any) -> None:
        try:
            await self.refetch_providers()
        except OpencodeError as exc:
            screen.set_error(exc.message)
            return
        if self.store.providers is not None:
            screen.set_providers(self.store.providers)

    def action_providers(self) -> None:
        from t3tui.app.providers import ProvidersScreen

        if not isinstance(self.screen, ProvidersScreen):
            self.push_screen(ProvidersScreen())

    # -- providers: connect, disconnect, deferred refresh -----------------------------

    async def refetch_providers(self) -> None:
        data = await self.client.raw_providers(self.directory)
        self.observe(observations.snapshot("providers", None, data))
        from t3tui.app.providers import ProvidersScreen

        for screen in self.screen_stack:
            if isinstance(screen, ProvidersScreen):
                screen.refresh_rows()

    @work(group="auth", exit_on_error=False)
    async def connect_api_key(self, provider_id: str, name: str, key: str) -> None:
        try:
            await self.client.set_api_key(provider_id, key)
        except (OpencodeError, ValueError) as exc:
            message = exc.message if isinstance(exc, OpencodeError) else str(exc)
            self.toast(
                t("toast.connect_failed", provider=name, error=message),
                severity="error",
                timeout=10,
            )
            return
        finally:
            del key
        await self.provider_changed(provider_id, name, "connect")

    @work(group="auth", exit_on_error=False)
    async def disconnect_provider(self, provider_id: str, name: str) -> None:
        try:
            await self.client.remove_auth(provider_id)
        except OpencodeError as exc:
            failure = t("toast.disconnect_failed", provider=name, error=exc.message)
            self.toast(failure, severity="error", timeout=10)
            return
        await self.provider_changed(provider_id, name, "disconnect")

    async def provider_changed(self, provider_id: str, name: str, op: str) -> None:
        """An auth change reaches the model only after a dispose, and on opencode a
        dispose aborts every running turn: the coordinator decides when (app/refresh.py)."""
        with contextlib.suppress(OpencodeError):
            await self.refetch_providers()
        item = RefreshItem(provider_id, name, "connect" if op == "connect" else "disconnect")
        self._carry_out(self.provider_refresh.changed(item, self.store.any_active(), time.monotonic()))

    def _refresh_providers_if_due(self) -> None:
        store = self.store
        if store.disposed_count != self._disposed_seen:
            self._disposed_seen = store.disposed_count
            self._carry_out(self.provider_refresh.disposed())
        self._carry_out(self.provider_refresh.tick(store.any_active(), time.monotonic()))

    def _carry_out(self, commands: list[refresh.Command]) -> None:
        for cmd in commands:
            if isinstance(cmd, refresh.Dispose):
                self._run_dispose()
            elif isinstance(cmd, refresh.Toast):
                self._toast_refresh(cmd.item.fields(), cmd.deferred)
            elif isinstance(cmd, refresh.Failed):
                self.toast(t("toast.refresh_failed", error=cmd.error), severity="error", timeout=10)
            elif isinstance(cmd, refresh.Log):
                self.observe(cmd.observation)
            elif isinstance(cmd, refresh.Resync):
                self._after_dispose()

    @work(group="dispose", exit_on_error=False)
    async def _run_dispose(self) -> None:
        try:
            result = await self.client.global_dispose()
        except OpencodeError as exc:
            self._carry_out(self.provider_refresh.failed(exc.message, time.monotonic()))
            return
        self._carry_out(self.provider_refresh.answered(result.deferred, result.model_dump()))

    def _toast_refresh(self, item: dict[str, str], deferred: bool) -> None:
        op = "connected" if item.get("op") == "connect" else "disconnected"
        key = f"toast.provider_{op}_deferred" if deferred else f"toast.provider_{op}"
        self.toast(t(key, provider=item.get("provider") or item.get("providerID") or "?"), timeout=8)

    @work(group="after-dispose", exclusive=True, exit_on_error=False)
    async def _after_dispose(self) -> None:
        """A dispose happened: refetch providers and have the stream resync (in its own
        loop, between events: never from the side, see EventStream.request_resync)."""
        self.stream.request_resync()
        with contextlib.suppress(OpencodeError):
            await self.refetch_providers()
        self._load_default_model()

    # -- interrupt --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "interrupt":
            if self.screen.query(HelpPanel):
                return True  # Esc hides the keys panel first
            if isinstance(self.focused, Input) and self.focused.has_class("reject-input", "custom-input"):
                return False  # there Esc means "back" (see the panels)
            th = self.current_thread
            return th is not None and th.active
        if action in ("prev_thread", "next_thread"):
            return bool(self.store.threads)
        return True

    def action_toggle_keys(self) -> None:
        """Show the keys panel, or hide it if it is shown (Esc hides it too)."""
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
            localize_bindings(self)
        else:
            self.action_show_help_panel()
            localize_bindings(self, {"interrupt": "bind.hide_keys"})
        self.refresh_bindings()

    def action_command_palette(self) -> None:
        """Textual's palette, with a placeholder in the user's language."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(placeholder=t("palette.placeholder"), id="--command-palette"))

    def action_interrupt(self) -> None:
        if self.screen.query(HelpPanel):
            self.action_toggle_keys()
            return
        th = self.current_thread
        if th is None or not th.active:
            return
        now = time.monotonic()
        if self._armed_at is not None and now - self._armed_at <= INTERRUPT_WINDOW:
            self._disarm()
            self._interrupt(th.id)
            return
        self._armed_at = now
        localize_bindings(self, {"interrupt": "bind.interrupt_again"})
        self.main.query_one("#hint", Literal).show(t("hint.esc_again"))
        self.refresh_bindings()

    def _disarm(self) -> None:
        self._armed_at = None
        localize_bindings(self)
        self.main.query_one("#hint", Literal).show("")
        self.refresh_bindings()

    @work(group="interrupt", exit_on_error=False)
    async def _interrupt(self, sid: str) -> None:
        th = self.store.threads.get(sid)
        if th is None:
            return
        self.observe(observations.interrupt(sid, th.directory))
        try:
            await self.client.abort(sid, th.directory)
        except OpencodeError as exc:
            self.observe(observations.interrupt_answered(sid, exc.message))
            self.toast(t("toast.interrupt_failed", error=exc.message), severity="error", timeout=10)
            return
        self.observe(observations.interrupt_answered(sid))

    # -- permissions and questions ----------------------------------------------------

    @on(PermissionPanel.Replied)
    def _perm_replied(self, event: PermissionPanel.Replied) -> None:
        self._answered.add(event.request.id)
        self.request_frame()
        self._reply_permission(event.request.id, event.request.sessionID, event.reply, event.message)

    @work(group="reply", exit_on_error=False)
    async def _reply_permission(self, rid: str, sid: str, reply: str, message: str | None) -> None:
        th = self.store.threads.get(sid)
        try:
            await self.client.reply_permission(rid, th.directory if th else None, reply, message)
        except OpencodeError as exc:
            self._answered.discard(rid)
            self.request_frame()
            self.toast(t("toast.reply_failed", error=exc.message), severity="error", timeout=10)

    @on(QuestionPanel.Answered)
    def _q_answered(self, event: QuestionPanel.Answered) -> None:
        self._answered.add(event.request.id)
        self.request_frame()
        self._reply_question(event.request.id, event.request.sessionID, event.answers)

    @on(QuestionPanel.Rejected)
    def _q_rejected(self, event: QuestionPanel.Rejected) -> None:
        self._answered.add(event.request.id)
        self.request_frame()
        self._reply_question(event.request.id, event.request.sessionID, None)

    @work(group="reply", exit_on_error=False)
    async def _reply_question(self, rid: str, sid: str, answers: list[list[str]] | None) -> None:
        th = self.store.threads.get(sid)
        directory = th.directory if th else None
        try:
            if answers is None:
                await self.client.reject_question(rid, directory)
            else:
                await self.client.reply_question(rid, directory, answers)
        except OpencodeError as exc:
            self._answered.discard(rid)
            self.request_frame()
            self.toast(t("toast.reply_failed", error=exc.message), severity="error", timeout=10)

    # -- language and palette ---------------------------------------------------------

    def localize_node(self, root: DOMNode) -> None:
        localize_bindings(root)
        for node in root.query("*"):
            if node._bindings.key_to_bindings:
                localize_bindings(node)

    def localize(self) -> None:
        self.localize_node(self)
        self.localize_node(self.screen)
        self.prompt.placeholder = t("prompt.placeholder")
        self.refresh_bindings()

    async def set_language(self, lang: str) -> None:
        t.set_language(lang)
        self.localize()
        self.sidebar._signature = ()
        await self.thread_view.show_thread(self.current_thread, self._empty_text())
        for panel in (self.main.query_one(PermissionPanel), self.main.query_one(QuestionPanel)):
            request = panel.request
            panel.request = None
            if request is not None:
                panel.show_request(request)  # type: ignore[arg-type]
        self.request_frame()
        self.toast(t("toast.language", name=LANGUAGE_NAMES.get(lang, lang)))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield SystemCommand(t("cmd.new_thread"), t("cmd.new_thread_help"), self.action_new_thread)
        yield SystemCommand(t("cmd.next_thread"), t("cmd.next_thread_help"), self.action_next_thread)
        yield SystemCommand(t("cmd.prev_thread"), t("cmd.prev_thread_help"), self.action_prev_thread)
        th = self.current_thread
        if th is not None and th.active:
            yield SystemCommand(t("cmd.interrupt"), t("cmd.interrupt_help"), lambda: self._interrupt(th.id))
        yield SystemCommand(t("cmd.focus_prompt"), t("cmd.focus_prompt_help"), self.prompt.focus)
        yield SystemCommand(t("cmd.focus_sidebar"), t("cmd.focus_sidebar_help"), self.sidebar.focus)
        yield SystemCommand(t("cmd.reconnect"), t("cmd.reconnect_help"), self.reconnect_now)
        yield SystemCommand(t("cmd.providers"), t("cmd.providers_help"), self.action_providers)
        yield SystemCommand(t("cmd.choose_model"), t("cmd.choose_model_help"), self.action_choose_model)
        for lang in available():
            if catalog(lang):
                name = LANGUAGE_NAMES.get(lang, lang)
                yield SystemCommand(
                    t("cmd.language", name=name),
                    t("cmd.language_help", name=name),
                    lambda lang=lang: self.set_language(lang),
                )
        yield SystemCommand(t("cmd.theme"), t("cmd.theme_help"), self.action_change_theme)
        yield SystemCommand(t("cmd.keys"), t("cmd.keys_help"), self.action_toggle_keys)
        yield SystemCommand(t("cmd.quit"), t("cmd.quit_help"), self.action_quit)
