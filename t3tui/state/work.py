"""What an agent did in a thread, as the server reports it: its todo list and the files it changed.

Pure records and tolerant readers: a field of the wrong type or shape is skipped, never
raised. The shapes are opencode 1.18.33's:

- ``todo.updated {sessionID, todos}`` and ``GET /session/{id}/todo``: ``[{content, status,
  priority}]``, status one of ``pending``, ``in_progress``, ``completed``, ``cancelled``.
- A file's diff, ``{file, patch, additions, deletions, status}`` (status ``added``,
  ``modified`` or ``deleted``; ``patch`` a unified diff): in ``session.diff {sessionID,
  diff}``, ``GET /session/{id}/diff``, a user message's ``summary.diffs`` (what its turn
  changed), and an ``edit`` tool's ``state.metadata.filediff``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

TODO_STATUSES = ("pending", "in_progress", "completed", "cancelled")


@dataclass(frozen=True, slots=True)
class Todo:
    content: str
    status: str  # one of TODO_STATUSES; anything else reads as "pending"
    priority: str = ""


@dataclass(frozen=True, slots=True)
class FileDiff:
    file: str  # as the server names it: relative to the project, or absolute (a tool's filediff)
    patch: str = ""  # a unified diff; empty when the server sent counts only
    additions: int = 0
    deletions: int = 0
    status: str = "modified"  # added, modified, deleted


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def read_todos(raw: Any) -> list[Todo]:
    """The todos in ``raw`` (a list of objects), skipping any that has no text."""
    out: list[Todo] = []
    for item in raw if isinstance(raw, list) else ():
        if not isinstance(item, dict) or not isinstance(item.get("content"), str):
            continue
        status = item.get("status")
        out.append(
            Todo(
                content=item["content"],
                status=status if status in TODO_STATUSES else "pending",
                priority=item["priority"] if isinstance(item.get("priority"), str) else "",
            )
        )
    return out


def read_file_diff(item: Any) -> FileDiff | None:
    """One file's diff, or None if ``item`` does not name a file."""
    if not isinstance(item, dict):
        return None
    name = item.get("file", item.get("path"))
    if not isinstance(name, str) or not name:
        return None
    status = item.get("status")
    return FileDiff(
        file=name,
        patch=item["patch"] if isinstance(item.get("patch"), str) else "",
        additions=_int(item.get("additions")),
        deletions=_int(item.get("deletions")),
        status=status if status in ("added", "modified", "deleted") else "modified",
    )


def read_file_diffs(raw: Any) -> list[FileDiff]:
    """Every file's diff in ``raw`` (a list), in the server's order, a repeated file once (the last)."""
    by_file: dict[str, FileDiff] = {}
    for item in raw if isinstance(raw, list) else ():
        diff = read_file_diff(item)
        if diff is not None:
            by_file.pop(diff.file, None)
            by_file[diff.file] = diff
    return list(by_file.values())


def totals(diffs: Iterable[FileDiff]) -> tuple[int, int]:
    """Lines added and removed over ``diffs``."""
    added = removed = 0
    for d in diffs:
        added += d.additions
        removed += d.deletions
    return added, removed
