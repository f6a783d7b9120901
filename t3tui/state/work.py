"""What an agent did in a thread, as the server reports it: its todo list, the files it
changed, the tokens it holds in context and what it cost.

Pure records and tolerant readers: a field of the wrong type or shape is skipped, never
raised. The shapes are opencode 1.18.33's:

- ``todo.updated {sessionID, todos}`` and ``GET /session/{id}/todo``: ``[{content, status,
  priority}]``, status one of ``pending``, ``in_progress``, ``completed``, ``cancelled``.
- A file's diff, ``{file, patch, additions, deletions, status}`` (status ``added``,
  ``modified`` or ``deleted``; ``patch`` a unified diff): in ``session.diff {sessionID,
  diff}``, ``GET /session/{id}/diff``, a user message's ``summary.diffs`` (what its turn
  changed), and an ``edit`` tool's ``state.metadata.filediff``.
- An assistant message's ``tokens {total, input, output, reasoning, cache {read, write}}``
  and ``cost`` (dollars), its ``providerID`` and ``modelID``; a session's ``cost`` (the
  sum over its answers) and ``tokens``; a model's ``limit.context`` in ``GET /provider``.

The store keeps a :class:`MessageWork` on each message that says something of this (read
once, when the message is described) and a :class:`ThreadWork` on each thread (its todos
and the server's diff); :func:`view` puts together what the work panel shows, once per
change of the thread, never per streamed delta. The rules are in docs/state-rules.md,
"Work: todos, files, tokens and cost".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from t3tui.state.records import Thread

TODO_STATUSES = ("pending", "in_progress", "completed", "cancelled")
# Larger than any real count or bill: such a number is garbage, and read as none.
_MAX_COUNT = 10**15
_MAX_COST = 1e12


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


class Usage(NamedTuple):
    """The tokens of one answer (one model call, the last step of it). A tuple: the store
    makes one per answer it reads, thousands for a long thread."""

    input: int = 0
    output: int = 0
    reasoning: int = 0
    cache_read: int = 0
    cache_write: int = 0

    @property
    def total(self) -> int:
        """What the answer held in the model's context: the sum of its parts, as opencode's
        sidebar counts it (not the server's ``total``)."""
        return self.input + self.output + self.reasoning + self.cache_read + self.cache_write


class MessageWork(NamedTuple):
    """What one message says of the work: an answer's tokens, cost and model; a prompt's
    ``summary.diffs`` (the files its turn changed)."""

    usage: Usage | None = None
    cost: float | None = None
    provider: str | None = None
    model: str | None = None
    diffs: tuple[FileDiff, ...] = ()


class ThreadWork:
    """A thread's todo list and the server's diff of it (None: never heard), and a
    version that changes whenever anything the work panel shows may have."""

    __slots__ = ("todos", "diffs", "version", "_key", "_view")

    def __init__(self) -> None:
        self.todos: list[Todo] | None = None
        self.diffs: list[FileDiff] | None = None
        # Bumped by a new todo list or diff, and by a message whose MessageWork changed.
        self.version = 0
        self._key: tuple[Any, ...] | None = None
        self._view: WorkView | None = None


@dataclass(frozen=True, slots=True)
class WorkView:
    """What the work panel shows of one thread."""

    todos: tuple[Todo, ...] = ()
    files: tuple[FileDiff, ...] = ()
    context: int | None = None  # tokens in context: the last answer that wrote something
    limit: int | None = None  # the context window of that answer's model
    cost: float | None = None  # dollars, the whole thread
    input: int | None = None  # tokens read and written over the thread
    output: int | None = None

    @property
    def percent(self) -> int | None:
        """The share of the context window in use, rounded as opencode rounds it."""
        if self.context is None or not self.limit:
            return None
        return math.floor(self.context * 100 / self.limit + 0.5)

    @property
    def done(self) -> int:
        return sum(1 for t in self.todos if t.status == "completed")

    @property
    def current(self) -> Todo | None:
        """The item being worked on (the first ``in_progress``)."""
        return next((t for t in self.todos if t.status == "in_progress"), None)

    @property
    def has_usage(self) -> bool:
        return bool(self.context) or bool(self.cost) or bool(self.input) or bool(self.output)

    @property
    def empty(self) -> bool:
        return not (self.todos or self.files or self.has_usage)


# -- readers ------------------------------------------------------------------------------


def _int(value: Any) -> int:
    """A count, or 0 for anything else (a bool, a negative or absurd number, a string)."""
    return value if type(value) is int and 0 <= value < _MAX_COUNT else 0


def _money(value: Any) -> float | None:
    """Dollars, or None for anything that is not a finite amount (NaN, a string, a bool)."""
    kind = type(value)
    if kind is not float and kind is not int:
        return None  # a string, a bool, None
    return float(value) if 0 <= value < _MAX_COST else None  # NaN and infinities fail too


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


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


def read_usage(raw: Any) -> Usage | None:
    """An answer's ``tokens``, or None when it has none (not an object)."""
    if not isinstance(raw, dict):
        return None
    get = raw.get
    cache = get("cache")
    read = write = 0
    if type(cache) is dict:
        read, write = _int(cache.get("read")), _int(cache.get("write"))
    return Usage(_int(get("input")), _int(get("output")), _int(get("reasoning")), read, write)


def read_message_work(info: Any) -> MessageWork | None:
    """What a described message (a validated ``Message``) says of the work, or None."""
    if info.role == "user":
        summary = info.summary
        diffs = read_file_diffs(summary.get("diffs")) if isinstance(summary, dict) else []
        return MessageWork(diffs=tuple(diffs)) if diffs else None
    usage = read_usage(info.tokens)
    cost = _money(info.cost)
    if usage is None and cost is None:
        return None
    provider, model = info.providerID, info.modelID
    if not model and info.model is not None:
        provider, model = info.model.providerID, info.model.modelID
    return MessageWork(usage, cost, provider or None, model or None)


# -- what the store keeps -----------------------------------------------------------------


def set_todos(work: ThreadWork, raw: Any) -> None:
    """A todo list (``todo.updated``, ``GET /todo``) replaces the last; anything but a
    list is no news."""
    if not isinstance(raw, list):
        return
    todos = read_todos(raw)
    if todos != work.todos:
        work.todos = todos
        work.version += 1


def set_diffs(work: ThreadWork, raw: Any) -> None:
    """The server's diff of the thread (``session.diff``, ``GET /diff``) replaces the
    last; anything but a list is no news."""
    if not isinstance(raw, list):
        return
    diffs = read_file_diffs(raw)
    if diffs != work.diffs:
        work.diffs = diffs
        work.version += 1


def describe(work: ThreadWork, old: MessageWork | None, info: Any) -> MessageWork | None:
    """A message was described (again): its MessageWork, the thread's version bumped if
    it changed."""
    new = read_message_work(info)
    if new != old:
        work.version += 1
    return new


# -- what the panel shows -----------------------------------------------------------------


def _merge(old: FileDiff | None, new: FileDiff) -> FileDiff | None:
    """A file changed in two turns, as one entry (None: it is gone, created and deleted
    again)."""
    if old is None:
        return new
    if old.status == "added":
        if new.status == "deleted":
            return None
        status = "added"
    elif old.status == "deleted" and new.status == "added":
        status = "modified"  # deleted, then written again
    else:
        status = new.status
    patch = f"{old.patch.rstrip(chr(10))}\n{new.patch}" if old.patch and new.patch else old.patch or new.patch
    return FileDiff(
        file=new.file,
        patch=patch,
        additions=old.additions + new.additions,
        deletions=old.deletions + new.deletions,
        status=status,
    )


def thread_files(th: Thread) -> list[FileDiff]:
    """The files the thread changed: the server's diff when it names any, else each
    turn's ``summary.diffs`` put together (reverted turns left out), by path."""
    server = th.work.diffs
    if server:
        return sorted(server, key=lambda d: d.file)
    combined: dict[str, FileDiff | None] = {}
    for tid in th.order:
        turn = th.turns[tid]
        user = turn.user
        work = user.work if user is not None else None
        if work is None or not work.diffs or turn.reverted:
            continue
        for diff in work.diffs:
            combined[diff.file] = _merge(combined.get(diff.file), diff)
    return sorted((d for d in combined.values() if d is not None), key=lambda d: d.file)


def context_work(th: Thread) -> MessageWork | None:
    """The answer whose tokens are in context now: the last one (not reverted) that wrote
    something (opencode's rule)."""
    messages = th.messages
    for tid in reversed(th.order):
        turn = th.turns[tid]
        if turn.reverted:
            continue
        for mid in reversed(turn.assistant):
            msg = messages.get(mid)
            work = msg.work if msg is not None else None
            if work is not None and work.usage is not None and work.usage.output > 0:
                return work
    return None


def thread_cost(th: Thread) -> float | None:
    """Dollars the thread cost: the session's ``cost`` (the server's sum, known for
    threads never opened too), else the sum over the answers seen."""
    session = th.session
    cost = _money(getattr(session, "cost", None)) if session is not None else None
    if cost is not None:
        return cost
    total: float | None = None
    for msg in th.messages.values():
        work = msg.work
        if work is not None and work.cost is not None:
            total = (total or 0.0) + work.cost
    return total


def thread_tokens(th: Thread) -> tuple[int, int] | None:
    """Input and output tokens over the thread (the session's ``tokens``, else the sum
    over the answers seen); cache reads count as input, reasoning as output."""
    session = th.session
    raw = getattr(session, "tokens", None) if session is not None else None
    usage = read_usage(raw)
    if usage is None:
        found = [m.work.usage for m in th.messages.values() if m.work is not None and m.work.usage]
        if not found:
            return None
        usage = Usage(
            input=sum(u.input for u in found),
            output=sum(u.output for u in found),
            reasoning=sum(u.reasoning for u in found),
            cache_read=sum(u.cache_read for u in found),
            cache_write=sum(u.cache_write for u in found),
        )
    return usage.input + usage.cache_read + usage.cache_write, usage.output + usage.reasoning


def context_limit(providers: Any, provider: str | None, model: str | None) -> int | None:
    """The context window of ``provider``/``model`` in the provider list (``limit.context``;
    0 or missing: unknown)."""
    if providers is None or not provider or not model:
        return None
    for entry in getattr(providers, "all", ()):
        if entry.id != provider:
            continue
        found = entry.models.get(model)
        limit = getattr(found, "limit", None) if found is not None else None
        value = _int(limit.get("context")) if isinstance(limit, dict) else 0
        return value or None
    return None


def view(th: Thread, providers: Any = None) -> WorkView:
    """What the work panel shows of ``th``, made again only when the thread's work, its
    session info, its turns or the provider list changed (never per streamed delta)."""
    work = th.work
    key = (work.version, th.session, len(th.turns), providers)
    cached = work._view
    if cached is not None and work._key is not None and _same(work._key, key):
        return cached
    answer = context_work(th)
    tokens = thread_tokens(th)
    made = WorkView(
        todos=tuple(work.todos or ()),
        files=tuple(thread_files(th)),
        context=answer.usage.total if answer is not None and answer.usage is not None else None,
        limit=context_limit(providers, answer.provider, answer.model) if answer is not None else None,
        cost=thread_cost(th),
        input=tokens[0] if tokens is not None else None,
        output=tokens[1] if tokens is not None else None,
    )
    work._key, work._view = key, made
    return made


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Keys compared by identity where they hold objects (a session, the provider list)."""
    return len(a) == len(b) and all(x is y or (type(x) is int and x == y) for x, y in zip(a, b, strict=True))


def total_cost(threads: Iterable[Thread]) -> float:
    """Dollars over ``threads``."""
    return sum(c for th in threads if (c := thread_cost(th)) is not None)


def work_dump(th: Thread) -> dict[str, Any] | None:
    """The thread's work for the state dump (STATE.md): its todos once it has a list, the
    files it changed, the tokens in context and the cost when not zero; None when none."""
    shown = view(th)
    out: dict[str, Any] = {}
    if th.work.todos is not None:
        out["todos"] = [{"content": t.content, "status": t.status} for t in shown.todos]
    if shown.files:
        out["files"] = [
            {"file": f.file, "additions": f.additions, "deletions": f.deletions, "status": f.status}
            for f in shown.files
        ]
    if shown.context:
        out["context"] = shown.context
    if shown.cost:
        out["cost"] = shown.cost
    return out or None


MARKS = {"completed": "x", "in_progress": ">", "pending": " ", "cancelled": "-"}


def work_summary(th: Thread) -> list[str]:
    """The thread's work in ``t3tui replay``'s readable account."""
    dumped = work_dump(th)
    if dumped is None:
        return []
    lines = []
    todos = dumped.get("todos")
    if todos is not None:
        done = sum(1 for t in todos if t["status"] == "completed")
        lines.append(f"  todos {done}/{len(todos)}")
        lines += [f"    [{MARKS.get(t['status'], ' ')}] {t['content']!r}" for t in todos]
    for f in dumped.get("files", ()):
        lines.append(f"  changed {f['file']!r} +{f['additions']} -{f['deletions']} ({f['status']})")
    if "context" in dumped or "cost" in dumped:
        lines.append(f"  context {dumped.get('context', 0)} tokens, cost ${dumped.get('cost', 0.0):.4f}")
    return lines
