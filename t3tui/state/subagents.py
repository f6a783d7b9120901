"""Subagents: the child session a ``task`` tool call runs, and what it is doing.

opencode runs a subagent as a child session: the parent's ``task`` tool part names it in
``state.metadata.sessionId`` (once the child exists, while the call runs), and the child
session's ``parentID`` names the parent. Pure: the app draws and navigates with these.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from t3tui.state.records import Thread

ChildState = Literal[
    "permission", "question", "retrying", "working", "failed", "interrupted", "done", "unknown"
]


def child_session(data: Any) -> str | None:
    """The child session a tool part runs (a ``task`` call), or None."""
    if getattr(data, "tool", None) != "task":
        return None
    meta = getattr(getattr(data, "state", None), "metadata", None)
    if not isinstance(meta, dict):
        return None
    sid = meta.get("sessionId", meta.get("sessionID"))
    return sid if isinstance(sid, str) and sid else None


def children(threads: Iterable[Thread], parent_id: str) -> list[Thread]:
    """The subagents of ``parent_id``, oldest first (the order the parent started them)."""
    found = [th for th in threads if th.parent_id == parent_id]
    found.sort(key=lambda th: (_created(th), th.id))
    return found


def _created(th: Thread) -> float:
    s = th.session
    return (s.time.created or 0.0) if s is not None else 0.0


def child_state(th: Thread | None) -> ChildState:
    """What a subagent is doing, for its parent's card: asking first, then running, then how it ended."""
    if th is None:
        return "unknown"
    if th.permissions:
        return "permission"
    if th.questions:
        return "question"
    if th.status == "retrying":
        return "retrying"
    if th.active:
        return "working"
    latest = th.latest_turn()
    if th.status == "error" or (latest is not None and latest.state == "error"):
        return "failed"
    if latest is None:
        return "unknown"
    if latest.state == "interrupted":
        return "interrupted"
    return "done" if latest.state == "completed" else "working"  # queued: about to run


def step(siblings: list[str], current: str, by: int) -> str | None:
    """The sibling ``by`` places from ``current``, wrapping (None: no other sibling)."""
    if current not in siblings or len(siblings) < 2:
        return None
    return siblings[(siblings.index(current) + by) % len(siblings)]
