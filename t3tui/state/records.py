"""The records the store keeps (threads, turns, messages, parts) and what they say of themselves.

Records hold state and answer questions about it (a turn's prompt, a thread's latest
turn); they change only through the store's components (``index``, ``turns``,
``parts``, ``settlement``), which keep the indexes in step. Nothing here does I/O.
"""

from __future__ import annotations

import bisect
from typing import Any, Literal

from t3tui.opencode.wire import (
    Message,
    MessageError,
    PartBase,
    PermissionRequest,
    QuestionRequest,
    Session,
    StatusRetry,
)
from t3tui.state import work as work_state

ThreadStatus = Literal["ready", "running", "retrying", "error"]
TurnState = Literal["queued", "running", "completed", "interrupted", "error"]

ACTIVE: frozenset[str] = frozenset({"running", "retrying"})
OPEN: frozenset[str] = frozenset({"queued", "running"})
SETTLED: frozenset[str] = frozenset({"completed", "interrupted", "error"})

# Who settled a turn (``Turn.settled_by``; docs/state-rules.md, "Why a turn ended"):
#   "server"   the server said how it ended (a finish, an error, or its record of a turn
#              this client never saw running);
#   "user"     this client interrupted it;
#   "aborted"  the server said MessageAbortedError and this client did not ask;
#   "disposed" an instance dispose (global.disposed / server.instance.disposed) closed it;
#   "resync"   a resync after a reconnect found the session idle (restart, lost link);
#   "local"    the session went idle without the server saying how the turn ended.
SettledBy = Literal["server", "user", "aborted", "disposed", "resync", "local"]
# Settled without the server's word: a busy for the same turn may reopen these.
UNSURE: frozenset[str] = frozenset({"local", "resync"})
# The tool of a shell command the user ran (opencode's ``!cmd``, POST /session/{id}/shell).
SHELL_TOOL = "bash"
# The agent that writes a compaction's summary (opencode's hidden ``compaction`` agent).
COMPACTION_AGENT = "compaction"


def remove_sorted(ids: list[str], item: str) -> None:
    """Remove ``item`` from the sorted list ``ids``, if it is there (no linear scan)."""
    i = bisect.bisect_left(ids, item)
    if i < len(ids) and ids[i] == item:
        del ids[i]


def insert_sorted(ids: list[str], item: str) -> bool:
    """Insert ``item`` in the sorted list ``ids`` unless it is there; True if inserted."""
    i = bisect.bisect_left(ids, item)
    if i < len(ids) and ids[i] == item:
        return False
    ids.insert(i, item)
    return True


class PartState:
    """One part of a message. Streamed text lives in ``chunks`` until someone reads it."""

    __slots__ = (
        "id",
        "message",
        "type",
        "chunks",
        "_text",
        "final",
        "data",
        "version",
        "generation",
        "hidden",
        "_length",
        "_counted",
    )

    def __init__(self, part_id: str, message: MessageState, kind: str = "text") -> None:
        self.id = part_id
        self.message = message
        self.type = kind
        self.chunks: list[str] = []
        self._text = ""
        self.final = False
        # The validated part, for tools and steps; text parts keep only their text.
        self.data: PartBase | None = None
        self.hidden = False  # synthetic or ignored text (not what the user typed)
        self.version = 0
        # Bumped when the text is replaced by one that does not extend it, so that a
        # view streaming the text knows to start over.
        self.generation = 0
        # The length of ``_text`` and of the first ``_counted`` chunks: each chunk is
        # counted once, so that comparing lengths costs nothing on a long stream.
        self._length = 0
        self._counted = 0

    @property
    def text(self) -> str:
        if self.chunks:
            self._text = self._text + "".join(self.chunks)
            self.chunks.clear()
            self._length = len(self._text)
            self._counted = 0
        return self._text

    def set_text(self, text: str) -> None:
        if not text.startswith(self.text):
            self.generation += 1
        self._text = text
        self._length = len(text)

    def text_length(self) -> int:
        chunks = self.chunks
        length = self._length
        for i in range(self._counted, len(chunks)):
            length += len(chunks[i])
        self._length = length
        self._counted = len(chunks)
        return length


