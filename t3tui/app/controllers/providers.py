"""Provider connect and disconnect, and carrying out the refresh that makes a change reach the model.

The refresh itself is decided by the pure coordinator of each server (``app/refresh.py``);
this object feeds it what happened and carries out the commands it returns: dispose,
toast, log, resync.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from t3tui import observations
from t3tui.app import refresh
from t3tui.app.screens.providers import ProvidersScreen
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError

if TYPE_CHECKING:
    from t3tui.app.app import T3App
    from t3tui.app.controllers.server import ServerLink


class Providers:
    """Connects and disconnects providers on a server, and refreshes it when that is safe."""

    def __init__(self, app: T3App) -> None:
        self.app = app

    def open_screen(self) -> None:
        """The providers screen of the open thread's server."""
        if not isinstance(self.app.screen, ProvidersScreen):
            self.app.push_screen(ProvidersScreen(self.app.threads.link, self))

    async def refetch(self, link: ServerLink) -> None:
        data = await link.client.raw_providers(link.directory)
        link.observe(observations.snapshot("providers", None, data))
        for screen in self.app.screen_stack:
            if isinstance(screen, ProvidersScreen) and screen.link is link:
                screen.refresh_rows()

    # -- auth changes -------------------------------------------------------------------

    def connect_api_key(self, link: ServerLink, provider_id: str, name: str, key: str) -> None:
        self.app.run_worker(
            self._connect_api_key(link, provider_id, name, key), group="auth", exit_on_error=False
        )

    async def _connect_api_key(self, link: ServerLink, provider_id: str, name: str, key: str) -> None:
        try:
            await link.client.set_api_key(provider_id, key)
        except (OpencodeError, ValueError) as exc:
            message = exc.message if isinstance(exc, OpencodeError) else str(exc)
            failure = t("toast.connect_failed", provider=name, error=message)
            self.app.toast(failure, severity="error", timeout=10)
            return
        finally:
            del key
        await self.changed(link, provider_id, name, "connect")

    def disconnect(self, link: ServerLink, provider_id: str, name: str) -> None:
        self.app.run_worker(self._disconnect(link, provider_id, name), group="auth", exit_on_error=False)

    async def _disconnect(self, link: ServerLink, provider_id: str, name: str) -> None:
        try:
            await link.client.remove_auth(provider_id)
        except OpencodeError as exc:
            failure = t("toast.disconnect_failed", provider=name, error=exc.message)
            self.app.toast(failure, severity="error", timeout=10)
            return
        await self.changed(link, provider_id, name, "disconnect")

    def signed_in(self, link: ServerLink, provider_id: str, name: str) -> None:
        """An OAuth sign-in went through (as the app's worker: the dialog's own are
        cancelled once it is dismissed, which would drop the refresh and its toast)."""
        self.app.run_worker(
            self.changed(link, provider_id, name, "connect"), group="auth", exit_on_error=False
        )

    async def changed(self, link: ServerLink, provider_id: str, name: str, op: refresh.Op) -> None:
        """An auth change reaches the model only after a dispose, and on opencode a
        dispose aborts every running turn: the coordinator decides when (app/refresh.py)."""
        with contextlib.suppress(OpencodeError):
            await self.refetch(link)
        item = refresh.Item(provider_id, name, op)
        self._carry_out(link, link.refresh.changed(item, link.store.any_active(), time.monotonic()))

    # -- the refresh --------------------------------------------------------------------

    def tick(self) -> None:
        """A frame or a second passed: tell each server's coordinator what it saw."""
        for link in self.app.links:
            store = link.store
            if store.disposed_count != link.disposed_seen:
                link.disposed_seen = store.disposed_count
                self._carry_out(link, link.refresh.disposed())
            self._carry_out(link, link.refresh.tick(store.any_active(), time.monotonic()))

    def _carry_out(self, link: ServerLink, commands: list[refresh.Command]) -> None:
        for cmd in commands:
            if isinstance(cmd, refresh.Dispose):
                self.app.run_worker(self._dispose(link), group="dispose", exit_on_error=False)
            elif isinstance(cmd, refresh.Toast):
                self.toast_refresh(cmd.item.fields(), cmd.deferred)
            elif isinstance(cmd, refresh.Failed):
                self.app.toast(t("toast.refresh_failed", error=cmd.error), severity="error", timeout=10)
            elif isinstance(cmd, refresh.Log):
                link.observe(cmd.observation)
            elif isinstance(cmd, refresh.Resync):
                self.app.run_worker(
                    self._after_dispose(link),
                    group=link.group("after-dispose"),
                    exclusive=True,
                    exit_on_error=False,
                )

    async def _dispose(self, link: ServerLink) -> None:
        try:
            result = await link.client.global_dispose()
        except OpencodeError as exc:
            self._carry_out(link, link.refresh.failed(exc.message, time.monotonic()))
            return
        self._carry_out(link, link.refresh.answered(result.deferred, result.model_dump()))

    def toast_refresh(self, item: dict[str, str], deferred: bool) -> None:
        op = "connected" if item.get("op") == "connect" else "disconnected"
        key = f"toast.provider_{op}_deferred" if deferred else f"toast.provider_{op}"
        self.app.toast(t(key, provider=item.get("provider") or item.get("providerID") or "?"), timeout=8)

    async def _after_dispose(self, link: ServerLink) -> None:
        """A dispose happened: refetch providers and have the stream resync (in its own
        loop, between events: never from the side, see EventStream.request_resync)."""
        link.stream.request_resync()
        with contextlib.suppress(OpencodeError):
            await self.refetch(link)
        self.app.models.load_default(link)
        self.app.agents.load(link)  # a refreshed server may have new agents and commands
        self.app.composer.load_commands(link)
