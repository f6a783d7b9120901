"""Unified diffs into rows (state/diffparse.py): real opencode 1.18.33 patches, any text,
and patches made by difflib round-tripping their lines, numbers and counts."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from t3tui.state.diffparse import (
    ADDED,
    CONTEXT,
    HEADER,
    HUNK,
    META,
    NOTE,
    REMOVED,
    Row,
    added_patch,
    changed_spans,
    pairs,
    parse_patch,
    side_by_side,
    tool_diffs,
)

# The messages of a real run (todowrite, write, edit, task) against opencode 1.18.33:
# each prompt's summary.diffs and each tool part's input and metadata, as the server sent them.
CAPTURE = Path(__file__).parent / "fixtures" / "diffs-1.18.33.json"


def capture_messages() -> list[dict[str, Any]]:
    return json.loads(CAPTURE.read_text())["messages"]


def real_summary() -> list[dict[str, Any]]:
    for msg in capture_messages():
        summary = msg["info"].get("summary")
        if isinstance(summary, dict) and summary.get("diffs"):
            return summary["diffs"]
    raise AssertionError("the capture has no summary diffs")


def real_tool(name: str) -> dict[str, Any]:
    for msg in capture_messages():
        for part in msg["parts"]:
            if part["type"] == "tool" and part["tool"] == name:
                return part
    raise AssertionError(f"the capture has no {name} call")


def kinds(rows: list[Row]) -> list[str]:
    return [row.kind for row in rows]


# -- real patches -----------------------------------------------------------------------


def test_a_real_turn_summary_parses_with_its_counts_and_numbers() -> None:
    diffs = {d["file"]: d for d in real_summary()}
    readme = parse_patch(diffs["README.md"]["patch"])
    assert (readme.additions, readme.deletions) == (2, 1) == (diffs["README.md"]["additions"], 1)
    assert readme.old_path == readme.new_path == "README.md"  # the tab after the name is gone
    assert kinds(readme.rows) == [HEADER] * 4 + [HUNK, REMOVED, ADDED, ADDED]
    lines = [(r.old, r.new, r.text) for r in readme.rows if r.kind in (ADDED, REMOVED)]
    assert lines == [(1, None, "# project p"), (None, 1, "# project P"), (None, 2, "more")]
    notes = parse_patch(diffs["notes.txt"]["patch"])  # a new file: @@ -0,0 +1,30 @@
    assert (notes.additions, notes.deletions) == (30, 0)
    assert [r.new for r in notes.rows if r.kind == ADDED] == list(range(1, 31))
    assert notes.rows[-1].text == "line 29"


def test_the_diffs_of_real_tool_calls() -> None:
    edit = real_tool("edit")
    [diff] = tool_diffs("edit", edit["state"]["input"], edit["state"]["metadata"])
    assert diff.file.endswith("/README.md") and (diff.additions, diff.deletions) == (2, 1)
    assert "-# project p" in diff.patch
    write = real_tool("write")  # 1.18.33 sends no diff for a write: its content, as a new file
    [written] = tool_diffs("write", write["state"]["input"], write["state"]["metadata"])
    assert written.status == "added" and (written.additions, written.deletions) == (30, 0)
    assert parse_patch(written.patch).rows[-1] == Row(ADDED, "line 29", None, 30, 0)
    for content, count in (("", 0), ("one", 1), ("one\n", 1), ("a\n\nb", 3)):
        [diff] = tool_diffs("write", {"filePath": "/p/x.txt", "content": content}, {"exists": False})
        assert diff.additions == count == parse_patch(diff.patch).additions
    task = real_tool("task")
    assert tool_diffs("task", task["state"]["input"], task["state"]["metadata"]) == []


def test_apply_patch_and_multiedit_metadata() -> None:
    patch = "--- a.py\n+++ a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
    files = [
        {
            "filePath": "/p/a.py",
            "relativePath": "a.py",
            "type": "update",
            "patch": patch,
            "additions": 1,
            "deletions": 1,
        },
        {"filePath": "/p/b.py", "relativePath": "b.py", "type": "delete", "patch": "", "deletions": 3},
        {"filePath": "/p/c.py", "relativePath": "c.py", "type": "add", "patch": added_patch("c.py", "y\n")},
        "not a file",
    ]
    got = tool_diffs("apply_patch", {}, {"files": files})
    assert [(d.file, d.status, d.additions, d.deletions) for d in got] == [
        ("a.py", "modified", 1, 1),
        ("b.py", "deleted", 0, 3),
        ("c.py", "added", 1, 0),  # counted from the patch when the server sent none
    ]
    results = [
        {"filediff": {"file": "/p/a.py", "patch": patch, "additions": 1, "deletions": 1}},
        {"diff": patch},
    ]
    assert len(tool_diffs("multiedit", {"filePath": "/p/a.py"}, {"results": results})) == 2
    # Whatever the shapes, nothing raises.
    for meta in (None, [], {"files": "x"}, {"results": [None, 3]}, {"filediff": 7, "diff": 8}):
        assert tool_diffs("apply_patch", None, meta) == []
        assert tool_diffs("multiedit", "x", meta) == []
        assert tool_diffs("edit", {"filePath": 3}, meta) == []


# -- what unified diffs hold ---------------------------------------------------------------


def test_no_newline_renames_binary_and_modes() -> None:
    git = (
        "diff --git a/old name.py b/new name.py\n"
        "similarity index 90%\n"
        "rename from old name.py\n"
        "rename to new name.py\n"
        "--- a/old name.py\n"
        "+++ b/new name.py\n"
        "@@ -1,2 +1,2 @@\n"
        " keep\n"
        "-end\n"
        "\\ No newline at end of file\n"
        "+end\n"
        "diff --git a/logo.png b/logo.png\n"
        "new file mode 100644\n"
        "Binary files /dev/null and b/logo.png differ\n"
    )
    patch = parse_patch(git)
    assert patch.old_path == "old name.py" and patch.new_path == "new name.py"
    assert patch.binary and (patch.additions, patch.deletions) == (1, 1)
    assert [r.kind for r in patch.rows if r.kind in (NOTE, META)] == [META, META, META, NOTE, META, META]
    note = next(r for r in patch.rows if r.kind == NOTE)
    assert note.text == "\\ No newline at end of file"
    assert next(r for r in patch.rows if r.kind == ADDED) == Row(ADDED, "end", None, 2, 0)


def test_crlf_tabs_escape_codes_and_markup_stay_as_they_came() -> None:
    lines = ["@@ -1,3 +1,3 @@", " \tindented", "-[bold]old[/bold]", "+\x1b[31mred\x1b[0m [/]", " last"]
    lf = parse_patch("\n".join(lines) + "\n")
    crlf = parse_patch("\r\n".join(lines) + "\r\n")
    assert lf.rows == crlf.rows
    assert [r.text for r in lf.rows[1:]] == [
        "\tindented",
        "[bold]old[/bold]",
        "\x1b[31mred\x1b[0m [/]",
        "last",
    ]
    assert [(r.old, r.new) for r in lf.rows[1:]] == [(1, 1), (2, None), (None, 2), (3, 3)]


def test_a_hunk_whose_counts_are_wrong_still_shows_every_line() -> None:
    patch = parse_patch("@@ -1,1 +1,1 @@\n-a\n+b\n+c\n-d\n not a hunk? \ngarbage\n")
    assert (patch.additions, patch.deletions) == (2, 2)
    assert kinds(patch.rows) == [HUNK, REMOVED, ADDED, ADDED, REMOVED, CONTEXT, META]
    assert patch.rows[-1].text == "garbage"


def test_text_that_is_no_diff_is_meta_rows() -> None:
    patch = parse_patch("hello\n@@ nonsense @@\n+not counted\n")
    assert kinds(patch.rows) == [META, META, META]
    assert (patch.additions, patch.deletions) == (0, 0)
    for value in (None, 3, b"@@ -1 +1 @@", ["x"], ""):
        assert parse_patch(value).rows == []


def test_a_removed_line_in_a_hunk_may_look_like_a_header() -> None:
    patch = parse_patch("@@ -1,2 +1,1 @@\n--- x\n-++ y\n+--- x\n")
    assert kinds(patch.rows) == [HUNK, REMOVED, REMOVED, ADDED]
    assert [r.text for r in patch.rows[1:]] == ["-- x", "++ y", "--- x"]


def test_side_by_side_pairs_removed_with_added_lines() -> None:
    patch = parse_patch("@@ -1,4 +1,3 @@\n a\n-b\n-c\n+B\n d\n-e\n+E\n+F\n")
    rows = patch.rows
    texts = [
        (rows[left].text if left is not None else None, rows[right].text if right is not None else None)
        for left, right in side_by_side(rows)
    ]
    assert texts == [
        ("@@ -1,4 +1,3 @@", "@@ -1,4 +1,3 @@"),
        ("a", "a"),
        ("b", "B"),
        ("c", None),
        ("d", "d"),
        ("e", "E"),
        (None, "F"),
    ]
    partner = pairs(rows)
    assert rows[partner[2]].text == "B" and rows[partner[6]].text == "E" and 3 not in partner


def test_changed_spans_mark_the_edit_in_a_line() -> None:
    old, new = changed_spans("return old_name(value)", "return new_name(value)")
    assert ["return old_name(value)"[a:b] for a, b in old] == ["old"]
    assert ["return new_name(value)"[a:b] for a, b in new] == ["new"]
    assert changed_spans("completely", "different!") == ([], [])  # not one line edited
    assert changed_spans("x" * 600, "y" * 600) == ([], [])


# -- properties ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_any_text_parses_into_one_row_per_line(text: str) -> None:
    patch = parse_patch(text)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    assert len(patch.rows) == len(lines)
    assert patch.additions == sum(r.kind == ADDED for r in patch.rows)
    assert patch.deletions == sum(r.kind == REMOVED for r in patch.rows)
    seen = [i for pair in side_by_side(patch.rows) for i in dict.fromkeys(pair) if i is not None]
    assert sorted(seen) == list(range(len(patch.rows)))


DIFF_LINE = st.sampled_from(
    ["", "a", "b", "x = 1", "\tTAB", "[bold]", "--- x", "+++ y", "@@ -1 +1 @@", "\\ z"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(DIFF_LINE, max_size=30), st.lists(DIFF_LINE, max_size=30), st.integers(0, 4))
def test_a_difflib_patch_round_trips_its_lines_and_counts(
    old: list[str], new: list[str], context: int
) -> None:
    text = "".join(
        line if line.endswith("\n") else line + "\n"
        for line in difflib.unified_diff(old, new, "a/f", "b/f", lineterm="", n=context)
    )
    patch = parse_patch(text)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    added = removed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added += j2 - j1
    assert (patch.additions, patch.deletions) == (added, removed)
    # Each line of the file is where its number says.
    for row in patch.rows:
        if row.kind in (CONTEXT, REMOVED):
            assert old[row.old - 1] == row.text  # type: ignore[operator]
        if row.kind in (CONTEXT, ADDED):
            assert new[row.new - 1] == row.text  # type: ignore[operator]
    if old != new:
        assert patch.hunks and patch.new_path == "b/f"
    # The whole file again, from a patch with all of it as context.
    full = parse_patch("".join(f"{x}\n" for x in difflib.unified_diff(old, new, lineterm="", n=10**6)))
    if old != new:
        assert [r.text for r in full.rows if r.kind in (CONTEXT, REMOVED)] == old
        assert [r.text for r in full.rows if r.kind in (CONTEXT, ADDED)] == new


@pytest.mark.parametrize("lines", [5000, 50_000])
def test_a_long_patch_parses_whole(lines: int) -> None:
    text = f"@@ -1,{lines} +1,{lines} @@\n" + "".join(f"-old {i}\n+new {i}\n" for i in range(lines))
    patch = parse_patch(text)
    assert (patch.additions, patch.deletions) == (lines, lines)
    assert patch.rows[-1] == Row(ADDED, f"new {lines - 1}", None, lines, 0)
