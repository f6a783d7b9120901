"""Event logs: record what the client observed, replay it, and dump the resulting state.

A log is JSON lines (STATE.md, "Event log"), each built by ``t3tui.observations``; this
module writes them (redacted), reads them back and replays them. Replaying one through
:class:`Store` gives the state the live client had, which is how a bug report becomes a
test. This module must not import Textual: ``t3tui replay`` is meant to be quick.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from t3tui import logs, observations
from t3tui.opencode import jsonsafe
from t3tui.state.store import Store, Thread, Turn
from t3tui.state.work import work_dump, work_summary

SECRET_KEYS = frozenset(
    {"key", "apikey", "api_key", "password", "token", "access", "refresh", "authorization", "secret"}
)
# Lines are walked (for redaction) at most this deep; deeper ones are not written as
# they are but as a ``dropped`` line. The stream already cuts events at 64 levels
# (t3tui.opencode.jsonsafe), so only a caller that skips it gets here.
MAX_DEPTH = 200
LINE_KINDS = ("event", "snapshot", "stream", "action")

_SURROGATE = re.compile("[\ud800-\udfff]")
# What a terminal must not get raw from JSON text: DEL and the C1 controls (U+009B is
# CSI on some terminals), and lone surrogates (not UTF-8 at all).
_TERMINAL_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_surrogates(text: str) -> str:
    """JSON text with every lone surrogate written as a ``\\udXXX`` escape.

    ``json.dumps(..., ensure_ascii=False)`` leaves lone surrogates in the text, and no
    UTF-8 file can hold them; inside a JSON string the escape means the same thing.
    """
    return _SURROGATE.sub(_escape, text)


def json_for_terminal(text: str) -> str:
    """JSON text that is safe to print: surrogates and C1 controls escaped (C0 controls
    are escaped by ``json.dumps`` already)."""
    return _TERMINAL_UNSAFE.sub(_escape, text)


class TooDeep(ValueError):
    """A value nested deeper than :data:`MAX_DEPTH`."""


def redact(value: Any, forms: tuple[str, ...] | None = None, _depth: int = 0) -> Any:
    """A copy of ``value`` with every secret-looking field replaced by ``"***"`` and every
    registered secret value (``logs.add_secret``) cut out of its strings.

    Raises :class:`TooDeep` rather than recurse past :data:`MAX_DEPTH`.
    """
    if forms is None:
        forms = logs.secret_forms()
    if _depth > MAX_DEPTH:
        raise TooDeep(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if isinstance(k, str):
                if k.lower() in SECRET_KEYS and v is not None and v != "":
                    out[logs.scrub(k, forms) if forms else k] = "***"
                    continue
                if forms:
                    k = logs.scrub(k, forms)
            out[k] = redact(v, forms, _depth + 1)
        return out
    if isinstance(value, list):
        return [redact(v, forms, _depth + 1) for v in value]
    if isinstance(value, str) and forms:
        return logs.scrub(value, forms)
    return value


def scrub_values(value: Any, forms: tuple[str, ...], _depth: int = 0) -> Any:
    """A copy of ``value`` with registered secret values cut out of every string (and
    key); field names are not looked at. Raises :class:`TooDeep` like :func:`redact`."""
    if _depth > MAX_DEPTH:
        raise TooDeep(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return logs.scrub(value, forms)
    if isinstance(value, dict):
        return {
            (logs.scrub(k, forms) if isinstance(k, str) else k): scrub_values(v, forms, _depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [scrub_values(v, forms, _depth + 1) for v in value]
    return value


def _measure(value: Any, limit: int = 1_000_000) -> tuple[int, int]:
    """(values, depth) of ``value``, walked without recursion; a cycle is counted once
    and the walk stops after ``limit`` values."""
    nodes = depth = 0
    seen: set[int] = set()
    todo: list[tuple[Any, int]] = [(value, 1)]
    while todo and nodes < limit:
        item, level = todo.pop()
        nodes += 1
        depth = max(depth, level)
        if isinstance(item, dict | list):
            if id(item) in seen:
                continue
            seen.add(id(item))
            children = item.values() if isinstance(item, dict) else item
            todo.extend((child, level + 1) for child in children)
    return nodes, depth


def _dumps(line: dict[str, Any]) -> str:
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class EventLogWriter:
    """Appends observations to a log file, one flushed line each.

    Nothing it is given makes it raise:

    - every registered secret value (``logs.add_secret``: the server password, API
      keys) is cut out of every line, events and ``reason`` strings included; provider
      snapshots and actions are also redacted by field name;
    - lone surrogates are written as JSON escapes (the file stays valid UTF-8);
    - a value it cannot write as JSON (nested too deeply, a cycle, NaN, a non-JSON
      type) becomes ``{"t": …, "dropped": {"kind", "type"?, "reason", "nodes",
      "depth"}}``, a line kind that replay skips;
    - when the file cannot be written (disk full, I/O error) ``error`` says why, and
      later lines are not written. Whoever writes a capture checks ``error``.

    The file is created private (mode 0600): it holds whole conversations.
    """

    def __init__(self, path: str | os.PathLike[str], clock: Any = time.monotonic) -> None:
        self.path = Path(path)
        self._clock = clock
        self._start = clock()
        fd = logs.open_private(self.path)
        self._fh: IO[bytes] | None = os.fdopen(fd, "wb")
        self.lines = 0
        self.dropped = 0
        self.error: str | None = None

    def stamp(self) -> float:
        return round(self._clock() - self._start, 4)

    def encode(self, obs: Any) -> bytes:
        """The line for ``obs`` (with its newline), redacted; never raises."""
        forms = logs.secret_forms()
        try:
            if not isinstance(obs, dict):
                raise TypeError(f"an observation is an object, not {type(obs).__name__}")
            if "event" not in obs:
                obs = redact(obs, forms)
            line = dict(obs)
            line.setdefault("t", self.stamp())
            text = _dumps(line)
            if forms and any(form in text for form in forms):
                text = _dumps(scrub_values(line, forms))
        except (RecursionError, TooDeep):
            text = self._dropped(obs, f"nested too deeply to write (more than {MAX_DEPTH} levels)", forms)
        except (ValueError, TypeError) as exc:
            text = self._dropped(obs, f"not JSON: {exc}", forms)
        try:
            return (text + "\n").encode("utf-8")
        except UnicodeEncodeError:
            return (escape_surrogates(text) + "\n").encode("utf-8")

    def _dropped(self, obs: Any, reason: str, forms: tuple[str, ...]) -> str:
        self.dropped += 1
        kind = next((k for k in LINE_KINDS if isinstance(obs, dict) and k in obs), "line")
        body = obs.get(kind) if isinstance(obs, dict) else None
        what = None
        if kind == "event" and isinstance(body, dict) and isinstance(body.get("payload"), dict):
            what = body["payload"].get("type")
        elif isinstance(body, dict):
            what = body.get("kind")
        nodes, depth = _measure(obs)
        line = observations.dropped(
            kind,
            logs.scrub(reason[:300], forms),
            nodes,
            depth,
            logs.scrub(what[:100], forms) if isinstance(what, str) else None,
        )
        stamp = obs.get("t") if isinstance(obs, dict) else None
        if not isinstance(stamp, int | float) or not math.isfinite(stamp):
            stamp = self.stamp()
        return _dumps({"t": stamp, **line})

    def write(self, obs: dict[str, Any]) -> None:
        if self._fh is None:
            return
        data = self.encode(obs)
        try:
            self._fh.write(data)
            self._fh.flush()
        except (OSError, ValueError) as exc:
            self.error = f"cannot write {self.path}: {getattr(exc, 'strerror', None) or exc}"
            self._abandon()
            return
        self.lines += 1

    def _abandon(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            with contextlib.suppress(OSError, ValueError):
                fh.close()

    def close(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            fh.close()
        except (OSError, ValueError) as exc:
            self.error = self.error or f"cannot write {self.path}: {getattr(exc, 'strerror', None) or exc}"

    def __enter__(self) -> EventLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _loads(line: str) -> Any:
    try:
        return json.loads(line)
    except RecursionError:
        # Nested deeper than the stack allows: cut like the stream cuts live events.
        return jsonsafe.loads(line)


def read_log(path: str | os.PathLike[str]) -> Iterator[Any]:
    """Parsed lines of a log. A line that is not JSON is yielded as ``None``; a line
    nested too deeply to parse has its deep values cut (``t3tui.opencode.jsonsafe``)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                yield _loads(line)
            except (ValueError, RecursionError):
                yield None


