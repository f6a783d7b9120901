"""One opencode server and all t3tui holds of it, bundled so that the app can follow several at once.

A later issue shows several servers in one window: each is a :class:`ServerLink`, and
whatever belongs to one server (its client, event stream, store, provider refresh,
capture file and directory) lives here rather than on the App.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.worker import Worker

from t3tui import observations
from t3tui.app.refresh import RefreshCoordinator
from t3tui.eventlog import EventLogWriter
from t3tui.opencode.client import OpencodeClient
from t3tui.opencode.stream import EventStream, store_targets
from t3tui.opencode.wire import Session
from t3tui.state.store import Store

DISPOSE_RETRY = 10.0  # seconds before a failed POST /global/dispose is tried again

Observed = Callable[["ServerLink", dict[str, Any]], None]


class ServerLink:
    """A server's client, event stream and store, and what the app learnt of it."""

    def __init__(
        self,
        client: OpencodeClient,
        *,
        directory: str,
        store: Store,
        observed: Observed,
        viewed: Callable[[ServerLink], Iterable[str]],
        capture: EventLogWriter | None = None,
        connect: bool = True,
        watchdog: float = 25.0,
        on_state: Callable[[EventStream], None] | None = None,
    ) -> None:
        """``observed`` hears every observation once the store has it; ``viewed(link)``
        names the threads on screen that this server holds (a resync fetches them too)."""
        self.client = client
        self.directory = directory  # where its new threads start
        self.store = store
        self.capture = capture
        self.connect = connect  # False: no stream (an offline app, as in most tests)
        self.refresh = RefreshCoordinator(retry_after=DISPOSE_RETRY)
        self.stream = EventStream(
            client,
            self.observe,
            store_targets(store, [directory], viewed=lambda: viewed(self), every_project=True),
            watchdog=watchdog,
            on_state=on_state,
        )
        self.reader: Worker[None] | None = None  # the worker that runs the stream
        self.disposed_seen = store.disposed_count
        self.listed = False  # a thread list arrived from the server
        self.version_checked = False
        self.password_refused = False  # the password screen was shown for this refusal
        self.default_model: tuple[str, str] | None = None  # what a new thread runs on
        self.loaded: set[str] = set()  # threads whose history was fetched
        self._observed = observed

    def observe(self, obs: dict[str, Any]) -> None:
        """Everything the client learns or does on this server goes through here, once."""
        if self.capture is not None:
            self.capture.write(obs)
        self.store.apply(obs)
        snapshot = obs.get("snapshot")
        if isinstance(snapshot, dict) and snapshot.get("kind") == "sessions":
            self.listed = True
        self._observed(self, obs)

    def observe_session(self, session: Session) -> None:
        """The server answered with a session (made, renamed, reverted): show it at once,
        not only when its event arrives."""
        directory = session.directory or self.directory
        self.observe(
            observations.snapshot("session", directory, session.model_dump(mode="json", exclude_none=True))
        )

    def group(self, name: str) -> str:
        """A worker group of this server's own: an exclusive worker of one server must not
        cancel another server's."""
        return f"{name} {self.client.base_url}"

    def has(self, session_id: str | None) -> bool:
        return session_id is not None and session_id in self.store.threads

    @property
    def reader_alive(self) -> bool:
        reader = self.reader
        return reader is not None and not reader.is_finished

    @property
    def loading(self) -> bool:
        """The thread list is still on its way (so "no threads yet" would be a guess)."""
        if not self.connect or self.stream.state in ("auth_failed", "stopped"):
            return False
        return not self.listed and self.stream.attempt == 0
