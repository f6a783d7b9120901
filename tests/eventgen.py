"""Builders of real-shaped opencode events and log lines (shapes from PROTOCOL.md)."""

from __future__ import annotations

import itertools
from typing import Any

DIR = "/home/dev/project"
_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    n = next(_ids)
    return f"{prefix}_{0x1FD000000000 + n * 0x1000:012x}{n:014d}"


def ev(
    kind: str, props: dict[str, Any] | None, directory: str | None = DIR, eid: str | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {"id": eid or new_id("evt"), "type": kind}
    if props is not None:
        payload["properties"] = props
    env: dict[str, Any] = {"payload": payload}
    if directory is not None:
        env["directory"] = directory
        env["project"] = "aeefb2be77fbfe7a6d0733714bf2812937ed5501"
    return {"event": env}


def session_info(
    sid: str, directory: str = DIR, title: str = "A thread", parent: str | None = None
) -> dict[str, Any]:
    info: dict[str, Any] = {
        "id": sid,
        "slug": "quiet-tiger",
        "projectID": "aeefb2be",
        "directory": directory,
        "title": title,
        "version": "1.18.33",
        "time": {"created": 1795245218151, "updated": 1795245218159},
    }
    if parent:
        info["parentID"] = parent
    return info


def session_updated(sid: str, directory: str = DIR, **kw: Any) -> dict[str, Any]:
    return ev("session.updated", {"sessionID": sid, "info": session_info(sid, directory, **kw)}, directory)


def user_info(sid: str, mid: str) -> dict[str, Any]:
    return {
        "id": mid,
        "role": "user",
        "sessionID": sid,
        "time": {"created": 1795245218159},
        "agent": "build",
        "model": {"providerID": "mock", "modelID": "fast"},
    }


def assistant_info(
    sid: str,
    mid: str,
    parent: str,
    *,
    finish: str | None = None,
    completed: bool = False,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    info: dict[str, Any] = {
        "id": mid,
        "sessionID": sid,
        "role": "assistant",
        "parentID": parent,
        "time": {"created": 1795245218200},
        "modelID": "fast",
        "providerID": "mock",
        "mode": "build",
        "agent": "build",
        "cost": 0,
        "tokens": {"input": 0, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0}},
    }
    if completed:
        info["time"]["completed"] = 1795245219000
    if finish:
        info["finish"] = finish
    if error:
        info["error"] = error
    return info


def msg_updated(info: dict[str, Any], directory: str = DIR) -> dict[str, Any]:
    return ev("message.updated", {"sessionID": info["sessionID"], "info": info}, directory)


def text_part(
    sid: str, mid: str, pid: str, text: str, *, end: bool | None = None, kind: str = "text"
) -> dict[str, Any]:
    part: dict[str, Any] = {"id": pid, "sessionID": sid, "messageID": mid, "type": kind, "text": text}
    if end is not None:
        part["time"] = {"start": 1795245218300, **({"end": 1795245218900} if end else {})}
    return part


def part_updated(part: dict[str, Any], directory: str = DIR) -> dict[str, Any]:
    return ev(
        "message.part.updated",
        {"sessionID": part["sessionID"], "part": part, "time": 1795245218300},
        directory,
    )


def delta(sid: str, mid: str, pid: str, text: str, directory: str = DIR) -> dict[str, Any]:
    return ev(
        "message.part.delta",
        {"sessionID": sid, "messageID": mid, "partID": pid, "field": "text", "delta": text},
        directory,
    )


def status(sid: str, kind: str, directory: str = DIR, **extra: Any) -> dict[str, Any]:
    return ev("session.status", {"sessionID": sid, "status": {"type": kind, **extra}}, directory)


def idle(sid: str, directory: str = DIR) -> list[dict[str, Any]]:
    return [status(sid, "idle", directory), ev("session.idle", {"sessionID": sid}, directory)]


def session_error(sid: str, name: str, message: str, directory: str = DIR) -> dict[str, Any]:
    return ev(
        "session.error", {"sessionID": sid, "error": {"name": name, "data": {"message": message}}}, directory
    )


ABORTED = {"name": "MessageAbortedError", "data": {"message": "Aborted"}}


def permission_asked(sid: str, rid: str, directory: str = DIR) -> dict[str, Any]:
    return ev(
        "permission.asked",
        {
            "id": rid,
            "sessionID": sid,
            "permission": "external_directory",
            "patterns": ["/etc/*"],
            "metadata": {"filepath": "/etc/hostname", "parentDir": "/etc"},
            "always": ["/etc/*"],
            "tool": {"messageID": "msg_x", "callID": "call_1"},
        },
        directory,
    )


def question_asked(sid: str, rid: str, directory: str = DIR) -> dict[str, Any]:
    return ev(
        "question.asked",
        {
            "id": rid,
            "sessionID": sid,
            "questions": [
                {
                    "question": "Which colour?",
                    "header": "Colour",
                    "options": [{"label": "Red"}, {"label": "Blue"}],
                }
            ],
        },
        directory,
    )


def snapshot(kind: str, data: Any, directory: str | None = DIR, session: str | None = None) -> dict[str, Any]:
    snap: dict[str, Any] = {"kind": kind, "directory": directory, "data": data}
    if session:
        snap["sessionID"] = session
    return {"snapshot": snap}


def stream(state: str, reason: str | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"stream": state}
    if reason:
        line["reason"] = reason
    return line


def prompt_run(
    sid: str, text: str = "hello", tokens: int = 5, directory: str = DIR, finish: bool = True
) -> tuple[str, str, str, list[dict[str, Any]]]:
    """The events of a whole prompt (user message to idle), as opencode sends them."""
    user, asst, part, upart = new_id("msg"), new_id("msg"), new_id("prt"), new_id("prt")
    out = [
        msg_updated(user_info(sid, user), directory),
        part_updated(text_part(sid, user, upart, text), directory),
        status(sid, "busy", directory),
        msg_updated(assistant_info(sid, asst, user), directory),
        part_updated(text_part(sid, asst, part, "", end=False), directory),
    ]
    out += [delta(sid, asst, part, f"tok{i} ", directory) for i in range(tokens)]
    if finish:
        full = "".join(f"tok{i} " for i in range(tokens))
        out += [
            part_updated(text_part(sid, asst, part, full, end=True), directory),
            msg_updated(assistant_info(sid, asst, user, finish="stop"), directory),
            msg_updated(assistant_info(sid, asst, user, finish="stop", completed=True), directory),
            *idle(sid, directory),
        ]
    return user, asst, part, out
