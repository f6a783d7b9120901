"""The client-side model of threads and turns (STATE.md is the contract): observations in, state out.

The store is pure: it holds no sockets, does no I/O and imports nothing of Textual, so
the live app, ``t3tui replay`` and the tests all feed it the same observations (the
event-log lines of STATE.md, built by ``t3tui.observations``) and get the same state.
``Store.apply`` never raises: malformed input is counted in ``Store.rejected`` and
skipped.

``Store`` only dispatches: each observation goes to the component that owns what it
says (``turns``, ``parts``, ``runs``, ``settlement``, ``requests``, ``providers``,
``resync``), which all share one ``Index`` of the threads. The records they keep are
in ``records``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import ValidationError

from t3tui.opencode.wire import ProviderList
from t3tui.state.index import Index
from t3tui.state.parts import Parts
from t3tui.state.providers import Providers
from t3tui.state.records import (
    ACTIVE,
    OPEN,
    SETTLED,
    UNSURE,
    MessageState,
    PartState,
    SettledBy,
    Thread,
    ThreadStatus,
    Turn,
    TurnState,
)
from t3tui.state.requests import Requests
from t3tui.state.resync import Resync
from t3tui.state.runs import DISPOSE_WINDOW_MS, Runs
from t3tui.state.settlement import Settlement
from t3tui.state.turns import Turns
from t3tui.state.work import set_diffs, set_todos

__all__ = [
    "ACTIVE",
    "DEDUPE_WINDOW",
    "DISPOSE_WINDOW_MS",
    "OPEN",
    "SETTLED",
    "UNSURE",
    "MessageState",
    "PartState",
    "SettledBy",
    "Store",
    "Thread",
    "ThreadStatus",
    "Turn",
    "TurnState",
]

# How many event ids are remembered to drop a repeated event (a replayed SSE frame).
DEDUPE_WINDOW = 8192

Handler = Callable[[dict[str, Any], str | None], None]


class Store:
    """Every thread the client knows, and the connection state.

    Feed it observations with :meth:`apply`; take what changed since the last frame
    with :meth:`take_changes`, so the UI repaints only the threads that did.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        index = self.index = Index(clock)
        self.threads: dict[str, Thread] = index.threads  # the index's own dicts, never replaced
        self.directories: dict[str, None] = index.directories
        self.connection: Literal["open", "closed"] = "closed"
        self.connection_reason: str | None = None
        self.rejected = 0
        self.events = 0
        self.settlement = Settlement(index)
        self.runs = Runs(index, self.settlement)
        self.turns = Turns(index, self.settlement, self.runs)
        self.parts = Parts(index, self.turns, self.settlement)
        self.requests = Requests(index, self.runs)
        self.provider_state = Providers(index)
        self.resync = Resync(
            index, self.settlement, self.runs, self.turns, self.parts, self.requests, self.provider_state
        )
        self._seen: set[str] = set()
        self._seen_order: deque[str] = deque()
        turns, parts, runs, requests = self.turns, self.parts, self.runs, self.requests
        self._handlers: dict[str, Handler] = {
            "message.part.delta": parts.on_delta,
            "message.part.updated": parts.on_part_updated,
            "message.part.removed": parts.on_part_removed,
            "message.updated": turns.on_message_updated,
            "message.removed": turns.on_message_removed,
            "session.created": turns.on_session,
            "session.updated": turns.on_session,
            "session.deleted": turns.on_session_deleted,
            "session.status": runs.on_status,
            "session.idle": runs.on_idle,
            "session.error": runs.on_session_error,
            "permission.asked": requests.on_permission_asked,
            "permission.replied": requests.on_permission_replied,
            "question.asked": requests.on_question_asked,
            "question.replied": requests.on_question_done,
            "question.rejected": requests.on_question_done,
            "todo.updated": self._on_todos,
            "session.diff": self._on_session_diff,
            "global.disposed": self._on_global_disposed,
            "server.instance.disposed": self._on_instance_disposed,
        }

    # -- what the app reads -----------------------------------------------------------

    @property
    def clock(self) -> Callable[[], float]:
        return self.index.clock

    @property
    def dirty(self) -> set[str]:
        """The ids of the threads that changed since the last :meth:`take_changes`."""
        return self.index.dirty

    @property
    def changed(self) -> bool:
        """Something changed since the last :meth:`take_changes` (set it to force a frame)."""
        return self.index.changed

    @changed.setter
    def changed(self, value: bool) -> None:
        self.index.changed = value

    @property
    def opens(self) -> int:
        """How many times the stream opened (a resync follows each)."""
        return self.index.opens

    @property
    def providers(self) -> ProviderList | None:
        return self.provider_state.listed

    @property
    def refresh_pending(self) -> list[dict[str, Any]]:
        return self.provider_state.refresh_pending

    @property
    def disposed_count(self) -> int:
        return self.provider_state.disposed_count

    # -- entry points -----------------------------------------------------------------

    def apply(self, obs: Any) -> None:
        """Apply one observation (a parsed event-log line). Never raises."""
        try:
            if not isinstance(obs, dict):
                raise TypeError("observation is not an object")
            event = obs.get("event")
            if event is not None:
                self.apply_event(event)
            elif "snapshot" in obs:
                self.apply_snapshot(obs["snapshot"])
            elif "stream" in obs:
                self.apply_stream(obs["stream"], obs.get("reason"))
            elif "action" in obs:
                self.apply_action(obs["action"])
            # any other line kind is skipped (STATE.md)
        except (ValidationError, TypeError, KeyError, ValueError, AttributeError):
            self.rejected += 1

    def apply_all(self, observations: Iterable[Any]) -> None:
        for obs in observations:
            self.apply(obs)

    def apply_event(self, envelope: dict[str, Any]) -> None:
        payload = envelope["payload"]
        kind = payload["type"]
        if kind == "sync":
            return
        handler = self._handlers.get(kind)
        eid = payload.get("id")
        if eid is not None:
            seen = self._seen
            if eid in seen:
                return
            seen.add(eid)
            order = self._seen_order
            order.append(eid)
            if len(order) > DEDUPE_WINDOW:
                seen.discard(order.popleft())
        self.events += 1
        if handler is None:
            return
        props = payload.get("properties")
        if not isinstance(props, dict):
            raise TypeError(f"{kind} without properties")
        directory = envelope.get("directory")
        if directory == "global" or not isinstance(directory, str):
            directory = None
        handler(props, directory)

    def apply_stream(self, state: str, reason: str | None = None) -> None:
        if state not in ("open", "closed"):
            raise ValueError(f"unknown stream state {state!r}")
        if state == "open" and self.connection != "open":
            self.index.opens += 1
        self.connection = state  # type: ignore[assignment]
        self.connection_reason = reason
        self.index.changed = True

    def apply_snapshot(self, snap: dict[str, Any]) -> None:
        self.rejected += self.resync.apply(snap)

    def apply_action(self, action: dict[str, Any]) -> None:
        kind = action["kind"]
        if kind == "interrupt":
            self.runs.interrupt(action)
        elif kind == "prompt":
            self.turns.prompt(action)
        elif kind == "refresh":
            self.provider_state.refresh(action)

    def _on_todos(self, props: dict[str, Any], directory: str | None) -> None:
        th = self.resync.worked_on(props.get("sessionID"), directory, props.get("todos"))
        if th is not None:
            set_todos(th.work, props.get("todos"))

    def _on_session_diff(self, props: dict[str, Any], directory: str | None) -> None:
        th = self.resync.worked_on(props.get("sessionID"), directory, props.get("diff"))
        if th is not None:
            set_diffs(th.work, props.get("diff"))

    def _on_global_disposed(self, props: dict[str, Any], directory: str | None) -> None:
        self._on_disposed(None)

    def _on_instance_disposed(self, props: dict[str, Any], directory: str | None) -> None:
        target = props.get("directory")
        self._on_disposed(target if isinstance(target, str) and target else directory)

    def _on_disposed(self, directory: str | None) -> None:
        """A dispose happened, of ``directory``'s instance or (None) of every one.

        It carries no action id, so it completes every pending provider refresh
        (STATE.md, "Provider refresh"). And it closes the runs of its instances.
        """
        self.provider_state.disposed()
        self.runs.disposed(directory)

    # -- queries ----------------------------------------------------------------------

    @property
    def has_changes(self) -> bool:
        """Something changed since the last :meth:`take_changes`."""
        index = self.index
        return index.changed or bool(index.dirty)

    def take_changes(self) -> set[str] | None:
        """What changed since the last call, and forget it: the ids of the threads that
        changed (empty when only something outside threads did, such as the connection),
        or ``None`` when nothing did."""
        index = self.index
        if not (index.changed or index.dirty):
            return None
        dirty = index.dirty.copy()  # the set itself stays: components hold it
        index.dirty.clear()
        index.changed = False
        return dirty

    def any_active(self) -> bool:
        return any(th.active for th in self.threads.values())

    def busy(self) -> list[Thread]:
        """The threads running or asking, from the indexes (not a scan of every thread)."""
        index = self.index
        out: dict[str, Thread] = {}
        for directory in {*index.live, *index.asking}:
            for th in (*index.indexed(index.live, directory), *index.indexed(index.asking, directory)):
                if th.active or th.permissions or th.questions:
                    out[th.id] = th
        return list(out.values())

    def check_invariants(self) -> list[str]:
        """Broken promises of STATE.md and of the store's own indexes, as sentences
        (empty when all hold)."""
        problems = []
        for th in self.threads.values():
            if not th.active:
                for turn in th.turns.values():
                    if turn.state in OPEN:
                        problems.append(f"{th.id} is {th.status} but turn {turn.id} is {turn.state}")
                if th.permissions or th.questions:
                    problems.append(f"{th.id} is {th.status} but still asks something")
            if th.order != sorted(th.turns):
                problems.append(f"{th.id} turn order out of step (or a turn id twice)")
                continue
            if th.open != [t for t in th.order if th.turns[t].state in OPEN]:
                problems.append(f"{th.id} open-turn index out of step")
            if th.running != [t for t in th.open if th.turns[t].state == "running"]:
                problems.append(f"{th.id} running-turn index out of step")
            problems += th.problems()
        for pid, part in self.index.parts.items():
            owner = part.message.thread
            if self.threads.get(owner.id) is not owner or owner.parts.get(pid) is not part:
                problems.append(f"part cache entry {pid} is stale")
        return problems
