"""A thread as Markdown (``/export``, the copy key), and a tool call in one line.

Pure: the same turns the screen shows, written as a document a user can keep, paste
or diff. Headings and notes come in through :class:`Labels` (the app passes them in
the user's language); what the model and the tools wrote is written as it came,
except that each tool call is one line (what opencode's TUI shows for it collapsed:
``→ read /etc/hostname``, ``$ ls -la``), its output only on request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from t3tui.state.records import PartState, Thread, Turn

# Icons as opencode's TUI draws each tool kind collapsed (routes/session/index.tsx).
ICONS = {
    "bash": "$",
    "read": "→",
    "write": "←",
    "edit": "←",
    "apply_patch": "%",
    "glob": "✱",
    "grep": "✱",
    "list": "→",
    "webfetch": "%",
    "websearch": "◈",
    "task": "│",
    "todowrite": "⚙",
    "todoread": "⚙",
    "question": "→",
    "skill": "→",
}
GENERIC_ICON = "⚙"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def short_path(path: str, directory: str | None) -> str:
    """``path`` relative to the thread's directory when it is inside it."""
    if directory and path.startswith(directory.rstrip("/") + "/"):
        return path[len(directory.rstrip("/")) + 1 :]
    return path


def tool_summary(data: Any, directory: str | None = None) -> tuple[str, str]:
    """A tool call as (icon, one line): ``("→", "read src/app.py")``, ``("$", "ls -la")``.

    ``data`` is the tool part (``tool`` and ``state``). The line is built from the call's
    input, as opencode's TUI builds it; a tool it does not know shows its title.
    """
    tool = _text(getattr(data, "tool", "")) or "tool"
    state = getattr(data, "state", None)
    args = getattr(state, "input", None) or {}
    meta = getattr(state, "metadata", None) or {}
    title = _text(getattr(state, "title", None))
    icon = ICONS.get(tool, GENERIC_ICON)
    path = short_path(_text(args.get("filePath")) or _text(args.get("path")), directory)
    if tool == "bash":
        line = _text(args.get("command")) or title
    elif tool in ("read", "write", "edit", "list"):
        line = f"{tool} {path or title}".rstrip()
    elif tool in ("glob", "grep"):
        line = f'{tool} "{_text(args.get("pattern"))}"'
        if args.get("path"):
            line += f" in {path}"
        count = meta.get("count") if tool == "glob" else meta.get("matches")
        if isinstance(count, int) and not isinstance(count, bool):
            line += f" ({count})"
    elif tool == "webfetch":
        line = f"webfetch {_text(args.get('url'))}".rstrip()
    elif tool == "websearch":
        line = f'websearch "{_text(args.get("query"))}"'
    elif tool == "task":
        kind = _text(args.get("subagent_type")) or "general"
        line = f"{kind} · {_text(args.get('description')) or title}"
    elif tool == "question":
        questions = args.get("questions")
        first = questions[0] if isinstance(questions, list) and questions else {}
        line = f"question {_text(first.get('question') if isinstance(first, dict) else '') or title}".rstrip()
    elif tool == "skill":
        line = f'skill "{_text(args.get("name"))}"'
    elif tool == "apply_patch":
        line = f"patch {title}".rstrip()
    else:
        line = f"{tool} {title or _first_arg(args)}".rstrip()
    return icon, " ".join(line.split()) or tool


def _first_arg(args: dict[str, Any]) -> str:
    for key in ("description", "command", "filePath", "path", "pattern", "url", "query"):
        value = args.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def tool_output(data: Any) -> str:
    """What a tool call printed (its error, if it failed)."""
    state = getattr(data, "state", None)
    if state is None:
        return ""
    if state.status == "error":
        return _text(state.error)
    output = state.output
    if output is None and state.metadata:
        output = state.metadata.get("output")
    return _text(output)


# -- Markdown -------------------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """The words of an export that are not the conversation's (the app translates them)."""

    thread: str = "Thread"
    directory: str = "Directory"
    prompt: str = "Prompt"
    reply: str = "Reply"
    reasoning: str = "Reasoning"
    untitled: str = "Untitled thread"


def reply_markdown(turn: Turn) -> str:
    """A turn's answer as the model wrote it: its text parts, in order, as Markdown."""
    texts = [
        part.text.strip("\n")
        for msg in turn.messages()
        for part in msg.sorted_parts()
        if part.type == "text" and not part.hidden and part.text.strip()
    ]
    return "\n\n".join(texts)


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _quoted(text: str) -> str:
    return "\n".join(("> " + line).rstrip() for line in text.strip("\n").split("\n"))


def _part_markdown(part: PartState, directory: str | None, reasoning: bool, labels: Labels) -> str | None:
    if part.type == "text" and not part.hidden and part.text.strip():
        return part.text.strip("\n")
    if part.type == "reasoning" and reasoning and part.text.strip():
        return _quoted(f"_{labels.reasoning}:_ " + part.text.strip())
    if part.type == "tool" and part.data is not None:
        icon, line = tool_summary(part.data, directory)
        fence = "`" * max(1, max((len(m) for m in re.findall(r"`+", line)), default=0) + 1)
        pad = " " if line.startswith("`") or line.endswith("`") else ""
        status = getattr(part.data.state, "status", "")
        mark = " ✕" if status == "error" else ""
        return f"- {icon} {fence}{pad}{line}{pad}{fence}{mark}"
    return None


def turn_markdown(
    turn: Turn, *, reasoning: bool = False, labels: Labels | None = None, state: str = ""
) -> str:
    """One turn: its prompt, then its answer (text, one line per tool call, reasoning if
    asked), then ``state`` (the state line the screen shows) in italics."""
    labels = labels or Labels()
    directory = turn.thread.directory
    out = [f"## {labels.prompt}", "", turn.prompt.strip("\n") or " ", "", f"## {labels.reply}", ""]
    blocks: list[str] = []
    tools: list[str] = []
    for msg in turn.messages():
        for part in msg.sorted_parts():
            block = _part_markdown(part, directory, reasoning, labels)
            if block is None:
                continue
            if block.startswith("- ") and part.type == "tool":
                tools.append(block)  # consecutive tool calls make one list
                continue
            if tools:
                blocks.append("\n".join(tools))
                tools = []
            blocks.append(block)
    if tools:
        blocks.append("\n".join(tools))
    if turn.state == "error" and turn.error:
        blocks.append(_quoted(turn.error))
    if state:
        blocks.append(f"_{state}_")
    return "\n".join(out) + "\n" + "\n\n".join(blocks) + "\n"


def thread_markdown(
    thread: Thread,
    *,
    reasoning: bool = False,
    labels: Labels | None = None,
    states: dict[str, str] | None = None,
) -> str:
    """The whole thread: its title, then every turn (``states``: turn id -> its state line)."""
    labels = labels or Labels()
    states = states or {}
    head = [f"# {thread.title.strip() or labels.untitled}", ""]
    head.append(f"- {labels.thread}: `{thread.id}`")
    if thread.directory:
        head.append(f"- {labels.directory}: `{thread.directory}`")
    parts = ["\n".join(head) + "\n"]
    for turn in thread.sorted_turns():
        parts.append(turn_markdown(turn, reasoning=reasoning, labels=labels, state=states.get(turn.id, "")))
    return "\n---\n\n".join(parts)


def file_stem(title: str, fallback: str = "thread") -> str:
    """A file name (without extension) from a title: letters, digits and dashes, at most
    60 characters; any script's letters are kept (a Chinese title stays readable)."""
    words = re.findall(r"\w+", title.casefold())
    stem = "-".join(words)[:60].strip("-_")
    return stem or fallback
