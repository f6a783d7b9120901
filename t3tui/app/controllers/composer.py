"""What the prompt's text means: ``@`` mentions and ``/`` commands completed as you type, and
where Enter sends it (a prompt, a server command, a shell command, or one of t3tui's own).

The behaviour follows opencode's TUI (docs/dev/opencode-prompt-1.18.33.md): the list
opens after ``@`` or a leading ``/``; Up and Down move, Enter and Tab accept (Tab on a
directory goes into it), Esc closes. A ``/word`` that is no command is sent as text only
after the user says so: ``/undo`` must never reach the model as a sentence.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from t3tui.app.slash import OWN_COMMANDS, OwnCommand, own_command
from t3tui.app.widgets.completion import Item
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError
from t3tui.state.prompt import (
    Mention,
    ServerCommand,
    Trigger,
    commands_from,
    fuzzy_score,
    mention_parts,
    occurrences,
    slash,
    split_range,
    subagents,
    trigger,
)

if TYPE_CHECKING:
    from t3tui.app.app import T3App
    from t3tui.app.controllers.server import ServerLink

log = logging.getLogger(__name__)

SEARCH_DELAY = 0.06  # seconds of typing to wait before asking the server for files
MAX_FILES = 20


class Composer:
    """The completion list, the mentions picked, the server's commands, and Enter's routing."""

    def __init__(self, app: T3App) -> None:
        self.app = app
        self.mentions: list[Mention] = []  # files picked (or typed and found) for this prompt
        self.agent_mentions: list[str] = []
        self.trigger: Trigger | None = None
        self.dismissed: tuple[str, int] | None = None  # Esc closed the list for this trigger
        self.commands: dict[str, list[ServerCommand]] = {}  # server URL -> its commands
        self.searching = False

    # -- the server's commands ------------------------------------------------------------

    def server_commands(self, link: ServerLink) -> list[ServerCommand]:
        return self.commands.get(link.client.base_url, [])

    def load_commands(self, link: ServerLink) -> None:
        self.app.run_worker(
            self._load_commands(link), group=link.group("commands"), exclusive=True, exit_on_error=False
        )

    async def _load_commands(self, link: ServerLink) -> bool:
        try:
            raw = await link.client.raw_commands(link.directory)
        except OpencodeError as exc:
            log.info("commands unknown: %s", exc.message)
            return False
        self.commands[link.client.base_url] = commands_from(raw)
        if self.trigger is not None and self.trigger.kind == "/":
            self._show_commands(self.trigger)
        return True

    # -- completion -----------------------------------------------------------------------

    def changed(self) -> None:
        """The prompt's text or cursor moved: open, fill or close the list."""
        main = getattr(self.app, "main", None)
        if main is None or not main.ready:
            return  # the app is quitting: its widgets are gone
        prompt, popup = main.prompt, main.completion
        if prompt.shell or prompt.read_only:
            self._close()
            return
        text = prompt.text
        if text == prompt.loaded:
            self._close()
            return
        prompt.loaded = None
        cursor = prompt.document.get_index_from_location(prompt.cursor_location)
        trig = trigger(text, cursor)
        if trig is None or (self.dismissed is not None and self.dismissed == (trig.kind, trig.start)):
            self._close(keep_dismissed=trig is not None)
            return
        self.dismissed = None
        if trig == self.trigger and popup.open:
            return
        self.trigger = trig
        if trig.kind == "/":
            self._show_commands(trig)
            link = self.app.threads.link
            if not trig.query or not self.server_commands(link):
                self.load_commands(link)  # once per "/": a command the user just made shows
        else:
            self._show_agents_then_search(trig)

    def _close(self, keep_dismissed: bool = False) -> None:
        self.trigger = None
        if not keep_dismissed:
            self.dismissed = None
        popup = self.app.main.completion
        if popup.open:
            popup.hide()

    def _show_commands(self, trig: Trigger) -> None:
        link = self.app.threads.link
        items: list[tuple[int, Item]] = []
        for cmd in OWN_COMMANDS:
            score = max(fuzzy_score(trig.query, n) for n in (cmd.name, *cmd.aliases))
            if score:
                items.append((score, Item("own", cmd.name, "/" + cmd.name, t(cmd.help_key))))
        for cmd in self.server_commands(link):
            if cmd.source == "skill" or own_command(cmd.name) is not None:
                continue
            name = f"{cmd.name}:mcp" if cmd.source == "mcp" else cmd.name
            score = fuzzy_score(trig.query, cmd.name)
            if score:
                items.append((score, Item("command", cmd.name, "/" + name, cmd.description)))
        items.sort(key=lambda pair: (-pair[0], pair[1].label))
        self.app.main.completion.show_items("/", [item for _, item in items], t("complete.no_match"))

    def _show_agents_then_search(self, trig: Trigger) -> None:
        self.app.main.completion.show_items("@", self._agent_items(trig), t("complete.searching"))
        link = self.app.threads.link
        self.app.run_worker(self._search(link, trig), group="find-files", exclusive=True, exit_on_error=False)

    def _agent_items(self, trig: Trigger) -> list[Item]:
        base, _, _ = split_range(trig.query)
        found = []
        for agent in subagents(self.app.agents.of(self.app.threads.link)):
            if fuzzy_score(base, agent.name):
                found.append(Item("agent", agent.name, "@" + agent.name, agent.description))
        return found

    async def _search(self, link: ServerLink, trig: Trigger) -> None:
        await asyncio.sleep(SEARCH_DELAY)  # a debounce: a fast typist asks once
        base, _, _ = split_range(trig.query)
        self.searching = True
        try:
            paths = await link.client.find_files(base, self.app.threads.directory, limit=MAX_FILES)
        except OpencodeError as exc:
            if self.trigger == trig:
                self.app.main.completion.show_items(
                    "@", self._agent_items(trig), t("complete.search_failed", error=exc.message)
                )
            return
        finally:
            self.searching = False
        if self.trigger != trig:
            return  # typed on since: a newer search answers
        items = self._agent_items(trig) + [
            Item("dir" if p.endswith("/") else "file", p, "@" + p) for p in paths if p != "/"
        ]
        self.app.main.completion.show_items("@", items, t("complete.no_files"))

    def key(self, key: str) -> bool:
        """A key pressed in the prompt while the list is open; True if the list took it."""
        popup = self.app.main.completion
        if not popup.open:
            return False
        if key in ("up", "shift+tab", "ctrl+p"):
            popup.move(-1)
            return True
        if key in ("down", "ctrl+n"):
            popup.move(1)
            return True
        if key == "escape":
            if self.trigger is not None:
                self.dismissed = (self.trigger.kind, self.trigger.start)
            self._close(keep_dismissed=True)
            return True
        if key in ("enter", "tab"):
            item = popup.selected
            if item is None:
                self._close()
                return key == "tab"  # Enter with nothing to pick sends (and asks about a /word)
            self.accept(item, drill=key == "tab")
            return True
        return False

    def accept(self, item: Item, drill: bool = False) -> None:
        """Put the picked entry into the prompt (or run it, for t3tui's own commands)."""
        trig = self.trigger
        prompt = self.app.main.prompt
        if trig is None:
            return
        if item.kind == "own":
            self._replace(trig.start, trig.end, "")
            self._close()
            self.run_own(own_command(item.value), "")  # type: ignore[arg-type]
            return
        if item.kind == "command":
            self._replace(0, len(prompt.text.split("\n", 1)[0]), f"/{item.value} ")
            self._close()
            return
        if item.kind == "agent":
            self._replace(trig.start, trig.end, f"@{item.value} ")
            if item.value not in self.agent_mentions:
                self.agent_mentions.append(item.value)
            self._close()
            return
        if item.kind == "dir" and drill:
            self._replace(trig.start, trig.end, f"@{item.value}")
            self.trigger = None
            self.changed()  # lists what is inside
            return
        _, start, end = split_range(trig.query)
        mention = Mention(item.value, start, end) if item.kind == "file" else Mention(item.value)
        self._replace(trig.start, trig.end, mention.value + " ")
        if mention not in self.mentions:
            self.mentions.append(mention)
        self._close()

    def _replace(self, start: int, end: int, text: str) -> None:
        prompt = self.app.main.prompt
        doc = prompt.document
        after = prompt.text[end : end + 1]
        if text.endswith(" ") and after[:1].isspace():
            text = text[:-1]  # no second space
        a, b = doc.get_location_from_index(start), doc.get_location_from_index(end)
        result = prompt.replace(text, a, b, maintain_selection_offset=False)
        prompt.move_cursor(result.end_location)

    # -- t3tui's own commands -----------------------------------------------------------

    def run_own(self, cmd: OwnCommand, args: str) -> None:
        app = self.app
        actions = {
            "new": lambda: app.thread_list.new_thread(args),
            "undo": app.undo.undo,
            "rename": lambda: app.thread_ops.rename(title=args),
            "redo": app.undo.redo,
            "fork": app.thread_ops.fork,
            "compact": app.thread_ops.compact,
            "models": app.action_choose_model,
            "agents": app.agents.pick,
            "variants": app.action_cycle_variant,
            "editor": lambda: app.run_action("open_editor"),
            "copy": app.copier.copy,
            "export": lambda: app.exporter.export(args),
            "details": lambda: app.run_action("toggle_details"),
            "timestamps": lambda: app.run_worker(app.view_options.toggle_timestamps(), exit_on_error=False),
            "theme": app.action_change_theme,
            "lang": app.language.pick,
            "providers": app.action_providers,
            "help": self.help,
            "quit": lambda: app.run_action("quit"),
        }
        actions[cmd.name]()

    def help(self) -> None:
        """``/help``: the keys panel, and the commands named in a toast."""
        if not self.app.screen.query("HelpPanel"):
            self.app.action_toggle_keys()
        names = " ".join("/" + c.name for c in OWN_COMMANDS)
        self.app.toast(t("toast.help", commands=names), timeout=12)

    # -- Enter ----------------------------------------------------------------------------

    def submit(self, text: str) -> None:
        """Enter in the prompt: decide what the text is, and send or run it."""
        prompt = self.app.main.prompt
        if prompt.shell:
            if text.strip():
                self.app.sending.submit(text, shell=True)
                prompt.shell = False
            return
        parsed = slash(text)
        if parsed is not None:
            name, args = parsed
            own = own_command(name)
            if own is not None:
                self.app.threads.drafts.remember(prompt.expanded(text))
                prompt.load_text("")
                self.run_own(own, args)
                return
            self.app.run_worker(self._route_slash(text, name, args), group="route", exit_on_error=False)
            return
        self._send_prompt(text)

    async def _route_slash(self, text: str, name: str, args: str) -> None:
        link = self.app.threads.link
        if not self.server_commands(link):
            await self._load_commands(link)  # just started: ask before deciding
        if any(c.name == name for c in self.server_commands(link)):
            self.app.sending.submit(text, command=(name, args), parts=self._file_parts(text))
            self._forget()
            return
        from t3tui.app.screens.dialogs import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self._send_prompt(text)

        question = t("confirm.unknown_command", name="/" + name)
        self.app.push_screen(ConfirmScreen(question), answered)

    def _send_prompt(self, text: str) -> None:
        self.app.sending.submit(text, parts=self._file_parts(text), resolve=self._unresolved(text))
        self._forget()

    def _file_parts(self, text: str) -> list[dict[str, object]]:
        """The mentions' parts, placed in the text as sent (pastes expanded)."""
        directory = self.app.threads.directory
        full = self.app.main.prompt.expanded(text)
        return mention_parts(full, directory, self.mentions, self.agent_mentions)

    def _unresolved(self, text: str) -> list[str]:
        """``@words`` typed without picking them from the list: looked up when sent."""
        known = {m.value for m in self.mentions} | {f"@{a}" for a in self.agent_mentions}
        words = []
        for word in text.split():
            if word.startswith("@") and len(word) > 1 and word not in known and occurrences(text, word):
                words.append(word)
        return words

    def _forget(self) -> None:
        self.mentions = []
        self.agent_mentions = []
        self._close()
