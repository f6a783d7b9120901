"""REST snapshots (sessions, status, messages, requests, providers): catching up after a (re)connect.

Events say what changed; a snapshot says what *is*, for one directory (or one
session's messages). What a snapshot does not list is over: a status snapshot settles
the threads of its directory it does not name, and a requests snapshot clears what it
does not list.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from t3tui.opencode.wire import PermissionRequest, QuestionRequest, Session
from t3tui.state.index import Index
from t3tui.state.parts import Parts
from t3tui.state.providers import Providers
from t3tui.state.records import Thread
from t3tui.state.requests import Requests
from t3tui.state.runs import Runs
from t3tui.state.settlement import Settlement
from t3tui.state.turns import Turns
from t3tui.state.work import set_diffs, set_todos


class Resync:
    """Applies each kind of snapshot through the components that own what it says."""

    __slots__ = ("index", "settlement", "runs", "turns", "parts", "requests", "providers")

    def __init__(
        self,
        index: Index,
        settlement: Settlement,
        runs: Runs,
        turns: Turns,
        parts: Parts,
        requests: Requests,
        providers: Providers,
    ) -> None:
        self.index = index
        self.settlement = settlement
        self.runs = runs
        self.turns = turns
        self.parts = parts
        self.requests = requests
        self.providers = providers

    def apply(self, snap: dict[str, Any]) -> int:
        """Apply one snapshot; how many of its entries were malformed and skipped."""
        kind = snap["kind"]
        directory = snap.get("directory")
        if not isinstance(directory, str) or directory == "global":
            directory = None
        data = snap.get("data")
        if kind == "status":
            self.status(directory, data)
        elif kind == "messages":
            return self.messages(snap["sessionID"], directory, data)
        elif kind == "sessions":
            # A listing across projects (no directory) names threads of directories
            # this client does not follow: a resync must not ask each of them for its
            # status (a request for a directory starts an instance of it on the server).
            follow = directory is not None
            for raw in data:
                self.turns.upsert_session(Session.model_validate(raw), directory, follow=follow)
        elif kind == "permissions":
            self.requests.snapshot(directory, data, PermissionRequest, "permissions")
        elif kind == "questions":
            self.requests.snapshot(directory, data, QuestionRequest, "questions")
        elif kind == "providers":
            self.providers.snapshot(data)
        elif kind == "session":
            self.turns.upsert_session(Session.model_validate(data), directory)
        elif kind in ("todos", "diff"):
            th = self.worked_on(snap["sessionID"], directory, data)
            if th is not None:
                (set_todos if kind == "todos" else set_diffs)(th.work, data)
        return 0

    def worked_on(self, session_id: Any, directory: str | None, items: Any) -> Thread | None:
        """The thread a todo list or a diff is about. An empty one (opencode sends an empty
        ``session.diff`` every step) is no news for a session never seen: no thread for it."""
        if isinstance(items, list) and items:
            return self.index.thread(session_id, directory)
        return self.index.known(session_id, directory)

    def status(self, directory: str | None, data: Any) -> None:
        """``GET /session/status`` of a directory: the sessions it names are busy or
        retrying; the threads of that directory it does not name are idle."""
        if not isinstance(data, dict):
            raise TypeError("status snapshot is not an object")
        index = self.index
        if directory is not None:
            index.directories.setdefault(directory, None)
        for sid, status in data.items():
            self.runs.apply_status(index.thread(sid, directory), status)
        bucket = index.live.get(directory, {})
        for th in index.indexed(index.live, directory):
            if not (th.active or th.open):
                del bucket[th.id]
                continue
            if th.id in data:
                continue
            if any(th.turns[t].unconfirmed == index.opens for t in th.open):
                # A prompt sent since this resync's connection opened: the status may
                # predate it, and the server has not answered it yet.
                continue
            index.dirty.add(th.id)
            self.runs.leave_active(th, snapshot=True)
            if not (th.active or th.open):
                del bucket[th.id]

    def messages(self, session_id: str, directory: str | None, data: Any) -> int:
        """One session's history, as the server has it; how many entries were malformed."""
        if not isinstance(data, list):
            raise TypeError("messages snapshot is not a list")
        settlement = self.settlement
        th = self.index.thread(session_id, directory)
        rejected = 0
        for entry in data:
            try:
                info = entry["info"]
                self.turns.upsert_message(th, info, live=False)
                for part in entry.get("parts") or ():
                    self.parts.apply_part(th, part)
            except (ValidationError, TypeError, KeyError, ValueError, AttributeError):
                rejected += 1
        if th.active:
            settlement.arrange(th)
        else:
            for tid in list(th.open):
                settlement.settle(th.turns[tid], None)
        for turn in th.turns.values():
            if turn.state == "interrupted":
                settlement.refine(turn)
        # The history as the server has it: its latest turn decides (an error in an
        # earlier turn, answered on the way, must not stick).
        settlement.decide_status(th)
        return rejected
