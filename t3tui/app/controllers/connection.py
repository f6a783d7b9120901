"""Each server's event reader kept alive, and the screens that follow its connection (unreachable, password).

The reader must never be dead while the app looks connected: a reader that stops is
said so and started again. On the first connection the server's version is checked.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual.worker import Worker, WorkerState

from t3tui import logs
from t3tui.app.screens.connection import PasswordScreen, UnreachableScreen
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError

if TYPE_CHECKING:
    from t3tui.app.app import T3App
    from t3tui.app.controllers.server import ServerLink

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


class Connection:
    """Runs each server's event reader, and shows the screens its state calls for."""

    def __init__(self, app: T3App) -> None:
        self.app = app

    # -- the reader ---------------------------------------------------------------------

    def start(self, link: ServerLink) -> None:
        link.reader = self.app.run_worker(
            link.stream.run(), name="stream", group="stream", exit_on_error=False
        )

    def worker_changed(self, worker: Worker[object]) -> None:
        """The event reader must never be dead while the app looks connected."""
        link = next((link for link in self.app.links if link.reader is worker), None)
        if link is None or link.stream.stopping:
            return
        if worker.state not in (WorkerState.ERROR, WorkerState.SUCCESS):
            return  # running, or cancelled by the app on its way out
        error = worker.error
        reason = f"{error.__class__.__name__}: {error}" if error is not None else str(worker.state.name)
        link.stream.crashed(f"the event reader stopped ({reason})")
        self.app.toast(t("toast.reader_stopped", error=reason), severity="error", timeout=10)
        self.app.set_timer(1.0, lambda: self._restart(link))

    def _restart(self, link: ServerLink) -> None:
        if not link.stream.stopping and not link.reader_alive:
            self.start(link)

    def reconnect_now(self) -> None:
        """The palette's "Reconnect now": skip the wait, or bring back a dead reader."""
        for link in self.app.links:
            if not link.connect:
                continue
            if link.reader_alive:
                link.stream.retry_now()
            else:
                self.start(link)

    # -- the screens --------------------------------------------------------------------

    def sync(self) -> None:
        """The unreachable and password screens follow the stream's state."""
        link = self.app.threads.link
        if not link.connect:
            return
        app = self.app
        stream = link.stream
        top = app.screen
        if stream.state == "open":
            if isinstance(top, UnreachableScreen | PasswordScreen):
                top.dismiss(None)
            if not link.version_checked:
                link.version_checked = True
                app.run_worker(self._check_version(link), group="version", exit_on_error=False)
                app.models.load_default(link)
                app.agents.load(link)
                app.composer.load_commands(link)
            return
        if stream.state == "auth_failed":
            if isinstance(top, UnreachableScreen):
                top.dismiss(None)
            if not isinstance(app.screen, PasswordScreen) and not link.password_refused:
                link.password_refused = True
                app.push_screen(
                    PasswordScreen(stream.last_error, lambda password: self.use_password(link, password))
                )
            return
        if stream.connections == 0 and stream.attempt >= 1:
            if isinstance(top, UnreachableScreen):
                top.update_from(stream)
            elif top is app.main:
                app.push_screen(UnreachableScreen(stream))

    def use_password(self, link: ServerLink, password: str) -> None:
        logs.add_secret(password)
        link.client.set_password(password)
        link.password_refused = False
        link.stream.retry_now()

    async def _check_version(self, link: ServerLink) -> None:
        try:
            health = await link.client.health()
        except OpencodeError:
            return
        version = health.version
        numbers = version_tuple(version)
        if not numbers:
            self.app.toast(t("toast.server_unknown"), severity="warning", timeout=15)
        elif numbers < MIN_VERSION:
            warning = t("toast.server_old", version=version, tested=TESTED_VERSION)
            self.app.toast(warning, severity="warning", timeout=15)