_TEXT = (str, type(None))
# The fields of local actions (t3tui writes these itself, so the store trusts them) and
# the types they must have. A line that breaks them is skipped.
_ACTION_FIELDS: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "sessionID": _TEXT,
    "messageID": _TEXT,
    "directory": _TEXT,
    "text": _TEXT,
    "error": _TEXT,
    "ok": (bool, type(None)),
    "providerID": _TEXT,
    "op": _TEXT,
    "status": _TEXT,
}
_ACTION_NEEDS = {"interrupt": ("sessionID",), "prompt": ("sessionID", "messageID")}


def well_formed(obs: Any) -> bool:
    """False for a line replay must skip before the store sees it: a local action whose
    ids are not strings (``messageID: null`` made a turn with no id)."""
    if not isinstance(obs, dict) or "action" not in obs or "event" in obs:
        return True
    action = obs["action"]
    if not isinstance(action, dict):
        return False
    for key, types in _ACTION_FIELDS.items():
        if key in action and not isinstance(action[key], types):
            return False
    kind = action.get("kind")
    if not isinstance(kind, str):
        return False
    return all(isinstance(action.get(k), str) and action[k] for k in _ACTION_NEEDS.get(kind, ()))


class ReplayStats:
    """How a replay went: ``lines`` read (blank ones aside) and ``skipped``: not JSON,
    of no known kind, or rejected by the store."""

    __slots__ = ("lines", "skipped")

    def __init__(self) -> None:
        self.lines = 0
        self.skipped = 0


