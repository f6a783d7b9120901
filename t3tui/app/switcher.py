"""The quick switcher: every thread of every server in the command palette, found by
its title or its directory (Ctrl+L shows only these; Ctrl+P has them beside the commands)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from t3tui.app.widgets.sidebar import short_dir
from t3tui.i18n import t
from t3tui.state.store import Thread
from t3tui.text import one_line

if TYPE_CHECKING:
    from t3tui.app.app import T3App

DISCOVER = 30  # threads listed before anything is typed: the most recent


class ThreadSwitcher(Provider):
    """Threads as palette hits: picking one opens it."""

    def _threads(self) -> list[Thread]:
        app = cast("T3App", self.app)
        threads = [th for link in app.links for th in link.store.threads.values()]
        threads.sort(key=lambda th: (-th.updated, th.id))
        return threads

    def _label(self, th: Thread) -> str:
        title = one_line(th.title or t("sidebar.untitled"), 80)
        return f"{title}  · {short_dir(th.directory)}"

    async def _open(self, sid: str) -> None:
        app = cast("T3App", self.app)
        await app.threads.open(sid)
        app.main.prompt.focus()

    async def discover(self) -> Hits:
        for th in self._threads()[:DISCOVER]:
            yield DiscoveryHit(Text(self._label(th)), partial(self._open, th.id), help=t("switch.help"))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for th in self._threads():
            label = self._label(th)
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(self._open, th.id), help=t("switch.help"))


class PaletteThreads(ThreadSwitcher):
    """The threads among Ctrl+P's commands: found when typed, not listed before."""

    async def discover(self) -> Hits:
        return
        yield