class MessageState:
    """What the client keeps of a message: the validated wire model is read once and
    dropped, since a long thread holds thousands of these."""

    __slots__ = (
        "id",
        "thread",
        "role",
        "parent_id",
        "parts",
        "turn_id",
        "described",
        "finish",
        "error",
        "created",
        "completed",
        "model",
        "agent",
        "work",
    )

    def __init__(self, message_id: str, thread: Thread) -> None:
        self.id = message_id
        self.thread = thread
        self.role: str | None = None
        self.parent_id: str | None = None
        self.parts: dict[str, PartState] = {}
        self.turn_id: str | None = None
        self.described = False  # its info (message.updated or a snapshot) was seen
        self.finish: str | None = None
        self.error: MessageError | None = None
        self.created: float | None = None
        self.completed: float | None = None
        self.model: str | None = None
        self.agent: str | None = None  # the agent a prompt was sent with
        self.work: work_state.MessageWork | None = None  # tokens, cost; a prompt's diffs

    def describe(self, info: Message) -> None:
        self.described = True
        self.role = info.role
        self.finish = info.finish
        self.error = info.error
        self.created = info.time.created
        self.completed = info.time.completed
        if info.agent:
            self.agent = info.agent
        if info.modelID:
            self.model = f"{info.providerID}/{info.modelID}" if info.providerID else info.modelID
        elif info.model is not None and info.model.modelID:
            self.model = f"{info.model.providerID}/{info.model.modelID}"
        self.work = work_state.describe(self.thread.work, self.work, info)

    def sorted_parts(self) -> list[PartState]:
        return [self.parts[k] for k in sorted(self.parts)]

    @property
    def finished(self) -> bool:
        return self.described and bool(self.finish) and self.error is None

    @property
    def has_end(self) -> bool:
        """The server says this message is over (completed, finished or failed)."""
        return self.described and (self.completed is not None or bool(self.finish) or self.error is not None)


