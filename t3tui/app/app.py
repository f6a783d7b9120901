"""The terminal app: it wires the servers, the main screen and the controllers together.

Data flows one way: each server's event stream feeds observations to its store; a 30 Hz
frame repaints what changed; user actions go to the client and, as observations, to the
store (which is how the interrupt and the sent prompt show at once). Each concern lives
in a small controller (``controllers/``); the App holds them, the keys and the workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App
from textual.command import CommandPalette
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.widgets import HelpPanel, Input, OptionList, TextArea
from textual.worker import Worker

from t3tui import logs
from t3tui.app import gcpolicy, keys
from t3tui.app.commands import Commands
from t3tui.app.controllers.agents import Agents
from t3tui.app.controllers.attention import Attention, AttentionSettings
from t3tui.app.controllers.clipboard import Copier
from t3tui.app.controllers.composer import Composer
from t3tui.app.controllers.connection import Connection
from t3tui.app.controllers.diffs import Diffs
from t3tui.app.controllers.editor import Editor
from t3tui.app.controllers.export import Exporter
from t3tui.app.controllers.frames import Frames
from t3tui.app.controllers.interrupt import Interrupt
from t3tui.app.controllers.language import Language
from t3tui.app.controllers.models import Models
from t3tui.app.controllers.providers import Providers
from t3tui.app.controllers.requests import Requests
from t3tui.app.controllers.sending import Sending
from t3tui.app.controllers.server import ServerLink
from t3tui.app.controllers.status import Status
from t3tui.app.controllers.subagents import Subagents
from t3tui.app.controllers.thread_list import ThreadList
from t3tui.app.controllers.thread_ops import ThreadOps
from t3tui.app.controllers.threads import Threads
from t3tui.app.controllers.undo import Undo
from t3tui.app.controllers.view_options import ViewOptions
from t3tui.app.controllers.work import Work
from t3tui.app.drafts import Drafts
from t3tui.app.screens.main import MainScreen
from t3tui.app.switcher import PaletteThreads
from t3tui.app.widgets.prompt import PromptArea
from t3tui.app.widgets.request_panels import PermissionPanel, QuestionPanel
from t3tui.app.widgets.sidebar import MORE
from t3tui.eventlog import EventLogWriter
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeClient
from t3tui.state.store import Store


class T3App(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "t3tui"
    BINDINGS = keys.APP_BINDINGS
    COMMANDS = {Commands, PaletteThreads}
    DEFAULT_MODE = "main"

    # What Esc says in the footer: "Interrupt", "Esc again to interrupt", "Hide keys".
    escape_label: var[str] = var("bind.interrupt", bindings=True)
    # What the footer's keys depend on: the open thread runs; there are threads at all.
    footer_state: var[tuple[bool, ...] | None] = var(None, bindings=True)

    main: MainScreen  # made when the app starts (its mode's screen)

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
        attention: AttentionSettings | None = None,
    ) -> None:
        t.set_language(lang)
        super().__init__()
        keys.relabel(self)
        self.clock = clock
        self.cursor_blink = cursor_blink
        self.notices = list(notices or [])
        self._theme_name = theme
        self._freeze = gcpolicy.FreezeAfterLoad(self.set_timer)
        self.frames = Frames(self)
        self.threads = Threads(self, Drafts(state_dir), initial_thread)
        self.models = Models(self)
        self.agents = Agents(self)
        self.composer = Composer(self)
        self.undo = Undo(self)
        self.thread_ops = ThreadOps(self)
        self.thread_list = ThreadList(self)
        self.editor = Editor(self)
        self.copier = Copier(self)
        self.diffs = Diffs(self)
        self.subagents = Subagents(self)
        self.exporter = Exporter(self)
        self.view_options = ViewOptions(self)
        self.work = Work(self)
        self.language = Language(self)
        self.sending = Sending(self)
        self.providers = Providers(self)
        self.interrupt = Interrupt(self)
        self.requests = Requests(self)
        self.status = Status(self, server_log)
        self.connection = Connection(self)
        self.attention = Attention(self, attention)
        self.links: list[ServerLink] = []
        self.add_server(
            client, directory=directory, store=store, capture=capture, connect=connect, watchdog=watchdog
        )
        self.add_mode("main", self._main_screen)
        if keymap:
            self.set_keymap(keymap)

    # -- servers ------------------------------------------------------------------------

    def add_server(
        self,
        client: OpencodeClient,
        *,
        directory: str,
        store: Store | None = None,
        capture: EventLogWriter | None = None,
        connect: bool = True,
        watchdog: float = 25.0,
    ) -> ServerLink:
        """Follow a server (before the app starts). t3tui follows one today; a later
        issue shows several in one window."""
        link = ServerLink(
            client,
            directory=directory,
            store=store if store is not None else Store(clock=self.clock),
            observed=self._observed,
            viewed=self._viewed_on,
            capture=capture,
            connect=connect,
            watchdog=watchdog,
            on_state=lambda _stream: self.frames.request(),
        )
        self.links.append(link)
        return link

    @property
    def link(self) -> ServerLink:
        """The server a new thread starts on (the first; a later issue lets the user pick)."""
        return self.links[0]

    def link_of(self, session_id: str | None) -> ServerLink:
        """The server that holds a thread (a thread no store knows yet: the first)."""
        for link in self.links:
            if link.has(session_id):
                return link
        return self.link

    def _viewed_on(self, link: ServerLink) -> list[str]:
        """The threads on screen that ``link``'s server holds (a resync fetches them)."""
        sid = self.threads.current_id
        return [sid] if sid and self.link_of(sid) is link else []

    def _observed(self, link: ServerLink, obs: dict[str, Any]) -> None:
        """Every observation, once its store has it: a large load freezes the collector
        (see gcpolicy), and the frame learns what to repaint."""
        self._freeze.observed(obs)
        self.frames.observed(obs)
        self.attention.observed(obs)

    # -- start and stop -----------------------------------------------------------------

    def _main_screen(self) -> MainScreen:
        self.main = MainScreen(
            self.clock,
            self.threads.drafts.prompt_history,
            cursor_blink=self.cursor_blink,
            started=self._started,
        )
        return self.main

    async def _started(self) -> None:
        """The main screen's widgets exist: show the thread, connect, and tune for the long run."""
        threads = self.threads
        self.main.prompt.load_text(threads.drafts.get(threads.draft_key()))
        self.main.prompt.key_hook = self.composer.key
        self.agents.dress()
        self.subagents.attach()
        self.view_options.apply()
        self.attention.apply()
        await self.main.thread_view.show_thread(threads.current, threads.empty_text())
        self.frames.start()
        for link in self.links:
            if link.connect:
                self.connection.start(link)
        if self._theme_name:
            if self._theme_name in self.available_themes:
                self.theme = self._theme_name
            else:
                self.notices.append(t("toast.bad_theme", theme=self._theme_name))
        for notice in self.notices:
            self.toast(notice, severity="warning", timeout=15)
        threads.warn_unsaved()
        self.frames.request()
        await self.frames.frame()
        gcpolicy.tune()
        self.call_after_refresh(self._freeze.now)
        self.set_timer(0.2, self.main.warm_markdown)

    async def on_unmount(self) -> None:
        self.threads.save_draft()
        for link in self.links:
            link.stream.stop()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        self.connection.worker_changed(event.worker)

    def toast(
        self, message: str, *, severity: SeverityLevel = "information", timeout: float | None = None
    ) -> None:
        """A notification whose text is shown as it is (messages carry server text), less
        any secret value t3tui knows (a password or key echoed in an error)."""
        self.notify(logs.scrub(message), markup=False, severity=severity, timeout=timeout)

    # -- keys ---------------------------------------------------------------------------

    def watch_escape_label(self, label: str) -> None:
        keys.relabel(self, {"interrupt": label})

    def sync_footer(self) -> None:
        """The footer's keys depend on state (Interrupt only while the thread runs)."""
        th, sub = self.threads.current, self.subagents
        has_threads = any(link.store.threads for link in self.links)
        self.footer_state = (th is not None and th.active, has_threads, sub.can_enter(), sub.can_leave())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "interrupt":
            if self.screen.query(HelpPanel):
                return True  # Esc hides the keys panel first
            if isinstance(self.focused, Input) and self.focused.has_class("reject-input", "custom-input"):
                return False  # there Esc means "back" (see the panels)
            th = self.threads.current
            return th is not None and th.active
        if action == "cockpit":
            return self.attention.any_pending()  # F9 shows while something waits
        if action in ("prev_thread", "next_thread"):
            return any(link.store.threads for link in self.links)
        if action in ("enter_subagent", "leave_subagent"):  # Alt+→ and Alt+← show when they lead somewhere
            return self.subagents.can_enter() if action == "enter_subagent" else self.subagents.can_leave()
        return True

    async def action_new_thread(self, directory: str | None = None) -> None:
        """Ctrl+N: a new thread in the open thread's directory (again: choose where)."""
        await self.threads.new(directory)
        self.main.prompt.focus()

    async def action_prev_thread(self) -> None:
        await self.threads.step(-1)

    async def action_next_thread(self) -> None:
        await self.threads.step(1)

    def action_toggle_focus(self) -> None:
        self.main.toggle_focus()

    def action_switch_thread(self) -> None:
        """Ctrl+L: the quick switcher (every thread, found by title or directory)."""
        self.thread_list.switch()

    def action_toggle_sidebar(self) -> None:
        """F4: hide the sidebar (the thread takes the width), or show it again."""
        self.thread_list.toggle_sidebar()

    def action_cockpit(self) -> None:
        """F9: every pending permission and question, answered without switching threads."""
        self.attention.open_cockpit()

    def action_work_panel(self) -> None:
        self.work.toggle()

    def action_interrupt(self) -> None:
        self.interrupt.press()

    def action_choose_model(self) -> None:
        self.models.choose()

    def action_providers(self) -> None:
        self.providers.open_screen()

    def action_cycle_agent(self, step: int) -> None:
        """Tab / Shift+Tab in the prompt: the next (previous) primary agent for this thread."""
        self.agents.cycle(step)

    def action_rename_thread(self) -> None:
        """Ctrl+R in the sidebar: rename the thread under its cursor."""
        self.thread_ops.rename(self.main.sidebar.pointed)

    def action_delete_thread(self) -> None:
        """Ctrl+D in the sidebar: delete the thread under its cursor (after asking)."""
        self.thread_ops.delete(self.main.sidebar.pointed)

    def action_fork_thread(self) -> None:
        """F8: fork the open thread from a prompt picked in its timeline."""
        self.thread_ops.fork()

    async def action_enter_subagent(self) -> None:
        await self.subagents.enter()

    async def action_leave_subagent(self) -> None:
        await self.subagents.leave()

    def action_show_diff(self) -> None:
        """F7: the diff of the edit card clicked last, else the whole thread's changes."""
        self.diffs.key()

    def action_copy_reply(self) -> None:
        self.copier.copy()

    async def action_toggle_details(self) -> None:
        await self.view_options.toggle_details()

    def action_cycle_variant(self) -> None:
        """Ctrl+T: the model's next reasoning-effort variant (none after the last)."""
        self.models.cycle_variant()

    async def action_open_editor(self) -> None:
        """Edit the prompt in $VISUAL or $EDITOR; the text comes back when it exits."""
        await self.editor.open()

    def action_toggle_keys(self) -> None:
        """Show the keys panel, or hide it if it is shown (Esc hides it too)."""
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
            self.escape_label = "bind.interrupt"
        else:
            self.action_show_help_panel()
            self.escape_label = "bind.hide_keys"

    def action_command_palette(self) -> None:
        """Textual's palette, with a placeholder in the user's language."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(placeholder=t("palette.placeholder"), id="--command-palette"))

    # -- what the main screen's widgets say ---------------------------------------------

    @on(OptionList.OptionSelected, "#sidebar")
    async def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == MORE:
            self.thread_list.more()
        elif event.option.id:
            await self.threads.open(event.option.id)
            self.main.prompt.focus()

    @on(PromptArea.Submitted)
    def _submitted(self, event: PromptArea.Submitted) -> None:
        self.composer.submit(event.text)

    @on(TextArea.Changed, "#prompt")
    @on(TextArea.SelectionChanged, "#prompt")
    def _prompt_moved(self) -> None:
        self.composer.changed()

    @on(PromptArea.ModeChanged)
    def _prompt_mode(self) -> None:
        self.main.localize()
        self.agents.dress()
        self.composer.changed()

    @on(PermissionPanel.Replied)
    def _permission_replied(self, event: PermissionPanel.Replied) -> None:
        self.requests.reply_permission(event.request.id, event.request.sessionID, event.reply, event.message)

    @on(QuestionPanel.Answered)
    def _question_answered(self, event: QuestionPanel.Answered) -> None:
        self.requests.reply_question(event.request.id, event.request.sessionID, event.answers)

    @on(QuestionPanel.Rejected)
    def _question_rejected(self, event: QuestionPanel.Rejected) -> None:
        self.requests.reply_question(event.request.id, event.request.sessionID, None)
