"""Unified diffs into rows a viewer can draw: hunks, old and new line numbers, what each line is.

Pure and tolerant: any text parses (a line the parser does not understand becomes a
``meta`` row, shown as it came), nothing raises. The patches come from the server
(``FileDiff.patch``: opencode writes them with jsdiff, ``Index:``/``===`` headers and a
tab after the file names) or from git (``diff --git``, renames, binary notices). A
patch whose hunk header counts are wrong still shows every ``+``/``-`` line.

Also here: the diffs an edit tool's part carries (``edit``, ``multiedit``, ``write``,
``apply_patch``, from its ``state.metadata``), and the changed spans of a removed line
and the added line that replaced it (the viewer marks them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from t3tui.state.work import FileDiff, read_file_diff

# Row kinds: a line of the file (context, added, removed), a hunk's ``@@`` line, a
# file header the viewer hides (``---``/``+++``, ``Index:``), any other line outside a
# hunk (renames, modes, binary notices, text that is no diff), ``\ No newline``.
CONTEXT, ADDED, REMOVED, HUNK, HEADER, META, NOTE = (
    "context",
    "added",
    "removed",
    "hunk",
    "header",
    "meta",
    "note",
)
LINE_KINDS = frozenset({CONTEXT, ADDED, REMOVED})

_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)")
_HEADERS = ("--- ", "+++ ", "Index: ", "diff --git ", "index ", "====")
_LONGEST_NUMBER = 10**12  # a line number past this is no line number (a hostile header)


@dataclass(frozen=True, slots=True)
class Row:
    kind: str
    text: str  # the line without its sign (the whole line for hunk, header, meta, note)
    old: int | None = None  # its number in the old file (context, removed)
    new: int | None = None  # its number in the new file (context, added)
    hunk: int = -1  # the hunk it belongs to (-1: before the first)


@dataclass(slots=True)
class Patch:
    rows: list[Row] = field(default_factory=list)
    hunks: list[int] = field(default_factory=list)  # the row of each hunk's ``@@`` line
    additions: int = 0
    deletions: int = 0
    binary: bool = False
    old_path: str | None = None
    new_path: str | None = None


def _path(line: str, prefix: str) -> str | None:
    """The file named by a ``---``/``+++`` line (``a/``/``b/`` and a tab's suffix dropped)."""
    name = line[4:].split("\t", 1)[0].strip()
    if name in ("", "/dev/null"):
        return None
    return name[2:] if name.startswith(prefix) else name


def _number(text: str | None, default: int) -> int:
    if text is None:
        return default
    value = int(text)
    return value if value < _LONGEST_NUMBER else default


def parse_patch(text: Any) -> Patch:
    """The rows of a unified diff (``text`` of any type: not a string is no rows)."""
    patch = Patch()
    if not isinstance(text, str) or not text:
        return patch
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    rows = patch.rows
    old = new = 0
    old_left = new_left = 0
    hunk = -1
    in_hunk = False
    git = False
    for raw in lines:
        line = raw[:-1] if raw.endswith("\r") else raw
        first = line[:1]
        if first == "@" and (m := _HUNK.match(line)) is not None:
            hunk += 1
            patch.hunks.append(len(rows))
            old, old_left = _number(m.group(1), 0), _number(m.group(2), 1)
            new, new_left = _number(m.group(3), 0), _number(m.group(4), 1)
            # A side of no lines names the line before the hunk (``-0,0``).
            old += old_left == 0
            new += new_left == 0
            in_hunk = True
            rows.append(Row(HUNK, line, hunk=hunk))
            continue
        if in_hunk and first == "\\":
            rows.append(Row(NOTE, line, hunk=hunk))
            continue
        counted = old_left > 0 or new_left > 0
        if in_hunk and (counted or (first in ("+", "-", " ") and not line.startswith(_HEADERS))):
            if first == " " or (line == "" and counted):
                rows.append(Row(CONTEXT, line[1:], old, new, hunk))
                old, new = old + 1, new + 1
                old_left, new_left = max(0, old_left - 1), max(0, new_left - 1)
                continue
            if first == "-":
                rows.append(Row(REMOVED, line[1:], old, None, hunk))
                patch.deletions += 1
                old += 1
                old_left = max(0, old_left - 1)
                continue
            if first == "+":
                rows.append(Row(ADDED, line[1:], None, new, hunk))
                patch.additions += 1
                new += 1
                new_left = max(0, new_left - 1)
                continue
        in_hunk = False
        old_left = new_left = 0
        if line.startswith(_HEADERS):
            rows.append(Row(HEADER, line, hunk=hunk))
            if line.startswith("diff --git "):
                git = True
            elif line.startswith("--- "):
                patch.old_path = _path(line, "a/" if git else "\0")
            elif line.startswith("+++ "):
                patch.new_path = _path(line, "b/" if git else "\0")
            continue
        if line.startswith("rename from "):
            patch.old_path = line[len("rename from ") :]
        elif line.startswith("rename to "):
            patch.new_path = line[len("rename to ") :]
        elif line.startswith("GIT binary patch") or (
            line.startswith("Binary files ") and line.endswith(" differ")
        ):
            patch.binary = True
        rows.append(Row(META, line, hunk=hunk))
    return patch


def pairs(rows: list[Row]) -> dict[int, int]:
    """Removed rows and the added rows that replace them, both ways: in a run of removed
    lines followed by a run of added lines, the first of each, the second of each, …
    (what the side-by-side view puts on one line, and what the changed spans compare)."""
    out: dict[int, int] = {}
    removed: list[int] = []
    added = 0
    for i, row in enumerate(rows):
        if row.kind == REMOVED:
            if added:
                removed, added = [], 0
            removed.append(i)
        elif row.kind == ADDED:
            if added < len(removed):
                out[removed[added]] = i
                out[i] = removed[added]
            added += 1
        elif row.kind != NOTE:
            removed, added = [], 0
    return out


def side_by_side(rows: list[Row]) -> list[tuple[int | None, int | None]]:
    """The rows of a side-by-side view, as (left row, right row) indexes into ``rows``.

    A context line is on both sides; removed lines go left and the added lines that
    replace them right, on the same lines; any other row (a hunk's line, a note) spans
    the width, as ``(i, i)``.
    """
    out: list[tuple[int | None, int | None]] = []
    removed: list[int] = []
    added: list[int] = []

    def flush() -> None:
        for k in range(max(len(removed), len(added))):
            out.append((removed[k] if k < len(removed) else None, added[k] if k < len(added) else None))
        removed.clear()
        added.clear()

    for i, row in enumerate(rows):
        if row.kind == REMOVED:
            if added:
                flush()
            removed.append(i)
        elif row.kind == ADDED:
            added.append(i)
        else:
            flush()
            out.append((i, i))
    flush()
    return out


LONGEST_COMPARED = 500  # characters: longer lines are marked whole, not compared


def changed_spans(old: str, new: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The spans of ``old`` and of ``new`` that differ, when the two lines are alike
    enough to be one line edited (else none: the whole line is the change)."""
    if len(old) > LONGEST_COMPARED or len(new) > LONGEST_COMPARED or old == new:
        return [], []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    if matcher.ratio() < 0.4:
        return [], []
    a: list[tuple[int, int]] = []
    b: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            a.append((i1, i2))
        if j2 > j1:
            b.append((j1, j2))
    return a, b


# -- the diffs of a tool call -----------------------------------------------------------


def added_patch(path: str, content: str) -> str:
    """A patch that adds ``content`` as a new file (what a ``write`` of a new file did)."""
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    head = f"--- /dev/null\n+++ {path}\n@@ -0,0 +1,{len(lines)} @@\n"
    return head + "".join(f"+{line}\n" for line in lines)


def _counted(diff: FileDiff) -> FileDiff:
    """``diff`` with its counts read from its patch when the server sent none."""
    if diff.additions or diff.deletions or not diff.patch:
        return diff
    parsed = parse_patch(diff.patch)
    return FileDiff(diff.file, diff.patch, parsed.additions, parsed.deletions, diff.status)


def _from_metadata(meta: dict[str, Any], path: str) -> FileDiff | None:
    """One file's diff from an edit's metadata: its ``filediff``, else its ``diff`` text."""
    filediff = read_file_diff(meta.get("filediff"))
    if filediff is not None and filediff.patch:
        return _counted(filediff)
    diff = meta.get("diff")
    if isinstance(diff, str) and diff.strip():
        return _counted(FileDiff(path or (filediff.file if filediff else "") or "?", diff))
    return None


def _apply_patch_files(files: Any) -> list[FileDiff]:
    out: list[FileDiff] = []
    statuses = {"add": "added", "delete": "deleted"}
    for item in files if isinstance(files, list) else ():
        if not isinstance(item, dict):
            continue
        name = next(
            (v for k in ("relativePath", "movePath", "filePath") if isinstance(v := item.get(k), str) and v),
            None,
        )
        if name is None:
            continue
        patch = item.get("patch") if isinstance(item.get("patch"), str) else item.get("diff")
        read = read_file_diff(
            {
                "file": name,
                "patch": patch if isinstance(patch, str) else "",
                "additions": item.get("additions"),
                "deletions": item.get("deletions"),
                "status": statuses.get(item.get("type"), "modified"),  # type: ignore[arg-type]
            }
        )
        if read is not None:
            out.append(_counted(read))
    return out


def tool_diffs(tool: Any, state_input: Any, metadata: Any) -> list[FileDiff]:
    """The files an edit tool changed, with their patches, from its part's state (empty
    for any other tool, or while the server has not said)."""
    args = state_input if isinstance(state_input, dict) else {}
    meta = metadata if isinstance(metadata, dict) else {}
    path = args.get("filePath") if isinstance(args.get("filePath"), str) else ""
    if tool == "apply_patch":
        files = _apply_patch_files(meta.get("files"))
        if files:
            return files
    if tool == "multiedit":
        results = meta.get("results")
        out = []
        for result in results if isinstance(results, list) else ():
            one = _from_metadata(result, path) if isinstance(result, dict) else None
            if one is not None:
                out.append(one)
        if out:
            return out
    if tool in ("edit", "multiedit", "write", "apply_patch"):
        one = _from_metadata(meta, path)
        if one is not None:
            return [one]
    if tool == "write" and path and isinstance(args.get("content"), str):
        status = "added" if meta.get("exists") is False else "modified"
        content = args["content"]
        lines = content.count("\n") + (not content.endswith("\n") and bool(content))
        return [FileDiff(path, added_patch(path, content), additions=lines, status=status)]
    return []


EDIT_TOOLS = frozenset({"edit", "multiedit", "write", "apply_patch"})
