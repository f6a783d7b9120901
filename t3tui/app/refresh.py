"""The deferred provider refresh: when to dispose, and what to tell the user.

A provider's auth change (``PUT``/``DELETE /auth/{id}``) reaches the model only after a
dispose, and on opencode a dispose aborts every running turn (STATE.md, "Provider
refresh, deferred"). This small state machine decides; it does no I/O and imports
nothing of Textual, so every order of events is tested offline
(tests/test_refresh.py). The app feeds it what happened and carries out the commands
it returns, in order.

States of a refresh: *pending* (waiting for the runs to end, or for a retry after a
failed dispose), *in flight* (``POST /global/dispose`` sent), *deferred by the server*
(a fork answered ``deferred``: its own dispose will come), and done, which only a
``global.disposed`` or ``server.instance.disposed`` event or a ``completed``/``true``
answer means. Those events carry no action id, so one completes every refresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from t3tui import observations

Op = Literal["connect", "disconnect"]


@dataclass(frozen=True)
class Item:
    """One auth change that needs a refresh."""

    provider_id: str
    name: str
    op: Op

    def fields(self) -> dict[str, str]:
        """As in the event log's ``refresh`` action."""
        return {"providerID": self.provider_id, "provider": self.name, "op": self.op}


@dataclass(frozen=True)
class Dispose:
    """Send ``POST /global/dispose`` now, for these changes."""

    items: tuple[Item, ...]


@dataclass(frozen=True)
class Toast:
    """Tell the user: done (``deferred`` False) or put off until the runs end."""

    item: Item
    deferred: bool


@dataclass(frozen=True)
class Failed:
    """The dispose failed; it is tried again after ``retry_in`` seconds."""

    error: str
    retry_in: float


@dataclass(frozen=True)
class Log:
    """An observation for the store and the event log (a ``refresh`` action)."""

    observation: dict[str, object]


@dataclass(frozen=True)
class Resync:
    """A dispose happened: refetch the providers and ask the stream to resync."""


Command = Dispose | Toast | Failed | Log | Resync


@dataclass
class RefreshCoordinator:
    retry_after: float = 10.0
    pending: list[Item] = field(default_factory=list)  # waiting for runs to end or a retry
    in_flight: tuple[Item, ...] = ()  # a dispose was sent for these, no answer yet
    deferred: list[Item] = field(default_factory=list)  # the server put its dispose off
    retry_at: float = 0.0

    @property
    def waiting(self) -> bool:
        """Something is not refreshed yet (the status line says "refresh pending")."""
        return bool(self.pending or self.in_flight or self.deferred)

    # -- what happened ------------------------------------------------------------------

    def changed(self, item: Item, any_active: bool, now: float) -> list[Command]:
        """An auth change went through on the server."""
        self.pending = [p for p in self.pending if (p.provider_id, p.op) != (item.provider_id, item.op)]
        self.pending.append(item)
        if any_active or self.in_flight:
            return [Log(_action("pending", item)), Toast(item, deferred=True)]
        return self._dispose(now)

    def tick(self, any_active: bool, now: float) -> list[Command]:
        """Time passed or runs changed: dispose if it is due and nothing runs."""
        if not self.pending or self.in_flight or any_active or now < self.retry_at:
            return []
        return self._dispose(now)

    def answered(self, deferred: bool, result: dict[str, object] | None = None) -> list[Command]:
        """``POST /global/dispose`` answered: done (``true``/``completed``) or ``deferred``."""
        items, self.in_flight = self.in_flight, ()
        if deferred:
            self.deferred.extend(i for i in items if i not in self.deferred)
            return [
                cmd
                for item in items
                for cmd in (Log(_action("deferred", item, result)), Toast(item, deferred=True))
            ]
        out: list[Command] = [Log(observations.refresh("completed", result or {}))]
        out += [Toast(item, deferred=False) for item in items]
        return out + [Resync()]

    def failed(self, error: str, now: float) -> list[Command]:
        """The dispose failed: keep the changes pending and try again later."""
        items, self.in_flight = self.in_flight, ()
        for item in reversed(items):
            if item not in self.pending:
                self.pending.insert(0, item)
        self.retry_at = now + self.retry_after
        return [Log(_action("pending", item)) for item in items] + [Failed(error, self.retry_after)]

    def disposed(self) -> list[Command]:
        """A ``global.disposed`` or ``server.instance.disposed`` event: the refreshes this
        client asked for are done (the event carries no action id, so it completes all
        of them), and the providers and threads are fetched again.

        A change still pending (runs were active) stays pending: a dispose someone else
        made, or one instance's, is no promise that every instance read the new auth,
        so this client still disposes when the runs end. One in flight says nothing
        more when its answer comes.
        """
        done = [*self.deferred, *self.in_flight]
        self.deferred, self.in_flight = [], ()
        return [Toast(item, deferred=False) for item in _unique(done)] + [Resync()]

    # -- helpers ------------------------------------------------------------------------

    def _dispose(self, now: float) -> list[Command]:
        self.in_flight = tuple(self.pending)
        self.pending = []
        return [Dispose(self.in_flight)]


def _action(
    status: observations.RefreshStatus, item: Item, result: dict[str, object] | None = None
) -> dict[str, object]:
    return observations.refresh(status, result, **item.fields())


def _unique(items: list[Item]) -> list[Item]:
    return list(dict.fromkeys(items))
