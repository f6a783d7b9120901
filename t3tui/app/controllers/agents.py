"""The agent each thread runs with (build, plan, …): cycled with Tab, shown, and sent with each prompt.

As in opencode's TUI: Tab and Shift+Tab cycle the primary agents of ``GET /agent`` (not
subagents, not hidden ones); a thread opened from history takes the agent of its last
prompt; the agent colours the prompt's border and names itself in its title.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError
from t3tui.state.prompt import PALETTE_SIZE, Agent, agents_from, colour_index, primary_agents, step
from t3tui.state.store import Thread

if TYPE_CHECKING:
    from t3tui.app.app import T3App
    from t3tui.app.controllers.server import ServerLink

log = logging.getLogger(__name__)

DEFAULT_AGENT = "build"  # what opencode runs when no agent is named


class Agents:
    """The agents of each server, and the one chosen per thread (and for the next new one)."""

    def __init__(self, app: T3App) -> None:
        self.app = app
        self.chosen: dict[str, str] = {}  # thread id -> agent name
        self.next: str | None = None  # chosen before the new thread exists
        self.lists: dict[str, list[Agent]] = {}  # server URL -> its agents
        self.failed: dict[str, str] = {}  # server URL -> why its agents could not be loaded
        self._last: dict[str, tuple[int, str | None]] = {}  # thread id -> (turns, last agent)
        self._look: tuple[str, bool, int, str] | None = None  # what the prompt's border shows

    # -- what the server has ------------------------------------------------------------

    def of(self, link: ServerLink) -> list[Agent]:
        return self.lists.get(link.client.base_url, [])

    def load(self, link: ServerLink) -> None:
        """Ask the server for its agents (at start, and again after a refresh)."""
        self.app.run_worker(self._load(link), group=link.group("agents"), exclusive=True, exit_on_error=False)

    async def _load(self, link: ServerLink) -> None:
        try:
            raw = await link.client.raw_agents(link.directory)
        except OpencodeError as exc:
            log.info("agents unknown: %s", exc.message)
            self.failed[link.client.base_url] = exc.message
            return
        self.failed.pop(link.client.base_url, None)
        self.lists[link.client.base_url] = agents_from(raw)
        self.dress()
        self.app.frames.request()

    # -- the thread's agent -------------------------------------------------------------

    def current(self, th: Thread | None) -> str:
        """The agent a prompt in ``th`` (None: the next new thread) is sent with."""
        if th is None:
            return self.next or self._first(self.app.threads.link)
        if th.id in self.chosen:
            return self.chosen[th.id]
        link = self.app.link_of(th.id)
        names = [a.name for a in primary_agents(self.of(link))]
        last = self._last_agent(th)
        if last is not None and (last in names or not names):
            return last
        return self._first(link)

    def _last_agent(self, th: Thread) -> str | None:
        """:func:`last_agent`, remembered until the thread gains a turn: it is asked every
        frame, and a long thread without agents on record would be walked each time."""
        key = len(th.order)
        known = self._last.get(th.id)
        if known is None or known[0] != key:
            known = (key, last_agent(th))
            self._last[th.id] = known
        return known[1]

    def _first(self, link: ServerLink) -> str:
        primary = primary_agents(self.of(link))
        return primary[0].name if primary else DEFAULT_AGENT

    def sent(self, th: Thread, new_thread: bool) -> str:
        """The agent to send now; a choice made before the thread existed moves to it."""
        if new_thread and self.next is not None:
            self.chosen[th.id] = self.next
            self.next = None
        return self.current(th)

    def cycle(self, by: int) -> None:
        """Tab (+1) or Shift+Tab (-1) in the prompt."""
        threads = self.app.threads
        link = threads.link
        names = [a.name for a in primary_agents(self.of(link))]
        if not names:
            if link.client.base_url in self.failed:
                self.app.toast(
                    t("toast.agents_failed", error=self.failed[link.client.base_url]), severity="warning"
                )
            else:
                self.app.toast(t("toast.agents_loading"))
            self.load(link)
            return
        self.choose(step(names, self.current(threads.current), by))

    def choose(self, name: str | None) -> None:
        if name is None:
            return
        sid = self.app.threads.current_id
        if sid is None:
            self.next = name
        else:
            self.chosen[sid] = name
        self.dress()
        self.app.frames.request()

    def pick(self) -> None:
        """``/agents``: a list of every primary agent, with what it is for."""
        from t3tui.app.screens.dialogs import ChoiceScreen

        link = self.app.threads.link
        primary = primary_agents(self.of(link))
        if not primary:
            self.cycle(1)  # says why there is nothing to pick, and loads them
            return
        choices = [(a.name, f"{label(a.name)}  {a.description}".rstrip()) for a in primary]
        current = self.current(self.app.threads.current)
        self.app.push_screen(ChoiceScreen(t("agents.title"), choices, current), self.choose)

    # -- how it shows -------------------------------------------------------------------

    def colour(self, name: str) -> int:
        return colour_index(self.of(self.app.threads.link), name)

    def colour_value(self, name: str) -> str:
        """The agent's colour in the current theme, for the status line (opencode's
        palette order: secondary, accent, success, warning, primary, error, then muted)."""
        theme = self.app.current_theme
        slots = ("secondary", "accent", "success", "warning", "primary", "error", "foreground")
        value = getattr(theme, slots[self.colour(name)], None)
        return str(value) if value else ""

    def dress(self) -> None:
        """The prompt's border: the agent's colour and name (or "Shell" in shell mode)."""
        main = getattr(self.app, "main", None)
        if main is None or not main.ready:
            return
        prompt = main.prompt
        name = self.current(self.app.threads.current)
        look = (name, prompt.shell, self.colour(name), t.lang)
        if look == self._look:
            return  # every frame asks; only a change is drawn
        self._look = look
        for i in range(PALETTE_SIZE):
            prompt.set_class(False, f"-agent-{i}")
        if prompt.shell:
            prompt.border_title = t("prompt.shell_title")
        else:
            prompt.add_class(f"-agent-{self.colour(name)}")
            prompt.border_title = label(name)


def label(name: str) -> str:
    """``build`` → ``Build``, as opencode shows an agent's name."""
    return name[:1].upper() + name[1:]


def last_agent(th: Thread) -> str | None:
    """The agent the thread's last prompt was sent with, as the server recorded it."""
    for tid in reversed(th.order):
        turn = th.turns.get(tid)
        user = turn.user if turn is not None else None
        if user is not None and user.agent:
            return user.agent
    return None
