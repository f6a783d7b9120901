"""What the user typed, read the way opencode's TUI reads it. Pure: no I/O, no Textual.

- ``@path`` mentions (with ``#20-45`` line ranges) become file parts, and ``@agent``
  mentions agent parts, exactly as opencode's TUI sends them;
- a first word ``/name`` is a command, with its arguments;
- the server's agents (``GET /agent``) and commands (``GET /command``) are read tolerantly:
  a malformed entry is skipped, never a crash.

Offsets are in characters of the text as typed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

RANGE = re.compile(r"#(\d+)(?:-(\d*))?$")
PALETTE_SIZE = 7  # the agent colours cycle through this many theme colours


@dataclass(frozen=True)
class Trigger:
    """A completion the cursor is in: ``@query`` (a file or an agent) or ``/query`` (a command)."""

    kind: str  # "@" or "/"
    start: int  # offset of the "@" or "/"
    end: int  # the cursor
    query: str  # what is typed after the trigger, up to the cursor


def trigger(text: str, cursor: int) -> Trigger | None:
    """The completion the cursor is in, as opencode decides it.

    ``/`` counts only as the first character while the first word is still being typed;
    ``@`` counts at the start or after whitespace, with no whitespace up to the cursor.
    """
    if cursor <= 0 or cursor > len(text):
        return None
    before = text[:cursor]
    if before.startswith("/") and not any(c.isspace() for c in before):
        return Trigger("/", 0, cursor, before[1:])
    at = before.rfind("@")
    if at < 0 or (at > 0 and not before[at - 1].isspace()):
        return None
    query = before[at + 1 :]
    if any(c.isspace() for c in query):
        return None
    return Trigger("@", at, cursor, query)


def split_range(query: str) -> tuple[str, int | None, int | None]:
    """``src/a.py#20-45`` → ("src/a.py", 20, 45). An end not after the start is dropped."""
    match = RANGE.search(query)
    if match is None:
        return query, None, None
    start = int(match.group(1))
    end = int(match.group(2)) if match.group(2) else None
    if end is not None and end <= start:
        end = None
    return query[: match.start()], start, end


@dataclass(frozen=True)
class Mention:
    """A file or directory the user picked after ``@``, maybe with a line range."""

    path: str  # relative to the thread's directory; a directory ends in "/"
    start: int | None = None
    end: int | None = None

    @property
    def is_dir(self) -> bool:
        return self.path.endswith("/")

    @property
    def value(self) -> str:
        """The text that stands for it in the prompt: ``@src/a.py#20-45``."""
        if self.is_dir or self.start is None:
            return f"@{self.path}"
        rng = f"#{self.start}" if self.end is None else f"#{self.start}-{self.end}"
        return f"@{self.path}{rng}"

    @classmethod
    def parse(cls, value: str) -> Mention:
        """From ``@path#20-45`` (or without the ``@``)."""
        path, start, end = split_range(value.removeprefix("@"))
        if path.endswith("/"):
            start = end = None
        return cls(path, start, end)


def file_url(directory: str, path: str, start: int | None = None, end: int | None = None) -> str:
    """``file:///abs/path?start=20&end=45``: absolute, percent-encoded, as opencode builds it."""
    full = PurePosixPath(directory) / path
    url = "file://" + quote(str(full), safe="/")
    if path.endswith("/") and not url.endswith("/"):
        url += "/"
    if start is not None:
        url += f"?start={start}" + (f"&end={end}" if end is not None else "")
    return url


def file_part(directory: str, mention: Mention, at: int) -> dict[str, Any]:
    """The part opencode's TUI sends for a mention whose ``@`` is at offset ``at``: the
    server reads the file (or lists the directory) into the model's context."""
    value = mention.value
    filename = value[1:]
    return {
        "type": "file",
        "mime": "application/x-directory" if mention.is_dir else "text/plain",
        "filename": filename,
        "url": file_url(directory, mention.path, mention.start, mention.end),
        "source": {
            "type": "file",
            "path": mention.path,
            "text": {"start": at, "end": at + len(value), "value": value},
        },
    }


def agent_part(name: str, at: int) -> dict[str, Any]:
    """``@general``: the server asks the model to hand the task to that subagent."""
    value = f"@{name}"
    return {"type": "agent", "name": name, "source": {"start": at, "end": at + len(value), "value": value}}


def occurrences(text: str, value: str) -> list[int]:
    """Where ``value`` stands as a word of its own in ``text`` (not inside a longer one)."""
    found = []
    at = text.find(value)
    while at >= 0:
        before_ok = at == 0 or text[at - 1].isspace()
        after = at + len(value)
        after_ok = after == len(text) or text[after].isspace()
        if before_ok and after_ok:
            found.append(at)
        at = text.find(value, at + 1)
    return found


