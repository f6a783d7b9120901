"""The event-log line format, written in exactly one place: a builder per observation.

Everything the client's state depends on is an *observation* (docs/STATE.md, "Event
log"): an SSE event, the stream opening or closing, a REST answer it used (a snapshot),
or a local user action. The stream (I/O), the store (state), the app, capture and the
tests all build them here, so the format cannot drift between writer and reader.

This module imports nothing from t3tui: it sits below both ``opencode/``, which observes,
and ``state/``, which applies what was observed.
"""

from __future__ import annotations

from typing import Any, Literal

Obs = dict[str, Any]

SnapshotKind = Literal[
    "sessions", "session", "status", "messages", "permissions", "questions", "providers", "todos", "diff"
]
RefreshStatus = Literal["pending", "deferred", "completed"]
Sent = Literal["unknown", "gave_up"]


def event(envelope: Any) -> Obs:
    """One SSE ``data:`` payload of ``/global/event``, parsed, as received."""
    return {"event": envelope}


def stream_open() -> Obs:
    """The ``/global/event`` connection opened."""
    return {"stream": "open"}


def stream_closed(reason: str | None = None) -> Obs:
    """The ``/global/event`` connection ended (``reason`` says why, when known)."""
    obs: Obs = {"stream": "closed"}
    if reason is not None:
        obs["reason"] = reason
    return obs


def snapshot(
    kind: SnapshotKind | str, directory: str | None, data: Any, session_id: str | None = None
) -> Obs:
    """A REST answer the client used (``sessionID`` for one session's ``messages``)."""
    snap: Obs = {"kind": kind, "directory": directory, "data": data}
    if session_id is not None:
        snap["sessionID"] = session_id
    return {"snapshot": snap}


def dropped(kind: str, reason: str, nodes: int, depth: int, what: str | None = None) -> Obs:
    """A line the log writer could not write as it was (nested too deeply, not JSON):
    its line ``kind``, its event or snapshot type (``what``), why, and its size. Replay
    skips it."""
    info: Obs = {"kind": kind}
    if what is not None:
        info["type"] = what
    info.update(reason=reason, nodes=nodes, depth=depth)
    return {"dropped": info}


def action(kind: str, **fields: Any) -> Obs:
    """A local user action that changes state (the builders below name each one)."""
    return {"action": {"kind": kind, **fields}}


def prompt_sent(session_id: str, message_id: str, text: str, directory: str | None) -> Obs:
    """A prompt was just sent with this (client-made) message id: the turn shows at once."""
    return action("prompt", sessionID=session_id, messageID=message_id, text=text, directory=directory)


def prompt_refused(session_id: str, message_id: str, error: str) -> Obs:
    """The server certainly did not take the prompt: the turn ends in ``error``."""
    return action("prompt", sessionID=session_id, messageID=message_id, ok=False, error=error)


def prompt_confirmed(session_id: str, message_id: str) -> Obs:
    """A prompt whose POST got no answer was found on the server."""
    return action("prompt", sessionID=session_id, messageID=message_id, ok=True)


def prompt_uncertain(session_id: str, message_id: str, sent: Sent) -> Obs:
    """A prompt's POST got no answer (``unknown``), or the client stopped asking (``gave_up``)."""
    return action("prompt", sessionID=session_id, messageID=message_id, sent=sent)


def interrupt(session_id: str, directory: str | None = None) -> Obs:
    """The user interrupted the session's run: it settles at once."""
    fields: Obs = {"sessionID": session_id}
    if directory is not None:
        fields["directory"] = directory
    return action("interrupt", **fields)


def interrupt_answered(session_id: str, error: str | None = None) -> Obs:
    """The server answered the abort: confirmed, or refused with ``error``."""
    if error is None:
        return action("interrupt", sessionID=session_id, ok=True)
    return action("interrupt", sessionID=session_id, ok=False, error=error)


def refresh(status: RefreshStatus, result: dict[str, Any] | None = None, **item: str) -> Obs:
    """A provider refresh: ``pending``, ``deferred`` by the server, or ``completed``.

    ``item`` holds ``providerID``, ``provider`` and ``op`` for one provider's change.
    """
    fields: Obs = {"status": status, **item}
    if result is not None:
        fields["result"] = result
    return action("refresh", **fields)
