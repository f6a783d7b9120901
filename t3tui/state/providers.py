"""The providers the server offers, and the provider refreshes still waiting on an instance dispose.

A provider change (connect, disconnect, a new key) takes effect on the server only
after its instances are disposed (STATE.md, "Provider refresh"). A ``refresh`` action
says one is ``pending`` or ``deferred``; a dispose, which carries no action id,
completes every one. ``disposed_count`` lets the app see that a dispose came.
"""

from __future__ import annotations

from typing import Any

from t3tui.opencode.wire import ProviderList
from t3tui.state.index import Index


class Providers:
    """The provider list and the refresh bookkeeping."""

    __slots__ = ("index", "listed", "refresh_pending", "disposed_count")

    def __init__(self, index: Index) -> None:
        self.index = index
        self.listed: ProviderList | None = None
        self.refresh_pending: list[dict[str, Any]] = []
        self.disposed_count = 0

    def snapshot(self, data: Any) -> None:
        """``GET /provider`` (or the config's providers), as a resync or the app read it."""
        self.listed = ProviderList.model_validate(data)
        self.index.changed = True

    def refresh(self, action: dict[str, Any]) -> None:
        """A provider refresh: one provider's change ``pending`` or ``deferred`` (the
        newest per provider and operation kept), or all ``completed``."""
        status = action.get("status")
        if status in ("pending", "deferred"):
            key = (action.get("providerID"), action.get("op"))
            self.refresh_pending = [
                p for p in self.refresh_pending if (p.get("providerID"), p.get("op")) != key
            ] + [dict(action)]
        elif status in ("completed", "done"):
            self.refresh_pending.clear()
        self.index.changed = True

    def disposed(self) -> None:
        """A dispose happened: it completes every pending refresh."""
        self.disposed_count += 1
        self.refresh_pending.clear()
        self.index.changed = True
