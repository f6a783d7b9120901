"""A thread as Markdown (t3tui/state/export.py), on real opencode 1.18.33 captures: what
``/export`` writes and the copy key copies, without a screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from t3tui.eventlog import replay
from t3tui.state.export import Labels, file_stem, reply_markdown, thread_markdown, tool_summary
from t3tui.state.store import Thread

CAPTURES = Path("/work/shared/fixtures/opencode-1.18.33")
FIXTURES = CAPTURES if CAPTURES.is_dir() else Path(__file__).parent / "fixtures"


def only_thread(name: str) -> Thread:
    store = replay(FIXTURES / name)
    [thread] = store.threads.values()
    return thread


def test_a_prompt_and_its_reply() -> None:
    thread = only_thread("b_prompt.jsonl")
    [turn] = thread.sorted_turns()
    assert reply_markdown(turn) == "".join(f"tok{i} " for i in range(20)).strip("\n")
    text = thread_markdown(thread, states={turn.id: "Worked 1s"})
    assert text.startswith("# Mock session title\n\n")
    assert f"- Thread: `{thread.id}`" in text and "- Directory: `/home/dev/project`" in text
    assert "## Prompt\n\nSay something\n\n## Reply\n\ntok0 tok1" in text
    assert text.endswith("_Worked 1s_\n")


def test_a_tool_call_is_one_line_between_the_texts() -> None:
    thread = only_thread("e_tool_bash.jsonl")
    [turn] = thread.sorted_turns()
    text = thread_markdown(thread)
    assert "- $ `echo hello-from-tool`" in text
    assert "hello-from-tool\n" not in text.split("`echo hello-from-tool`")[1]  # no output
    assert text.index("use a tool") < text.index("echo hello-from-tool") < text.index("The tool ran fine.")
    assert reply_markdown(turn) == "The tool ran fine."  # the copy key copies the words only


def test_a_read_and_a_question_as_opencode_shows_them() -> None:
    read = only_thread("e_tool_read_permission_once.jsonl")
    assert "- → `read /etc/hostname`" in thread_markdown(read)
    question = only_thread("e_tool_question_reply.jsonl")
    assert "- → `question Which colour?`" in thread_markdown(question)


def test_reasoning_only_when_asked() -> None:
    thread = only_thread("b3_reasoning.jsonl")
    reasoning = [p.text for p in thread.parts.values() if p.type == "reasoning"]
    assert reasoning and reasoning[0].strip()
    first_line = reasoning[0].strip().split("\n")[0]
    assert first_line not in thread_markdown(thread)
    shown = thread_markdown(thread, reasoning=True, labels=Labels(reasoning="思考过程"))
    assert f"> _思考过程:_ {first_line}" in shown


def test_an_interrupted_turn_keeps_its_partial_text() -> None:
    thread = only_thread("c_abort.jsonl")
    [turn] = thread.sorted_turns()
    assert turn.state == "interrupted" and turn.text
    assert reply_markdown(turn) in thread_markdown(thread, states={turn.id: "Interrupted"})


class Data:
    """A tool part as the store keeps it (tool, state)."""

    def __init__(self, tool: str, **state: Any) -> None:
        self.tool = tool
        self.state = type("State", (), {"input": {}, "metadata": {}, "title": None, **state})()


@pytest.mark.parametrize(
    ("tool", "state", "line"),
    [
        ("bash", {"input": {"command": "ls -la"}}, ("$", "ls -la")),
        ("read", {"input": {"filePath": "/home/dev/project/src/x.py"}}, ("→", "read src/x.py")),
        ("edit", {"input": {"filePath": "/elsewhere/x.py"}}, ("←", "edit /elsewhere/x.py")),
        ("write", {"input": {"filePath": "/home/dev/project/a.md"}}, ("←", "write a.md")),
        (
            "grep",
            {"input": {"pattern": "TODO", "path": "/home/dev/project/src"}, "metadata": {"matches": 3}},
            ("✱", 'grep "TODO" in src (3)'),
        ),
        ("glob", {"input": {"pattern": "**/*.py"}}, ("✱", 'glob "**/*.py"')),
        ("webfetch", {"input": {"url": "https://example.com"}}, ("%", "webfetch https://example.com")),
        (
            "task",
            {"input": {"description": "look around", "subagent_type": "explore"}},
            ("│", "explore · look around"),
        ),
        ("mcp_thing", {"title": "did a thing"}, ("⚙", "mcp_thing did a thing")),
        ("bash", {"input": {"command": "echo a\n  echo b"}}, ("$", "echo a echo b")),
    ],
)
def test_each_tool_kind_in_one_line(tool: str, state: dict[str, Any], line: tuple[str, str]) -> None:
    assert tool_summary(Data(tool, **state), "/home/dev/project") == line


def test_file_names_from_titles() -> None:
    assert file_stem("Fix the /export bug!") == "fix-the-export-bug"
    assert file_stem("修复导出") == "修复导出"
    assert file_stem("../../etc/passwd") == "etc-passwd"
    assert file_stem("  ", fallback="ses_1") == "ses_1"
    assert len(file_stem("x" * 300)) == 60