class Turn:
    """One user message and the assistant messages that answer it."""

    __slots__ = (
        "id",
        "thread",
        "state",
        "user",
        "assistant",
        "error",
        "started_at",
        "completed_at",
        "settled_by",
        "synthetic",
        "optimistic_prompt",
        "unconfirmed",
        "run",
    )

    def __init__(self, turn_id: str, thread: Thread, state: TurnState) -> None:
        self.id = turn_id
        self.thread = thread
        self.state: TurnState = state
        self.user: MessageState | None = None
        self.assistant: list[str] = []
        self.error: str | None = None
        self.started_at: float | None = None
        self.completed_at: float | None = None
        # Who settled it (see SettledBy above); None while it is open.
        self.settled_by: SettledBy | None = None
        self.synthetic = False
        self.optimistic_prompt: str | None = None
        # The stream-open count when this client sent the prompt, until the server
        # shows the user message: a resync that began before the prompt must not settle it.
        self.unconfirmed: int | None = None
        # The thread's ``active_gen`` when this turn was last open while it ran.
        self.run = -1

    # -- derived views ----------------------------------------------------------------

    def messages(self) -> list[MessageState]:
        msgs = self.thread.messages
        return [msgs[m] for m in self.assistant if m in msgs]

    def last_assistant(self) -> MessageState | None:
        msgs = self.thread.messages
        for mid in reversed(self.assistant):
            msg = msgs.get(mid)
            if msg is not None:
                return msg
        return None

    @property
    def reverted(self) -> bool:
        """Undone on the server (``Session.revert``): this turn is from the reverted
        message on, kept until ``unrevert`` or the next prompt removes it."""
        rid = self.thread.revert_id
        return rid is not None and self.id >= rid

    def shell_part(self) -> PartState | None:
        """The bash tool part, when this turn is a shell command the user ran (opencode's
        ``!cmd``): a user message of synthetic text only ("The following tool was
        executed by the user"), answered by one assistant message that holds a bash
        tool call and nothing a model wrote (no step, no text)."""
        user = self.user
        if user is None or len(self.assistant) != 1:
            return None
        texts = [p for p in user.parts.values() if p.type == "text"]
        if not texts or not all(p.hidden for p in texts):
            return None
        msg = self.thread.messages.get(self.assistant[0])
        if msg is None:
            return None
        tool: PartState | None = None
        for part in msg.parts.values():
            if part.type != "tool" or tool is not None:
                return None
            tool = part
        data: Any = tool.data if tool is not None else None
        if data is None or data.tool != SHELL_TOOL:
            return None
        command = (data.state.input or {}).get("command")
        return tool if isinstance(command, str) else None

    @property
    def compaction(self) -> str | None:
        """``"manual"`` or ``"auto"`` when this turn is a compaction, else None.

        ``/compact`` (``POST /session/{id}/summarize``), or the server's own when the
        context is full, writes a user message whose only part is
        ``{"type": "compaction", "auto": …}`` (no text: shown as a prompt it is blank),
        answered by the summary, an assistant message of the ``compaction`` agent. Either
        one says so: a client that joined mid-turn may have only the answer (then it is
        "manual", as nothing says it was automatic)."""
        user = self.user
        if user is not None:
            for part in user.parts.values():
                if part.type == "compaction":
                    return "auto" if getattr(part.data, "auto", False) is True else "manual"
        msgs = self.thread.messages
        for mid in self.assistant:
            msg = msgs.get(mid)
            if msg is not None and msg.agent == COMPACTION_AGENT:
                return "manual"
        return None

    @property
    def shell_command(self) -> str | None:
        part = self.shell_part()
        return part.data.state.input["command"] if part is not None else None  # type: ignore[union-attr]

    def shell_done(self) -> bool:
        """A shell command whose tool completed: the turn completed, though opencode
        writes no ``finish`` for it."""
        part = self.shell_part()
        return part is not None and part.data.state.status == "completed"  # type: ignore[union-attr]

    @property
    def prompt(self) -> str:
        if self.user is not None:
            parts = [p for p in self.user.sorted_parts() if p.type == "text"]
            shown = [p for p in parts if not p.hidden]
            if parts and not shown:
                command = self.shell_command
                if command is not None:
                    return f"$ {command}"
            text = "".join(p.text for p in (shown or parts))
            if text or self.optimistic_prompt is None:
                return text
        return self.optimistic_prompt or ""

    @property
    def text(self) -> str:
        out: list[str] = []
        for msg in self.messages():
            for part in msg.sorted_parts():
                if part.type == "text":
                    out.append(part.text)
        return "".join(out)

    @property
    def model(self) -> str | None:
        for msg in reversed(self.messages()):
            if msg.model:
                return msg.model
        return self.user.model if self.user is not None else None

    def has_evidence(self) -> bool:
        """The server said how this turn ended (so no local settlement can be undone)."""
        last = self.last_assistant()
        return last is not None and last.has_end


