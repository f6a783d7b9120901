"""What the server asks the user (permissions and questions): asked, answered, and listed by a resync.

A pending request means the session waits on the user, so it is running; a request
listed by a resync for a session that is not running waits on nothing (opencode keeps
listing it after an abort) and is not shown (docs/state-rules.md).
"""

from __future__ import annotations

from typing import Any, Literal

from t3tui.opencode.wire import PermissionRequest, QuestionRequest
from t3tui.state.index import Index
from t3tui.state.records import Thread
from t3tui.state.runs import Runs

Pending = Literal["permissions", "questions"]


class Requests:
    """Keeps each thread's pending ``permissions`` and ``questions``."""

    __slots__ = ("index", "runs")

    def __init__(self, index: Index, runs: Runs) -> None:
        self.index = index
        self.runs = runs

    def _asked(
        self, req: PermissionRequest | QuestionRequest, pending: Pending, directory: str | None
    ) -> None:
        """The server waits on the user, so the session is running (docs/state-rules.md)."""
        th = self.index.thread(req.sessionID, directory)
        if not th.active:
            self.runs.activate(th, "running")
        getattr(th, pending)[req.id] = req
        self.index.mark_asking(th)

    def _answered(self, props: dict[str, Any], pending: Pending, directory: str | None) -> None:
        th = self.index.known(props.get("sessionID"), directory)
        if th is not None:
            getattr(th, pending).pop(props.get("requestID") or props.get("permissionID") or "", None)

    def on_permission_asked(self, props: dict[str, Any], directory: str | None) -> None:
        self._asked(PermissionRequest.model_validate(props), "permissions", directory)

    def on_permission_replied(self, props: dict[str, Any], directory: str | None) -> None:
        self._answered(props, "permissions", directory)

    def on_question_asked(self, props: dict[str, Any], directory: str | None) -> None:
        self._asked(QuestionRequest.model_validate(props), "questions", directory)

    def on_question_done(self, props: dict[str, Any], directory: str | None) -> None:
        self._answered(props, "questions", directory)

    def snapshot(self, directory: str | None, data: Any, model: Any, pending: Pending) -> None:
        """The requests a resync listed for ``directory`` (None: every directory)."""
        if not isinstance(data, list):
            raise TypeError("request snapshot is not a list")
        index = self.index
        fresh: dict[str, dict[str, Any]] = {}
        concerned: dict[str, Thread] = {}
        for raw in data:
            req = model.model_validate(raw)
            th = index.threads.get(req.sessionID)
            if th is None:
                th = index.thread(req.sessionID, directory)
            # After an abort opencode keeps the request listed; a thread that is not
            # running has nothing to ask.
            if th.active:
                fresh.setdefault(th.id, {})[req.id] = req
                concerned[th.id] = th
        # Besides those, only threads that have something pending can change: the ones
        # of this directory (of every directory, for a snapshot without one).
        for d in list(index.asking) if directory is None else [directory]:
            bucket = index.asking.get(d, {})
            for th in index.indexed(index.asking, d):
                if th.permissions or th.questions:
                    concerned.setdefault(th.id, th)
                else:
                    del bucket[th.id]
        for th in concerned.values():
            new = fresh.get(th.id, {})
            if getattr(th, pending) != new:
                setattr(th, pending, new)
                index.dirty.add(th.id)
            if new:
                index.mark_asking(th)
