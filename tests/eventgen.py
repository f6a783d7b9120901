"""Builders of real-shaped opencode events and log lines (shapes from PROTOCOL.md)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from t3tui import observations

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
    return observations.event(env)


def session_info(
    sid: str,
    directory: str = DIR,
    title: str = "A thread",
    parent: str | None = None,
    revert: str | None = None,
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
    if revert:
        # An undo from message ``revert`` on (POST /session/{id}/revert), as opencode says it.
        info["revert"] = {
            "messageID": revert,
            "snapshot": "5369e912c7f3f59350942820ab468c9e2681ffbb",
            "diff": "",
        }
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


SHELL_MARKER = "The following tool was executed by the user"


def shell_run(
    sid: str, command: str = "echo hi", output: str = "hi\n", directory: str = DIR, done: bool = True
) -> tuple[str, str, list[dict[str, Any]]]:
    """A shell command another client ran (opencode's ``!cmd``, ``POST /session/{id}/shell``),
    in the order opencode 1.18.33 sends it (tests/fixtures/n_shell_from_another_client.jsonl):
    busy, a user message of synthetic text, an assistant message with a bash tool and no
    finish, completed before its tool, then idle."""
    user, asst, upart, tool = new_id("msg"), new_id("msg"), new_id("prt"), new_id("prt")
    marker = {
        "id": upart,
        "sessionID": sid,
        "messageID": user,
        "type": "text",
        "text": SHELL_MARKER,
        "synthetic": True,
    }

    def bash(state: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": tool,
            "sessionID": sid,
            "messageID": asst,
            "type": "tool",
            "callID": "01M8S7VWEVX74C6XJ0H8V6BQ48",
            "tool": "bash",
            "state": state,
        }

    started = {"status": "running", "time": {"start": 1795245218300}, "input": {"command": command}}
    out = [
        status(sid, "busy", directory),
        msg_updated(user_info(sid, user), directory),
        part_updated(marker, directory),
        msg_updated(assistant_info(sid, asst, user), directory),
        part_updated(bash(started), directory),
        part_updated(bash({**started, "metadata": {"output": output}}), directory),
    ]
    if done:
        finished = {
            "status": "completed",
            "time": {"start": 1795245218300, "end": 1795245218400},
            "input": {"command": command},
            "title": "",
            "metadata": {"output": output},
            "output": output,
        }
        out += [
            msg_updated(assistant_info(sid, asst, user, completed=True), directory),
            part_updated(bash(finished), directory),
            *idle(sid, directory),
        ]
    return user, asst, out


def instance_disposed(directory: str = DIR) -> dict[str, Any]:
    return ev("server.instance.disposed", {"directory": directory}, directory)


def global_disposed() -> dict[str, Any]:
    return ev("global.disposed", {}, "global")


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
    return observations.snapshot(kind, directory, data, session_id=session or None)


def stream(state: str, reason: str | None = None) -> dict[str, Any]:
    if state == "open":
        return observations.stream_open()
    if state == "closed":
        return observations.stream_closed(reason or None)
    raise ValueError(f"a stream is open or closed, not {state!r}")


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


# -- colliding ids (hypothesis) ---------------------------------------------------------
#
# The flows above give every message and part a fresh id, so they never find what ids
# that collide do to the store. These strategies draw ids from a small pool shared by
# every session and role: the same id for a user and an assistant message, an assistant
# whose parent is its own id or an answer, a part that moves between messages, the same
# message and part ids in several sessions, in any order of arrival.


@dataclass
class CollidingLog:
    """A generated log: its lines, and the sessions with their directories."""

    lines: list[Any]
    directories: dict[str, str] = field(default_factory=dict)

    @property
    def sessions(self) -> list[str]:
        return list(self.directories)

    def streamed(self) -> dict[tuple[str, str], str]:
        return expected_texts(self.lines)


def expected_texts(lines: list[Any]) -> dict[tuple[str, str], str]:
    """The text each part must have after ``lines``, per (session, part id).

    A reference model of the store's rule for text (STATE.md rule 6): deltas append,
    a final copy of the part replaces the text, a copy that is not final replaces it
    when it is not shorter and no final copy came. Events are applied once per id.
    """
    texts: dict[tuple[str, str], str] = {}
    final: set[tuple[str, str]] = set()
    seen: set[str] = set()

    def copy(part: dict[str, Any]) -> None:
        key = (part["sessionID"], part["id"])
        text = part.get("text", "")
        if "end" in (part.get("time") or {}):
            texts[key] = text
            final.add(key)
        elif key not in final and len(text) >= len(texts.get(key, "")):
            texts[key] = text

    for line in lines:
        if "snapshot" in line and line["snapshot"]["kind"] == "messages":
            for entry in line["snapshot"]["data"]:
                for part in entry.get("parts", ()):
                    copy(part)
        if "event" not in line:
            continue
        payload = line["event"]["payload"]
        if payload["id"] in seen:
            continue
        seen.add(payload["id"])
        props = payload.get("properties") or {}
        if payload["type"] == "message.part.delta":
            key = (props["sessionID"], props["partID"])
            texts[key] = texts.get(key, "") + props["delta"]
        elif payload["type"] == "message.part.updated":
            copy(props["part"])
    return texts


STEPS = (
    "user",
    "assistant",
    "part",
    "delta",
    "delta",
    "delta",
    "busy",
    "retry",
    "idle",
    "error",
    "prompt",
    "interrupt",
    "messages",
    "resync",
    "duplicate",
)


REMOVALS = ("part_removed", "message_removed", "refused")


@st.composite
def colliding_logs(draw: st.DrawFn, max_steps: int = 40, removals: bool = False) -> CollidingLog:
    """Logs whose ids collide. With ``removals``, parts and messages are also removed
    and prompts refused (then the text of a part is no longer known by a simple
    model: check the invariants, not the text)."""
    sessions = [new_id("ses") for _ in range(draw(st.integers(1, 3)))]
    dirs = {sid: draw(st.sampled_from([DIR, DIR + "-b"])) for sid in sessions}
    # Every session draws its message and part ids from the same pools.
    mids = [new_id("msg") for _ in range(draw(st.integers(1, 4)))]
    pids = [new_id("prt") for _ in range(draw(st.integers(1, 3)))]
    # Ids of prompts this client sends: only ever user messages (the client makes them
    # unique), but also parents and part owners like any other.
    prompt_ids = [new_id("msg") for _ in range(draw(st.integers(0, 2)))]
    users = mids + prompt_ids
    log = CollidingLog(lines=[stream("open")], directories=dirs)
    unconfirmed: list[tuple[str, str]] = []
    tokens = itertools.count()

    def a_part(sid: str, mid: str) -> dict[str, Any]:
        pid = draw(st.sampled_from(pids))
        end = draw(st.sampled_from([None, False, True]))
        text = draw(st.sampled_from(["", "short", f"copy{next(tokens)} "]))
        return text_part(sid, mid, pid, text, end=end)

    def an_info(sid: str) -> dict[str, Any]:
        if draw(st.booleans()):
            return user_info(sid, draw(st.sampled_from(users)))
        mid = draw(st.sampled_from(mids))
        info = assistant_info(
            sid,
            mid,
            draw(st.sampled_from(users)),
            finish=draw(st.sampled_from([None, None, "stop", "tool-calls"])),
            completed=draw(st.integers(0, 2)) == 0,
            error=draw(
                st.sampled_from([None, None, ABORTED, {"name": "APIError", "data": {"message": "x"}}])
            ),
        )
        if draw(st.integers(0, 5)) == 0:
            del info["parentID"]
        return info

    for _ in range(draw(st.integers(1, max_steps))):
        sid = draw(st.sampled_from(sessions))
        d = dirs[sid]
        step = draw(st.sampled_from(STEPS + REMOVALS if removals else STEPS))
        if step in ("user", "assistant"):
            info = an_info(sid)
            log.lines.append(msg_updated(info, d))
        elif step == "part":
            log.lines.append(part_updated(a_part(sid, draw(st.sampled_from(users))), d))
        elif step == "delta":
            mid, pid = draw(st.sampled_from(users)), draw(st.sampled_from(pids))
            log.lines.append(delta(sid, mid, pid, f"tok{next(tokens)} ", d))
        elif step == "busy":
            log.lines.append(status(sid, "busy", d))
        elif step == "retry":
            log.lines.append(status(sid, "retry", d, attempt=1, message="boom", next=1))
        elif step == "idle":
            log.lines += idle(sid, d)
        elif step == "error":
            name = draw(st.sampled_from(["APIError", "MessageAbortedError"]))
            log.lines.append(session_error(sid, name, "failed", d))
        elif step == "prompt" and prompt_ids:
            mid = draw(st.sampled_from(prompt_ids))
            log.lines.append(observations.prompt_sent(sid, mid, "p", None))
            unconfirmed.append((sid, mid))
        elif step == "interrupt":
            ok = draw(st.sampled_from([None, True, False]))
            if ok is None:
                log.lines.append(observations.interrupt(sid))
            else:
                log.lines.append(observations.interrupt_answered(sid, None if ok else "x"))
        elif step == "messages":
            entries = []
            for _ in range(draw(st.integers(0, 3))):
                info = an_info(sid)
                parts = [a_part(sid, info["id"]) for _ in range(draw(st.integers(0, 2)))]
                entries.append({"info": info, "parts": parts})
            log.lines.append(snapshot("messages", entries, d, session=sid))
        elif step == "resync":
            busy = {sid: {"type": "busy"}} if draw(st.booleans()) else {}
            log.lines += [stream("closed"), stream("open"), snapshot("status", busy, d)]
        elif step == "duplicate" and len(log.lines) > 1:
            log.lines.append(log.lines[-1])  # the same event id twice: applied once
        elif step == "part_removed":
            props = {
                "sessionID": sid,
                "messageID": draw(st.sampled_from(users)),
                "partID": draw(st.sampled_from(pids)),
            }
            log.lines.append(ev("message.part.removed", props, d))
        elif step == "message_removed":
            log.lines.append(
                ev("message.removed", {"sessionID": sid, "messageID": draw(st.sampled_from(users))}, d)
            )
        elif step == "refused" and prompt_ids:
            mid = draw(st.sampled_from(prompt_ids))
            log.lines.append(observations.prompt_refused(sid, mid, "no"))
        if unconfirmed and draw(st.integers(0, 3)) == 0:
            # The server's copy of a prompt, some time after it was sent.
            psid, mid = unconfirmed.pop(draw(st.integers(0, len(unconfirmed) - 1)))
            log.lines.append(msg_updated(user_info(psid, mid), dirs[psid]))
    for psid, mid in unconfirmed:
        log.lines.append(msg_updated(user_info(psid, mid), dirs[psid]))
    for sid in sessions:
        log.lines += idle(sid, dirs[sid])
    return log
