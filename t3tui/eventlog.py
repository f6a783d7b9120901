"""Event logs: record what the client observed, replay it, and dump the resulting state.

A log is JSON lines (STATE.md, "Event log"). Replaying one through :class:`Store` gives
the state the live client had, which is how a bug report becomes a test. This module
must not import Textual: ``t3tui replay`` is meant to be quick.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from t3tui.store import Store, Thread, Turn

SECRET_KEYS = frozenset(
    {"key", "apikey", "api_key", "password", "token", "access", "refresh", "authorization", "secret"}
)


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret-looking field replaced by ``"***"``."""
    if isinstance(value, dict):
        return {
            k: (
                "***"
                if isinstance(k, str) and k.lower() in SECRET_KEYS and v not in (None, "")
                else redact(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class EventLogWriter:
    """Appends observations to a log file, one flushed line each.

    Provider snapshots and actions are redacted: an API key never reaches the log.
    """

    def __init__(self, path: str | os.PathLike[str], clock: Any = time.monotonic) -> None:
        self.path = Path(path)
        self._clock = clock
        self._start = clock()
        self._fh: IO[str] | None = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        self.lines = 0

    def stamp(self) -> float:
        return round(self._clock() - self._start, 4)

    def write(self, obs: dict[str, Any]) -> None:
        if self._fh is None:
            return
        if "event" not in obs:
            obs = redact(obs)
        line = dict(obs)
        line.setdefault("t", self.stamp())
        self._fh.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._fh.flush()
        self.lines += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> EventLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_log(path: str | os.PathLike[str]) -> Iterator[Any]:
    """Parsed lines of a log. A line that is not JSON is yielded as ``None``."""
    loads = json.loads
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                yield loads(line)
            except ValueError:
                yield None


def replay(path: str | os.PathLike[str], store: Store | None = None) -> Store:
    store = store if store is not None else Store()
    apply = store.apply
    for obs in read_log(path):
        apply(obs)
    return store


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
    }


def thread_dump(th: Thread) -> dict[str, Any]:
    return {
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
            lines.append(f"  - {turn.id} [{turn.state}] {_clip(prompt, 60)!r}")
            if text:
                lines.append(f"      {_clip(text, 100)!r}")
            if turn.state == "error" and turn.error:
                lines.append(f"      error: {turn.error}")
        for pid, perm in sorted(th.permissions.items()):
            lines.append(f"  ? permission {pid}: {perm.permission} {', '.join(perm.patterns)}")
        for qid, q in sorted(th.questions.items()):
            asked = "; ".join(x.question for x in q.questions)
            lines.append(f"  ? question {qid}: {asked}")
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