def mention_parts(
    text: str, directory: str, mentions: Sequence[Mention], agents: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The file and agent parts for the mentions still in ``text``, in the order they
    appear; a mention the user deleted is dropped, one typed twice is sent once."""
    parts: list[tuple[int, dict[str, Any]]] = []
    seen: set[str] = set()
    for mention in mentions:
        value = mention.value
        if value in seen:
            continue
        where = occurrences(text, value)
        if where:
            seen.add(value)
            parts.append((where[0], file_part(directory, mention, where[0])))
    for name in agents:
        value = f"@{name}"
        if value in seen:
            continue
        where = occurrences(text, value)
        if where:
            seen.add(value)
            parts.append((where[0], agent_part(name, where[0])))
    parts.sort(key=lambda item: item[0])
    return [part for _, part in parts]


def slash(text: str) -> tuple[str, str] | None:
    """``/name args`` → ("name", "args"); later lines join the arguments after a newline.
    None when the text is not a command (no ``/``, or ``/`` alone)."""
    if not text.startswith("/"):
        return None
    first, _, rest = text.partition("\n")
    name, _, args = first[1:].partition(" ")
    name = name.strip()
    if not name or any(c.isspace() for c in name):
        return None
    args = args.strip()
    if rest:
        args = f"{args}\n{rest}" if args else rest
    return name, args


def fuzzy_score(query: str, target: str) -> int:
    """How well ``query`` matches ``target``: 0 for no match; a prefix beats a substring,
    which beats the letters in order."""
    q, tgt = query.lower(), target.lower()
    if not q:
        return 1
    if tgt.startswith(q):
        return 300 - len(tgt)
    if q in tgt:
        return 200 - tgt.index(q)
    pos = 0
    for ch in q:
        pos = tgt.find(ch, pos)
        if pos < 0:
            return 0
        pos += 1
    return 100 - pos


# -- what the server lists ----------------------------------------------------------------


def _named(raw: Any) -> list[dict[str, Any]]:
    """The entries of a list answer that are objects with a non-empty ``name``."""
    items = raw if isinstance(raw, list) else []
    return [i for i in items if isinstance(i, dict) and isinstance(i.get("name"), str) and i["name"]]


@dataclass(frozen=True)
class Agent:
    """One of the server's agents (``GET /agent``)."""

    name: str
    description: str = ""
    mode: str = "all"  # "primary", "subagent" or "all"
    hidden: bool = False
    color: str | None = None


def agents_from(raw: Any) -> list[Agent]:
    """The agents of a ``GET /agent`` answer; entries that are not agents are skipped."""
    found: list[Agent] = []
    for item in _named(raw):
        description = item.get("description")
        mode = item.get("mode")
        color = item.get("color")
        found.append(
            Agent(
                name=item["name"],
                description=description if isinstance(description, str) else "",
                mode=mode if mode in ("primary", "subagent", "all") else "all",
                hidden=item.get("hidden") is True,
                color=color if isinstance(color, str) and color else None,
            )
        )
    return found


def primary_agents(agents: list[Agent]) -> list[Agent]:
    """The agents Tab cycles through (opencode: not a subagent, not hidden)."""
    return [a for a in agents if a.mode != "subagent" and not a.hidden]


def subagents(agents: list[Agent]) -> list[Agent]:
    """The agents an ``@name`` mention can hand a task to."""
    return [a for a in agents if a.mode != "primary" and not a.hidden]


def colour_index(agents: list[Agent], name: str) -> int:
    """Which of the palette's colours an agent gets (its place among the visible agents,
    as in opencode, so build and plan look the same in both clients)."""
    visible = [a.name for a in agents if not a.hidden]
    return visible.index(name) % PALETTE_SIZE if name in visible else 0


def step(names: list[str], current: str | None, by: int) -> str | None:
    """The name ``by`` places after ``current`` in ``names``, wrapping."""
    if not names:
        return None
    at = names.index(current) if current in names else (-1 if by > 0 else 0)
    return names[(at + by) % len(names)]


@dataclass(frozen=True)
class ServerCommand:
    """One of the server's commands (``GET /command``): ``init``, ``review``, the user's own."""

    name: str
    description: str = ""
    source: str = "command"  # "command", "mcp" or "skill"
    hints: tuple[str, ...] = ()


def commands_from(raw: Any) -> list[ServerCommand]:
    """The commands of a ``GET /command`` answer; entries that are not commands are skipped."""
    found: list[ServerCommand] = []
    for item in _named(raw):
        description = item.get("description")
        source = item.get("source")
        hints = item.get("hints")
        found.append(
            ServerCommand(
                name=item["name"],
                description=description if isinstance(description, str) else "",
                source=source if isinstance(source, str) else "command",
                hints=tuple(h for h in hints if isinstance(h, str)) if isinstance(hints, list) else (),
            )
        )
    return found