def replay(
    path: str | os.PathLike[str], store: Store | None = None, stats: ReplayStats | None = None
) -> Store:
    """Apply every line of the log at ``path`` to ``store`` (a new one by default).

    Never raises for what the log holds: a line the store cannot take is skipped and
    counted in ``store.rejected`` (and ``stats``).
    """
    store = store if store is not None else Store()
    stats = stats if stats is not None else ReplayStats()
    apply = store.apply
    loads = json.loads
    lines = skipped = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            lines += 1
            try:
                obs = loads(line)
            except ValueError:
                obs = None
            except RecursionError:
                obs = _cut(line)
            if obs.__class__ is not dict or ("event" not in obs and not _applicable(obs)):
                if obs.__class__ is not dict or not well_formed(obs):
                    store.rejected += 1
                skipped += 1
                continue
            before = store.rejected
            try:
                apply(obs)
            except Exception:  # the store promises not to raise; replay keeps the promise for it
                store.rejected += 1
            if store.rejected != before:
                skipped += 1
    stats.lines += lines
    stats.skipped += skipped
    return store


def _cut(line: str) -> Any:
    try:
        return jsonsafe.loads(line)
    except (ValueError, RecursionError):
        return None


def _applicable(obs: dict[str, Any]) -> bool:
    """A line of a kind the store takes (other than an event), well formed."""
    return ("snapshot" in obs or "stream" in obs or "action" in obs) and well_formed(obs)


# -- state dump ---------------------------------------------------------------------


def _request_dump(req: Any) -> dict[str, Any]:
    return req.model_dump(mode="json", exclude_none=True)


def turn_dump(turn: Turn) -> dict[str, Any]:
    return {
        "id": turn.id,
        "state": turn.state,
        "prompt": turn.prompt,
        "text": turn.text,
        "error": turn.error if turn.state == "error" else None,
        "settledBy": turn.settled_by,
        "reverted": turn.reverted,
    }


def thread_dump(th: Thread) -> dict[str, Any]:
    out = {
        "id": th.id,
        "directory": th.directory,
        "title": th.title,
        "parentID": th.parent_id,
        "status": th.status,
        "lastError": th.last_error if th.status == "error" else None,
        "turns": [turn_dump(th.turns[t]) for t in sorted(th.turns)],
        "pendingPermissions": [_request_dump(p) for _, p in sorted(th.permissions.items())],
        "pendingQuestions": [_request_dump(q) for _, q in sorted(th.questions.items())],
    }
    work = work_dump(th)  # only for a thread with todos, changed files, tokens or a cost
    if work is not None:
        out["work"] = work
    return out


def dump(store: Store) -> dict[str, Any]:
    """The state dump of STATE.md."""
    return {
        "connection": store.connection,
        "threads": [thread_dump(store.threads[t]) for t in sorted(store.threads)],
    }


def summary(store: Store) -> str:
    """A readable account of the state, for a bug report."""
    lines = [f"connection: {store.connection}", f"threads: {len(store.threads)}"]
    if store.rejected:
        lines.append(f"skipped malformed lines/events: {store.rejected}")
    for th in sorted(store.threads.values(), key=lambda t: (t.directory or "", t.id)):
        title = th.title or "(untitled)"
        lines.append("")
        lines.append(f"{th.id}  {th.status}  {title}")
        lines.append(f"  directory: {th.directory or '?'}")
        if th.parent_id:
            lines.append(f"  parent: {th.parent_id}")
        if th.status == "error" and th.last_error:
            lines.append(f"  last error: {th.last_error}")
        if th.retry is not None and th.status == "retrying":
            lines.append(f"  retrying: attempt {th.retry.attempt}: {th.retry.message}")
        for tid in sorted(th.turns):
            turn = th.turns[tid]
            prompt = turn.prompt.replace("\n", " ")
            text = turn.text.replace("\n", " ")
            how = turn.state
            if turn.state == "interrupted" and turn.settled_by:
                how += f", {turn.settled_by}"  # why it ended (docs/state-rules.md)
            if turn.reverted:
                how += ", reverted"
            lines.append(f"  - {turn.id} [{how}] {_clip(prompt, 60)!r}")
            if text:
                lines.append(f"      {_clip(text, 100)!r}")
            if turn.state == "error" and turn.error:
                lines.append(f"      error: {turn.error}")
        for pid, perm in sorted(th.permissions.items()):
            lines.append(f"  ? permission {pid}: {perm.permission} {', '.join(perm.patterns)}")
        for qid, q in sorted(th.questions.items()):
            asked = "; ".join(x.question for x in q.questions)
            lines.append(f"  ? question {qid}: {asked}")
        lines += work_summary(th)
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