class Thread:
    """One session: its info, its turns, their messages and parts, what it asks the user."""

    __slots__ = (
        "id",
        "directory",
        "session",
        "status",
        "retry",
        "last_error",
        "pending_error",
        "turns",
        "order",
        "open",
        "running",
        "messages",
        "parts",
        "permissions",
        "questions",
        "active_gen",
        "interrupt_error",
        "busy_since",
        "run_latest",
        "abort_gen",
        "interrupt_gen",
        "dispose_gen",
        "aborted",
        "aborted_at",
        "work",
    )

    def __init__(self, session_id: str, directory: str | None) -> None:
        self.id = session_id
        self.directory = directory
        self.session: Session | None = None
        self.status: ThreadStatus = "ready"
        self.retry: StatusRetry | None = None
        self.last_error: str | None = None
        self.pending_error: str | None = None
        self.turns: dict[str, Turn] = {}
        self.order: list[str] = []  # turn ids, ascending
        self.open: list[str] = []  # ids of queued/running turns, ascending
        self.running: list[str] = []  # ids of running turns, ascending (usually one)
        self.messages: dict[str, MessageState] = {}
        # Message and part ids are the session's own: the same id in two sessions is
        # two messages (or parts).
        self.parts: dict[str, PartState] = {}
        self.permissions: dict[str, PermissionRequest] = {}
        self.questions: dict[str, QuestionRequest] = {}
        # The number of the current (or last) run: bumped each time the session becomes
        # active, so that a turn, an abort or a dispose can say which run it belongs to.
        self.active_gen = 0
        self.interrupt_error: str | None = None
        self.busy_since: float | None = None
        self.run_latest: str | None = None  # the newest turn open in the current run
        # The ``active_gen`` of the run in which the server said MessageAbortedError, this
        # client interrupted, or a dispose came: how the run's open turns end.
        self.abort_gen = -1
        self.interrupt_gen = -1
        self.dispose_gen = -1
        # The turns an abort this client did not ask for ended, and when (clock ms): a
        # dispose that follows closed them.
        self.aborted: list[str] = []
        self.aborted_at: float | None = None
        self.work = work_state.ThreadWork()  # todos, the server's diff (state/work.py)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def title(self) -> str:
        return (self.session.title if self.session is not None else None) or ""

    @property
    def revert_id(self) -> str | None:
        """The message an undo reverted from (``Session.revert.messageID``), if any."""
        s = self.session
        r = s.revert if s is not None else None
        return r.messageID if r is not None else None

    def latest_turn(self) -> Turn | None:
        """The newest turn that is not reverted: the one that decides the status."""
        rid = self.revert_id
        for tid in reversed(self.order):
            if rid is None or tid < rid:
                return self.turns[tid]
        return None

    @property
    def parent_id(self) -> str | None:
        return self.session.parentID if self.session is not None else None

    @property
    def updated(self) -> float:
        s = self.session
        if s is not None and s.time.updated is not None:
            return s.time.updated
        if s is not None and s.time.created is not None:
            return s.time.created
        return 0.0

    def sorted_turns(self) -> list[Turn]:
        return [self.turns[t] for t in self.order]

    def running_turn(self) -> Turn | None:
        return self.turns[self.running[0]] if self.running else None

    @property
    def model(self) -> str | None:
        for tid in reversed(self.order):
            model = self.turns[tid].model
            if model:
                return model
        s = self.session
        if s is not None and s.model is not None and s.model.providerID:
            return f"{s.model.providerID}/{s.model.id or s.model.modelID}"
        return None

    def problems(self) -> list[str]:
        """Broken promises of this thread's own indexes, as sentences: every message in
        exactly one turn, every part in its message."""
        problems = []
        for tid, turn in self.turns.items():
            user = turn.user
            if user is not None and (self.messages.get(tid) is not user or user.turn_id != tid):
                problems.append(f"{self.id} turn {tid} has a user message it does not own")
            if turn.assistant != sorted(set(turn.assistant)):
                problems.append(f"{self.id} turn {tid} lists an answer twice or out of order")
            for mid in turn.assistant:
                msg = self.messages.get(mid)
                if msg is None or msg.turn_id != tid:
                    problems.append(f"{self.id} turn {tid} lists {mid}, which is not in it")
            if turn.synthetic and (user is not None or turn.assistant != [tid]):
                problems.append(f"{self.id} stand-in {tid} holds more than its message")
        for mid, msg in self.messages.items():
            turn = self.turns.get(msg.turn_id) if msg.turn_id is not None else None
            if msg.id != mid or msg.thread is not self or turn is None:
                problems.append(f"{self.id} message {mid} is in no turn")
            elif turn.user is not msg and mid not in turn.assistant:
                problems.append(f"{self.id} message {mid} names turn {turn.id}, which does not hold it")
            for pid, part in msg.parts.items():
                if self.parts.get(pid) is not part or part.message is not msg:
                    problems.append(f"{self.id} part {pid} of {mid} is not indexed")
        for pid, part in self.parts.items():
            owner = part.message
            if self.messages.get(owner.id) is not owner or owner.parts.get(pid) is not part:
                problems.append(f"{self.id} part {pid} is in no message of the thread")
        return problems
