"""The client-side model of threads, turns and sessions (STATE.md is the contract).

The store is pure: it holds no sockets, does no I/O and imports nothing of Textual, so
the live app, ``t3tui replay`` and the tests all feed it the same observations (the
event-log lines of STATE.md) and get the same state. ``Store.apply`` never raises:
malformed input is counted in ``Store.rejected`` and skipped.

The hot path is ``message.part.delta`` (about 10,000 per second from a real server), so
it is handled on raw dicts without validation; every other event goes through the
pydantic wire models.
"""

from __future__ import annotations

import bisect
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import ValidationError

from t3tui.opencode.wire import (
    Message,
    MessageError,
    PartBase,
    PermissionRequest,
    ProviderList,
    QuestionRequest,
    Session,
    StatusRetry,
    parse_part,
)

ThreadStatus = Literal["ready", "running", "retrying", "error"]
TurnState = Literal["queued", "running", "completed", "interrupted", "error"]

ACTIVE: frozenset[str] = frozenset({"running", "retrying"})
OPEN: frozenset[str] = frozenset({"queued", "running"})
SETTLED: frozenset[str] = frozenset({"completed", "interrupted", "error"})
TEXTUAL_PARTS: frozenset[str] = frozenset({"text", "reasoning"})
DEDUPE_WINDOW = 8192

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
# opencode aborts the runs of an instance and only then says it was disposed (about
# 0.3 s later, seen live): an abort this client did not ask for, that ended a run this
# long before a dispose of its directory, with no run since, was the dispose's.
DISPOSE_WINDOW_MS = 10_000.0
# The tool of a shell command the user ran (opencode's ``!cmd``, POST /session/{id}/shell).
SHELL_TOOL = "bash"


def _discard(ids: list[str], item: str) -> None:
    """Remove ``item`` from the sorted list ``ids``, if it is there (no linear scan)."""
    i = bisect.bisect_left(ids, item)
    if i < len(ids) and ids[i] == item:
        del ids[i]


def _insert(ids: list[str], item: str) -> bool:
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

    def describe(self, info: Message) -> None:
        self.described = True
        self.role = info.role
        self.finish = info.finish
        self.error = info.error
        self.created = info.time.created
        self.completed = info.time.completed
        if info.modelID:
            self.model = f"{info.providerID}/{info.modelID}" if info.providerID else info.modelID
        elif info.model is not None and info.model.modelID:
            self.model = f"{info.model.providerID}/{info.model.modelID}"

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


class Store:
    """Every thread the client knows, and the connection state.

    Feed it observations with :meth:`apply`. ``dirty`` collects the ids of threads that
    changed since the UI last cleared it, so the UI can repaint only those.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.threads: dict[str, Thread] = {}
        self.connection: Literal["open", "closed"] = "closed"
        self.connection_reason: str | None = None
        self.directories: dict[str, None] = {}
        self.providers: ProviderList | None = None
        self.refresh_pending: list[dict[str, Any]] = []
        self.disposed_count = 0
        self.rejected = 0
        self.events = 0
        self.opens = 0  # how many times the stream opened (a resync follows each)
        self.dirty: set[str] = set()
        self.changed = True
        # The part each part id last named, across sessions: the fast path of a delta.
        # The truth is Thread.parts; an entry is checked against the delta's message and
        # session before use, and dropped with its part.
        self._parts: dict[str, PartState] = {}
        self._seen: set[str] = set()
        self._seen_order: deque[str] = deque()
        # Threads that may be active or have open turns, and threads that may have
        # pending requests, by directory: a snapshot of one directory looks at these,
        # not at every thread. Entries go stale (a thread settles, moves or is deleted)
        # and are dropped when a snapshot next looks.
        self._live: dict[str | None, dict[str, Thread]] = {}
        self._asking: dict[str | None, dict[str, Thread]] = {}
        # Threads whose last run an abort this client did not ask for ended (see
        # DISPOSE_WINDOW_MS); a dispose looks at these.
        self._aborted: dict[str, Thread] = {}
        self._handlers: dict[str, Callable[[dict[str, Any], str | None], None]] = {
            "message.part.delta": self._on_delta,
            "message.part.updated": self._on_part_updated,
            "message.part.removed": self._on_part_removed,
            "message.updated": self._on_message_updated,
            "message.removed": self._on_message_removed,
            "session.created": self._on_session,
            "session.updated": self._on_session,
            "session.deleted": self._on_session_deleted,
            "session.status": self._on_status,
            "session.idle": self._on_idle,
            "session.error": self._on_session_error,
            "permission.asked": self._on_permission_asked,
            "permission.replied": self._on_permission_replied,
            "question.asked": self._on_question_asked,
            "question.replied": self._on_question_done,
            "question.rejected": self._on_question_done,
            "global.disposed": self._on_global_disposed,
            "server.instance.disposed": self._on_instance_disposed,
        }

    # -- entry points -----------------------------------------------------------------

    def apply(self, obs: Any) -> None:
        """Apply one observation (a parsed event-log line). Never raises."""
        try:
            if not isinstance(obs, dict):
                raise TypeError("observation is not an object")
            event = obs.get("event")
            if event is not None:
                self.apply_event(event)
            elif "snapshot" in obs:
                self.apply_snapshot(obs["snapshot"])
            elif "stream" in obs:
                self.apply_stream(obs["stream"], obs.get("reason"))
            elif "action" in obs:
                self.apply_action(obs["action"])
            # any other line kind is skipped (STATE.md)
        except (ValidationError, TypeError, KeyError, ValueError, AttributeError):
            self.rejected += 1

    def apply_all(self, observations: Iterable[Any]) -> None:
        for obs in observations:
            self.apply(obs)

    def apply_event(self, envelope: dict[str, Any]) -> None:
        payload = envelope["payload"]
        kind = payload["type"]
        if kind == "sync":
            return
        handler = self._handlers.get(kind)
        eid = payload.get("id")
        if eid is not None:
            seen = self._seen
            if eid in seen:
                return
            seen.add(eid)
            order = self._seen_order
            order.append(eid)
            if len(order) > DEDUPE_WINDOW:
                seen.discard(order.popleft())
        self.events += 1
        if handler is None:
            return
        props = payload.get("properties")
        if not isinstance(props, dict):
            raise TypeError(f"{kind} without properties")
        directory = envelope.get("directory")
        if directory == "global" or not isinstance(directory, str):
            directory = None
        handler(props, directory)

    def apply_stream(self, state: str, reason: str | None = None) -> None:
        if state not in ("open", "closed"):
            raise ValueError(f"unknown stream state {state!r}")
        if state == "open" and self.connection != "open":
            self.opens += 1
        self.connection = state  # type: ignore[assignment]
        self.connection_reason = reason
        self.changed = True

    # -- threads, messages, turns ----------------------------------------------------

    def _thread(self, session_id: Any, directory: str | None) -> Thread:
        if not isinstance(session_id, str) or not session_id:
            raise TypeError("sessionID missing")
        th = self.threads.get(session_id)
        if th is None:
            th = self.threads[session_id] = Thread(session_id, directory)
        elif th.directory is None and directory is not None:
            th.directory = directory
            self._relocate(th)
        if directory is not None and directory not in self.directories:
            self.directories[directory] = None
        self.dirty.add(session_id)
        self.changed = True
        return th

    def _mark_live(self, th: Thread) -> None:
        self._live.setdefault(th.directory, {})[th.id] = th

    def _mark_asking(self, th: Thread) -> None:
        self._asking.setdefault(th.directory, {})[th.id] = th

    def _relocate(self, th: Thread) -> None:
        """The thread's directory changed: index it under the new one."""
        if th.active or th.open:
            self._mark_live(th)
        if th.permissions or th.questions:
            self._mark_asking(th)

    def _indexed(self, index: dict[str | None, dict[str, Thread]], directory: str | None) -> list[Thread]:
        """The threads of ``directory`` in ``index``, stale entries dropped."""
        bucket = index.get(directory)
        if not bucket:
            return []
        threads = self.threads
        for th in list(bucket.values()):
            if threads.get(th.id) is not th or th.directory != directory:
                del bucket[th.id]
        return list(bucket.values())

    def _new_turn(self, th: Thread, turn_id: str, state: TurnState, synthetic: bool = False) -> Turn:
        if turn_id in th.turns:
            raise ValueError(f"turn {turn_id} exists")  # a bug, never input: see check_invariants
        turn = Turn(turn_id, th, state)
        turn.synthetic = synthetic
        th.turns[turn_id] = turn
        bisect.insort(th.order, turn_id)
        if state in OPEN:
            bisect.insort(th.open, turn_id)
            self._mark_live(th)
            self._stamp(th, turn)
            if state == "running":
                bisect.insort(th.running, turn_id)
        self.dirty.add(th.id)
        return turn

    @staticmethod
    def _stamp(th: Thread, turn: Turn) -> None:
        """An open turn of a running thread belongs to the current run."""
        if th.active:
            turn.run = th.active_gen
            if not turn.synthetic and (th.run_latest is None or turn.id > th.run_latest):
                th.run_latest = turn.id

    def _set_state(self, turn: Turn, state: TurnState) -> None:
        th = turn.thread
        was = turn.state
        turn.state = state
        if state in OPEN:
            if was not in OPEN:
                bisect.insort(th.open, turn.id)
                self._mark_live(th)
            self._stamp(th, turn)
            turn.completed_at = None
            turn.settled_by = None
        elif was in OPEN:
            _discard(th.open, turn.id)
        if state == "running":
            if was != "running":
                bisect.insort(th.running, turn.id)
        elif was == "running":
            _discard(th.running, turn.id)
        self.dirty.add(th.id)

    def _drop_turn(self, th: Thread, turn: Turn) -> None:
        if th.turns.get(turn.id) is turn:
            del th.turns[turn.id]
            _discard(th.order, turn.id)
            _discard(th.open, turn.id)
            _discard(th.running, turn.id)
        self.dirty.add(th.id)

    def _message(self, th: Thread, message_id: Any, stand_in: bool = True) -> MessageState:
        if not isinstance(message_id, str) or not message_id:
            raise TypeError("messageID missing")
        msg = th.messages.get(message_id)
        if msg is not None:
            return msg
        msg = th.messages[message_id] = MessageState(message_id, th)
        turn = th.turns.get(message_id)
        if turn is not None:
            # A turn's id is its user message's id: a message never described that is
            # named like a turn (a part or delta after an answer that named it as
            # parent, or after a prompt this client sent) is that turn's user message.
            turn.user = msg
            turn.unconfirmed = None  # the server has the message: the prompt arrived
            msg.turn_id = message_id
            self.dirty.add(th.id)
        elif stand_in:
            # A part or delta for a message never described (joined mid-turn): show it
            # in a stand-in turn until its info (and parentID) arrives.
            turn = self._new_turn(th, message_id, "running" if th.active else "interrupted", synthetic=True)
            turn.assistant.append(message_id)
            msg.turn_id = message_id
            if not th.active:
                turn.settled_by = "local"
                turn.completed_at = self.clock() * 1000
        return msg

    def _upsert_message(self, th: Thread, data: dict[str, Any], live: bool) -> MessageState:
        """A message's info: put the message in its turn, wherever it was before.

        The latest info wins: a message described as a user message is its own turn's
        user message, an assistant message is in its parent's turn, whatever an earlier
        info or a stand-in said (ids reused across roles, a changed parent).
        """
        info = Message.model_validate(data)
        msg = self._message(th, info.id, stand_in=False)
        msg.describe(info)
        if info.role == "user":
            self._attach_user(th, msg, live)
        else:
            self._attach_assistant(th, msg, info.parentID or info.id, live)
        return msg

    def _attach_user(self, th: Thread, msg: MessageState, live: bool) -> None:
        tid = msg.id
        old = th.turns.get(msg.turn_id) if msg.turn_id is not None else None
        if old is not None and old.id != tid:
            self._detach(th, msg, old)  # it was an answer in another turn
        turn = th.turns.get(tid)
        if turn is not None and turn.synthetic:
            self._drop_turn(th, turn)  # its own stand-in, that showed it as an answer
            turn = None
        if turn is None:
            turn = self._start_turn(th, tid, live)
        turn.user = msg
        _discard(turn.assistant, tid)  # once described as an answer of its own turn
        msg.turn_id = tid
        msg.parent_id = None
        turn.unconfirmed = None
        if turn.started_at is None:
            turn.started_at = msg.created
        self.dirty.add(th.id)

    def _attach_assistant(self, th: Thread, msg: MessageState, parent: str, live: bool) -> None:
        old = th.turns.get(msg.turn_id) if msg.turn_id is not None else None
        if old is not None:
            if old.synthetic:
                self._drop_turn(th, old)  # its stand-in: the message goes to its turn
            elif old.id != parent:
                self._detach(th, msg, old)  # another turn (a changed parent or role)
            elif old.user is msg:
                old.user = None  # it was this turn's user message, now its answer
        msg.parent_id = parent
        turn = th.turns.get(parent)
        created = turn is None
        if turn is not None and turn.synthetic:
            # The parent was seen only by its parts, in a stand-in that showed them as
            # an answer: it is a user message, and its turn a real one.
            prompt = th.messages.get(parent)
            self._drop_turn(th, turn)
            created = True
            turn = self._new_turn(th, parent, "running" if th.active else "interrupted")
            turn.started_at = msg.created
            if prompt is not None:
                turn.user = prompt
                prompt.turn_id = parent
        elif turn is None:
            turn = self._new_turn(th, parent, "running" if th.active else "interrupted")
            turn.started_at = msg.created
        msg.turn_id = parent
        new_here = _insert(turn.assistant, msg.id)
        self.dirty.add(th.id)
        if created and not th.active:
            self._settle(turn, moving_to_error=None)
        elif turn.state in OPEN:
            if live:
                self._arrange(th, answering=turn)
        elif (
            live
            and new_here
            and th.active
            and turn.settled_by != "user"
            and not msg.has_end
            and (not th.open or th.open[-1] < turn.id)
        ):
            # A new answer to a settled turn while the session runs, and no later turn
            # open: the session runs this turn again (rule 3), so it is running.
            turn.error = None
            self._set_state(turn, "running")
            self._arrange(th, answering=turn)
        else:
            self._refine(turn)

    def _detach(self, th: Thread, msg: MessageState, turn: Turn) -> None:
        """Take ``msg`` out of ``turn``; a turn left with nothing to show goes."""
        if turn.user is msg:
            turn.user = None
        _discard(turn.assistant, msg.id)
        msg.turn_id = None
        self._drop_if_empty(th, turn)

    def _drop_if_empty(self, th: Thread, turn: Turn) -> None:
        if turn.user is None and not turn.assistant and (turn.synthetic or turn.optimistic_prompt is None):
            self._drop_turn(th, turn)
        self.dirty.add(th.id)

    def _forget(self, th: Thread, msg: MessageState) -> None:
        """Drop a message never described that has no part left (its parts moved)."""
        th.messages.pop(msg.id, None)
        turn = th.turns.get(msg.turn_id) if msg.turn_id is not None else None
        if turn is not None:
            self._detach(th, msg, turn)

    def _start_turn(self, th: Thread, turn_id: str, live: bool) -> Turn:
        """A user message never seen before: a new turn."""
        if th.active:
            state: TurnState = "queued" if th.running_turn() is not None else "running"
            return self._new_turn(th, turn_id, state)
        # The session is not (yet) known to be running: settle it now; the busy status
        # that follows a real prompt reopens it (see _activate).
        turn = self._new_turn(th, turn_id, "interrupted")
        turn.settled_by = "local"
        turn.completed_at = self.clock() * 1000
        return turn

    def _arrange(self, th: Thread, answering: Turn | None = None) -> None:
        """Put the open turns of an active thread in order.

        opencode answers queued prompts one after the other, so the open turn with the
        newest assistant message is the running one, the open turns before it are over,
        and the ones after it wait. Stand-in turns (messages never described) before it
        are over too; after it they keep running until their message is described.

        With ``answering`` (a turn that just got an assistant message), only it and the
        running turns compete: the cost is that of the turns that change, not of the
        whole queue.
        """
        turns = th.turns
        if answering is None:
            candidates = [turns[tid] for tid in th.open]
        else:
            candidates = [answering, *(turns[tid] for tid in th.running)]
        current: Turn | None = None
        newest = ""
        for turn in candidates:
            if turn.synthetic or turn.state not in OPEN:
                continue
            last = turn.assistant[-1] if turn.assistant else ""
            if current is None or last > newest or (last == newest and turn.id < current.id):
                current, newest = turn, last
        if current is None:
            return
        open_ids = th.open
        while open_ids and open_ids[0] < current.id:
            over = turns[open_ids[0]]
            self._settle(over, moving_to_error=None)
            if over.error is not None and over.error == th.pending_error:
                th.pending_error = None  # the session error was this turn's; a later one runs
        if current.state != "running":
            self._set_state(current, "running")
        for tid in [t for t in th.running if t > current.id]:
            if not turns[tid].synthetic:
                self._set_state(turns[tid], "queued")

    def _settle(self, turn: Turn, moving_to_error: str | None, by: str | None = None) -> None:
        """The settlement rule (STATE.md, 1)."""
        last = turn.last_assistant()
        err = last.error if last is not None else None
        if moving_to_error is not None:
            state: TurnState = "error"
            turn.error = turn.error or moving_to_error
        elif turn.error is not None:
            state = "error"
        elif err is not None and not err.aborted:
            state = "error"
            turn.error = err.text
        elif last is not None and (last.finished or (last.completed is not None and turn.shell_done())):
            state = "completed"
        else:
            state = "interrupted"
        self._set_state(turn, state)
        done = last.completed if last is not None else None
        turn.completed_at = done if done is not None else self.clock() * 1000
        if state != "interrupted":
            turn.settled_by = "server"  # the server said how it ended (an error is news)
        elif by is not None:
            turn.settled_by = by
        elif err is not None:  # MessageAbortedError
            self._aborted_by_server(turn)
        elif turn.has_evidence():
            turn.settled_by = "server"
        else:
            turn.settled_by = "local"

    def _aborted_by_server(self, turn: Turn) -> None:
        """The server said MessageAbortedError for a turn this client did not interrupt."""
        if turn.run < 0:
            # Never seen running here (loaded from the history): who aborted it, and
            # when, is not known; the server's record says it was aborted.
            turn.settled_by = "server"
            return
        turn.settled_by = "aborted"
        th = turn.thread
        th.aborted_at = self.clock() * 1000
        if turn.id not in th.aborted:
            th.aborted.append(turn.id)
        self._aborted[th.id] = th

    def _refine(self, turn: Turn) -> None:
        """Late truth refines a settled turn, only upward in information (rule 3).

        Only once the run is over: while it runs, a step that finished with
        ``tool-calls`` says nothing about how the turn ends.
        """
        if turn.state != "interrupted" or turn.thread.active:
            return
        last = turn.last_assistant()
        if last is None or not last.described:
            return
        err = last.error
        if err is not None and not err.aborted:
            turn.error = err.text
            self._set_state(turn, "error")
        elif last.finished or (last.completed is not None and err is None and turn.shell_done()):
            self._set_state(turn, "completed")
        else:
            if err is not None and turn.settled_by in UNSURE:
                self._aborted_by_server(turn)  # the server's word on how it ended, late
                self.dirty.add(turn.thread.id)
            return
        turn.completed_at = last.completed or turn.completed_at or self.clock() * 1000
        turn.settled_by = "server"
        th = turn.thread
        if not th.active and turn.state == "error" and th.latest_turn() is turn:
            th.status = "error"
            th.last_error = turn.error

    def _decide_status(self, th: Thread) -> None:
        """The status of a thread that is not running: its latest turn (not reverted)
        decides. A thread whose every turn is reverted is ready; one with no turn
        known keeps what the events said."""
        if th.active or not th.order:
            return
        latest = th.latest_turn()
        if latest is not None and latest.state == "error":
            th.status = "error"
            th.last_error = latest.error
        else:
            th.status = "ready"
            th.last_error = None
        self.dirty.add(th.id)

    def _activate(self, th: Thread, status: ThreadStatus) -> None:
        was_active = th.active
        th.status = status
        if was_active:
            return
        self._mark_live(th)
        th.active_gen += 1
        th.run_latest = None
        for tid in th.open:  # a prompt just sent, before the server said busy
            self._stamp(th, th.turns[tid])
        th.last_error = None
        th.pending_error = None
        th.interrupt_error = None
        th.busy_since = self.clock() * 1000
        if th.aborted:
            th.aborted = []  # a new run: a dispose from now on is not what ended those
            self._aborted.pop(th.id, None)
        # The session is running again: a latest turn that was settled without the
        # server's word (and not by the user) is the one it runs.
        if th.order and not th.open:
            latest = th.turns[th.order[-1]]
            if latest.settled_by in UNSURE and not latest.has_evidence():
                latest.error = None
                self._set_state(latest, "running")

    def _leave_active(self, th: Thread, snapshot: bool = False) -> None:
        """The session is no longer running: settle what still looks like it is.

        Except a prompt this client just sent that the server has not shown yet: an idle
        *event* then belongs to the previous run (opencode sends idle pairs twice), and
        the server's user message and busy are on their way. Only a resync of a later
        connection settles such a turn (see ``_snapshot_status``).
        """
        waiting = set() if snapshot else {tid for tid in th.open if th.turns[tid].unconfirmed is not None}
        moving_to_error = th.pending_error
        # Why the run's open turns end, when the server does not say (docs/state-rules.md).
        gen = th.active_gen
        by: SettledBy | None = None
        if th.dispose_gen == gen:
            by = "disposed"
        elif th.interrupt_gen == gen:
            by = "user"
        elif th.abort_gen == gen:
            by = "aborted"
        elif snapshot:
            by = "resync"
        for tid in reversed(th.open[:]):  # from the end: each removal is then cheap
            if tid not in waiting:
                turn = th.turns[tid]
                self._settle(turn, moving_to_error, by)
                if turn.settled_by == "aborted":
                    self._aborted_by_server(turn)
        if waiting:
            self._arrange(th)
            th.pending_error = None
            th.retry = None
            return
        was_active = th.active
        th.status = "ready" if was_active else th.status
        if th.order:
            self._refine(th.turns[th.order[-1]])
        if was_active:
            if moving_to_error is not None:
                th.status = "error"
                th.last_error = moving_to_error
            else:
                # The newest turn of the run that ends decides: a run that failed no
                # turn (or ran none) leaves the thread ready, whatever came before.
                latest = th.turns.get(th.run_latest) if th.run_latest is not None else None
                if (
                    latest is not None
                    and latest.run == th.active_gen
                    and latest.state == "error"
                    and latest.error
                ):
                    th.status = "error"
                    th.last_error = latest.error
                else:
                    th.status = "ready"
        th.pending_error = None
        th.retry = None
        th.busy_since = None
        th.permissions.clear()
        th.questions.clear()

    # -- event handlers ---------------------------------------------------------------

    def _on_delta(self, props: dict[str, Any], directory: str | None) -> None:
        part = self._parts.get(props["partID"])
        delta = props["delta"]
        if not isinstance(delta, str):
            raise TypeError("delta is not text")
        if part is None:
            part = self._delta_part(props, directory)
        else:
            msg = part.message
            sid = msg.thread.id
            if msg.id != props.get("messageID") or sid != props.get("sessionID", sid):
                part = self._delta_part(props, directory)
        if props.get("field", "text") != "text":
            return
        part.chunks.append(delta)
        part.version += 1
        self.dirty.add(part.message.thread.id)

    def _delta_part(self, props: dict[str, Any], directory: str | None) -> PartState:
        """The part a delta is for, when the fast path does not know it: a new part, a
        part of another session with the same id, or a part moved to another message."""
        th = self._thread(props.get("sessionID"), directory)
        pid = props["partID"]
        mid = props.get("messageID")
        part = th.parts.get(pid) if isinstance(pid, str) else None
        if part is None:
            part = self._new_part(self._message(th, mid), pid, "text")
        elif part.message.id != mid:
            self._move_part(th, part, mid)
        self._parts[part.id] = part
        return part

    def _new_part(self, msg: MessageState, part_id: Any, kind: str) -> PartState:
        if not isinstance(part_id, str) or not part_id:
            raise TypeError("part id missing")
        part = PartState(part_id, msg, kind)
        msg.parts[part_id] = part
        msg.thread.parts[part_id] = part
        self._parts[part_id] = part
        return part

    def _move_part(self, th: Thread, part: PartState, message_id: Any) -> None:
        """A part the server now puts in another message goes there with its text."""
        target = self._message(th, message_id)
        old = part.message
        if old is target:
            return
        old.parts.pop(part.id, None)
        target.parts[part.id] = part
        part.message = target
        part.version += 1
        self.dirty.add(th.id)
        if not old.parts and not old.described:
            self._forget(th, old)

    def _remove_part(self, part: PartState) -> None:
        msg = part.message
        th = msg.thread
        if th.parts.get(part.id) is part:
            del th.parts[part.id]
        if msg.parts.get(part.id) is part:
            del msg.parts[part.id]
        if self._parts.get(part.id) is part:
            del self._parts[part.id]
        self.dirty.add(th.id)

    def _apply_part(self, th: Thread, data: dict[str, Any]) -> PartState:
        parsed = parse_part(data)
        part = th.parts.get(parsed.id)
        if part is None:
            part = self._new_part(self._message(th, parsed.messageID), parsed.id, parsed.type)
        elif part.message.id != parsed.messageID:
            self._move_part(th, part, parsed.messageID)
        self._parts[part.id] = part
        part.type = parsed.type
        if parsed.type in TEXTUAL_PARTS:
            part.data = None
            part.hidden = bool(getattr(parsed, "synthetic", None) or getattr(parsed, "ignored", None))
            server_text: str = getattr(parsed, "text", "") or ""
            ptime = getattr(parsed, "time", None)
            final = ptime is not None and ptime.end is not None
            if final:
                part.set_text(server_text)
                part.final = True
            elif not part.final and len(server_text) >= part.text_length():
                part.set_text(server_text)
        else:
            part.data = parsed
        part.version += 1
        return part

    def _on_part_updated(self, props: dict[str, Any], directory: str | None) -> None:
        data = props["part"]
        th = self._thread(props.get("sessionID") or data.get("sessionID"), directory)
        part = self._apply_part(th, data)
        if part.type == "tool" and not th.active:
            # A shell command's tool that completes after the run went idle completes
            # its turn (late truth, rule 3).
            tid = part.message.turn_id
            turn = th.turns.get(tid) if tid is not None else None
            if turn is not None and turn.state == "interrupted":
                self._refine(turn)

    def _on_part_removed(self, props: dict[str, Any], directory: str | None) -> None:
        pid = props["partID"]
        th = self.threads.get(props.get("sessionID"))  # type: ignore[arg-type]
        part = th.parts.get(pid) if th is not None else self._parts.get(pid)
        if part is None:
            return
        msg = part.message
        self._remove_part(part)
        if not msg.parts and not msg.described:
            self._forget(msg.thread, msg)

    def _on_message_updated(self, props: dict[str, Any], directory: str | None) -> None:
        info = props["info"]
        th = self._thread(props.get("sessionID") or info.get("sessionID"), directory)
        self._upsert_message(th, info, live=True)

    def _on_message_removed(self, props: dict[str, Any], directory: str | None) -> None:
        th = self._thread(props.get("sessionID"), directory)
        msg = th.messages.get(props["messageID"])
        if msg is None:
            return
        gone = [msg]
        turn = th.turns.get(msg.turn_id) if msg.turn_id is not None else None
        if turn is not None and turn.user is msg:
            # The user message went (a revert): its turn goes, with its answers.
            gone += [th.messages[m] for m in turn.assistant if m in th.messages and m != msg.id]
            self._drop_turn(th, turn)
        elif turn is not None:
            self._detach(th, msg, turn)
        for m in gone:
            th.messages.pop(m.id, None)
            m.turn_id = None
            for part in list(m.parts.values()):
                self._remove_part(part)

    def _on_session(self, props: dict[str, Any], directory: str | None) -> None:
        info = Session.model_validate(props["info"])
        self._upsert_session(info, directory)

    def _upsert_session(self, info: Session, directory: str | None) -> Thread:
        th = self._thread(info.id, info.directory or directory)
        if info.directory and info.directory != th.directory:
            th.directory = info.directory
            self.directories.setdefault(info.directory, None)
            self._relocate(th)
        reverted = th.revert_id
        th.session = info
        if th.revert_id != reverted:
            # An undo or a redo: the turns it covers look reverted (or no longer), and
            # the latest turn left decides the status.
            self._decide_status(th)
        return th

    def _on_session_deleted(self, props: dict[str, Any], directory: str | None) -> None:
        sid = props.get("sessionID") or (props.get("info") or {}).get("id")
        th = self.threads.pop(sid, None)
        if th is None:
            return
        self._live.get(th.directory, {}).pop(th.id, None)
        self._asking.get(th.directory, {}).pop(th.id, None)
        for pid, part in th.parts.items():
            if self._parts.get(pid) is part:
                del self._parts[pid]
        self.dirty.add(th.id)
        self.changed = True

    def _apply_status(self, th: Thread, status: dict[str, Any]) -> None:
        kind = status["type"]
        if kind == "busy":
            self._activate(th, "running")
            th.retry = None
        elif kind == "retry":
            th.retry = StatusRetry.model_validate(status)
            self._activate(th, "retrying")
        elif kind == "idle":
            self._leave_active(th)
        else:
            raise ValueError(f"unknown session status {kind!r}")

    def _known(self, props: dict[str, Any], directory: str | None) -> Thread | None:
        """The thread of an event that carries no news for a session never seen.

        opencode answers an abort of any id, even one that never existed, with an idle
        pair; that must not conjure up an empty thread.
        """
        sid = props.get("sessionID")
        if sid not in self.threads:
            return None
        return self._thread(sid, directory)

    def _on_status(self, props: dict[str, Any], directory: str | None) -> None:
        status = props["status"]
        if status.get("type") == "idle":
            th = self._known(props, directory)
            if th is not None:
                self._leave_active(th)
            return
        self._apply_status(self._thread(props.get("sessionID"), directory), status)

    def _on_idle(self, props: dict[str, Any], directory: str | None) -> None:
        th = self._known(props, directory)
        if th is not None:
            self._leave_active(th)

    def _on_session_error(self, props: dict[str, Any], directory: str | None) -> None:
        sid = props.get("sessionID")
        if not sid:
            return
        raw = props.get("error")
        err = MessageError.model_validate(raw) if raw is not None else MessageError()
        if err.aborted:
            self._on_aborted(props, directory)
            return
        th = self._thread(sid, directory)
        if th.active:
            th.pending_error = err.text
            running = th.running_turn()
            if running is not None:
                running.error = err.text
            return
        # The error of a run that is already over (opencode sends some twice, the
        # second after idle), or of a prompt whose run never showed as busy.
        th.status = "error"
        th.last_error = err.text
        latest = th.latest_turn()
        if (
            latest is not None
            and latest.state == "interrupted"
            and latest.settled_by in UNSURE
            and not latest.has_evidence()
        ):
            latest.error = err.text
            self._set_state(latest, "error")
            latest.settled_by = "server"
            latest.completed_at = self.clock() * 1000

    def _on_aborted(self, props: dict[str, Any], directory: str | None) -> None:
        """``session.error`` MessageAbortedError: the run was aborted. By this client if
        it interrupted the run, else by another client (or a dispose, which says so
        right after). It ends the run's open turns when the session goes idle."""
        th = self._known(props, directory)
        if th is None:
            return
        if th.active:
            th.abort_gen = th.active_gen
            return
        # Said after idle: the latest turn, settled without the server's word, was aborted.
        latest = th.latest_turn()
        if (
            latest is not None
            and latest.state == "interrupted"
            and latest.settled_by in UNSURE
            and not latest.has_evidence()
        ):
            self._aborted_by_server(latest)

    def _asked(self, req: PermissionRequest | QuestionRequest, pending: str, directory: str | None) -> None:
        """The server waits on the user, so the session is running (docs/state-rules.md)."""
        th = self._thread(req.sessionID, directory)
        if not th.active:
            self._activate(th, "running")
        getattr(th, pending)[req.id] = req
        self._mark_asking(th)

    def _answered(self, props: dict[str, Any], pending: str, directory: str | None) -> None:
        th = self._known(props, directory)
        if th is not None:
            getattr(th, pending).pop(props.get("requestID") or props.get("permissionID") or "", None)

    def _on_permission_asked(self, props: dict[str, Any], directory: str | None) -> None:
        self._asked(PermissionRequest.model_validate(props), "permissions", directory)

    def _on_permission_replied(self, props: dict[str, Any], directory: str | None) -> None:
        self._answered(props, "permissions", directory)

    def _on_question_asked(self, props: dict[str, Any], directory: str | None) -> None:
        self._asked(QuestionRequest.model_validate(props), "questions", directory)

    def _on_question_done(self, props: dict[str, Any], directory: str | None) -> None:
        self._answered(props, "questions", directory)

    def _on_global_disposed(self, props: dict[str, Any], directory: str | None) -> None:
        self._on_disposed(None)

    def _on_instance_disposed(self, props: dict[str, Any], directory: str | None) -> None:
        target = props.get("directory")
        self._on_disposed(target if isinstance(target, str) and target else directory)

    def _on_disposed(self, directory: str | None) -> None:
        """A dispose happened, of ``directory``'s instance or (None) of every one.

        It carries no action id, so it completes every pending provider refresh
        (STATE.md, "Provider refresh"). And it closes the runs of its instances: opencode
        aborts them first (MessageAbortedError, idle), then says it disposed; a run that
        is still going ends as disposed when it goes idle (docs/state-rules.md).
        """
        self.disposed_count += 1
        self.refresh_pending.clear()
        self.changed = True
        for d in list(self._live) if directory is None else [directory]:
            for th in self._indexed(self._live, d):
                if th.active:
                    th.dispose_gen = th.active_gen
        now = self.clock() * 1000
        for sid, th in list(self._aborted.items()):
            if self.threads.get(sid) is not th or not th.aborted or th.active:
                del self._aborted[sid]
                continue
            recent = th.aborted_at is not None and now - th.aborted_at <= DISPOSE_WINDOW_MS
            if not recent:
                del self._aborted[sid]
            elif directory is None or th.directory == directory:
                del self._aborted[sid]
                for tid in th.aborted:
                    turn = th.turns.get(tid)
                    if turn is not None and turn.settled_by == "aborted":
                        turn.settled_by = "disposed"
                        self.dirty.add(th.id)
                th.aborted = []

    # -- snapshots --------------------------------------------------------------------

    def apply_snapshot(self, snap: dict[str, Any]) -> None:
        kind = snap["kind"]
        directory = snap.get("directory")
        if not isinstance(directory, str) or directory == "global":
            directory = None
        data = snap.get("data")
        if kind == "status":
            self._snapshot_status(directory, data)
        elif kind == "messages":
            self._snapshot_messages(snap["sessionID"], directory, data)
        elif kind == "sessions":
            for raw in data:
                self._upsert_session(Session.model_validate(raw), directory)
        elif kind == "permissions":
            self._snapshot_requests(directory, data, PermissionRequest, "permissions")
        elif kind == "questions":
            self._snapshot_requests(directory, data, QuestionRequest, "questions")
        elif kind == "providers":
            self.providers = ProviderList.model_validate(data)
            self.changed = True
        elif kind == "session":
            self._upsert_session(Session.model_validate(data), directory)

    def _snapshot_status(self, directory: str | None, data: Any) -> None:
        if not isinstance(data, dict):
            raise TypeError("status snapshot is not an object")
        if directory is not None:
            self.directories.setdefault(directory, None)
        for sid, status in data.items():
            self._apply_status(self._thread(sid, directory), status)
        bucket = self._live.get(directory, {})
        for th in self._indexed(self._live, directory):
            if not (th.active or th.open):
                del bucket[th.id]
                continue
            if th.id in data:
                continue
            if any(th.turns[t].unconfirmed == self.opens for t in th.open):
                # A prompt sent since this resync's connection opened: the status may
                # predate it, and the server has not answered it yet.
                continue
            self.dirty.add(th.id)
            self._leave_active(th, snapshot=True)
            if not (th.active or th.open):
                del bucket[th.id]

    def _snapshot_messages(self, session_id: str, directory: str | None, data: Any) -> None:
        if not isinstance(data, list):
            raise TypeError("messages snapshot is not a list")
        th = self._thread(session_id, directory)
        for entry in data:
            try:
                info = entry["info"]
                self._upsert_message(th, info, live=False)
                for part in entry.get("parts") or ():
                    self._apply_part(th, part)
            except (ValidationError, TypeError, KeyError, ValueError, AttributeError):
                self.rejected += 1
        if th.active:
            self._arrange(th)
        else:
            for tid in list(th.open):
                self._settle(th.turns[tid], None)
        for turn in th.turns.values():
            if turn.state == "interrupted":
                self._refine(turn)
        # The history as the server has it: its latest turn decides (an error in an
        # earlier turn, answered on the way, must not stick).
        self._decide_status(th)

    def _snapshot_requests(self, directory: str | None, data: Any, model: Any, attr: str) -> None:
        if not isinstance(data, list):
            raise TypeError("request snapshot is not a list")
        fresh: dict[str, dict[str, Any]] = {}
        concerned: dict[str, Thread] = {}
        for raw in data:
            req = model.model_validate(raw)
            th = self.threads.get(req.sessionID)
            if th is None:
                th = self._thread(req.sessionID, directory)
            # After an abort opencode keeps the request listed; a thread that is not
            # running has nothing to ask.
            if th.active:
                fresh.setdefault(th.id, {})[req.id] = req
                concerned[th.id] = th
        # Besides those, only threads that have something pending can change: the ones
        # of this directory (of every directory, for a snapshot without one).
        for d in list(self._asking) if directory is None else [directory]:
            bucket = self._asking.get(d, {})
            for th in self._indexed(self._asking, d):
                if th.permissions or th.questions:
                    concerned.setdefault(th.id, th)
                else:
                    del bucket[th.id]
        for th in concerned.values():
            new = fresh.get(th.id, {})
            if getattr(th, attr) != new:
                setattr(th, attr, new)
                self.dirty.add(th.id)
            if new:
                self._mark_asking(th)

    # -- local actions ----------------------------------------------------------------

    def apply_action(self, action: dict[str, Any]) -> None:
        kind = action["kind"]
        if kind == "interrupt":
            self._action_interrupt(action)
        elif kind == "prompt":
            self._action_prompt(action)
        elif kind == "refresh":
            self._action_refresh(action)

    def _action_interrupt(self, action: dict[str, Any]) -> None:
        th = self._thread(action["sessionID"], action.get("directory"))
        ok = action.get("ok")
        if ok is False:
            # The abort failed: undo what the server has not confirmed (rule 2).
            th.interrupt_error = str(action.get("error") or "interrupt failed")
            th.interrupt_gen = -1
            if not th.active:
                return
            for tid in reversed(th.order):
                turn = th.turns[tid]
                if turn.state == "interrupted" and turn.settled_by == "user" and not turn.has_evidence():
                    self._set_state(turn, "running")
                    self._arrange(th)
                break
            return
        if not th.active:
            return
        th.interrupt_gen = th.active_gen
        running = th.running_turn()
        if running is not None:
            self._settle_interrupted(running)

    def _settle_interrupted(self, turn: Turn) -> None:
        self._set_state(turn, "interrupted")
        turn.completed_at = self.clock() * 1000
        turn.settled_by = "user"

    def _action_prompt(self, action: dict[str, Any]) -> None:
        th = self._thread(action["sessionID"], action.get("directory"))
        mid = action["messageID"]
        if not isinstance(mid, str) or not mid:
            raise TypeError("messageID missing")
        ok = action.get("ok")
        turn = th.turns.get(mid)
        if ok is False:
            if turn is None:
                return
            turn.error = str(action.get("error") or "the server refused the prompt")
            if turn.state in OPEN or turn.user is None:
                self._set_state(turn, "error")
                turn.settled_by = "server"
                turn.completed_at = self.clock() * 1000
            if not th.open and th.active:
                th.status = "error"
                th.last_error = turn.error
                th.busy_since = None
            return
        if ok is True or "sent" in action:
            # The client checked on a prompt that got no answer ({"sent": "unknown"}),
            # found it ({"ok": true}) or gave up asking ({"sent": "gave_up"}): news for
            # the user, not for the turn, which follows the server's events.
            return
        prompt = None
        if turn is not None and turn.synthetic:
            # The stand-in of a message seen only by its parts: the message is this
            # prompt, and its turn a real one.
            prompt = th.messages.get(mid)
            self._drop_turn(th, turn)
            turn = None
        if turn is None:
            # A prompt was just sent: the thread is running before the server says so.
            # The turn comes first, so that activating the thread reopens nothing else.
            state: TurnState = "queued" if th.active and th.running_turn() is not None else "running"
            turn = self._new_turn(th, mid, state)
            turn.started_at = self.clock() * 1000
            if prompt is not None:
                turn.user = prompt
                prompt.turn_id = mid
            if not th.active:
                self._activate(th, "running")
        turn.optimistic_prompt = action.get("text") or ""
        if turn.user is None:
            turn.unconfirmed = self.opens

    def _action_refresh(self, action: dict[str, Any]) -> None:
        status = action.get("status")
        if status in ("pending", "deferred"):
            key = (action.get("providerID"), action.get("op"))
            self.refresh_pending = [
                p for p in self.refresh_pending if (p.get("providerID"), p.get("op")) != key
            ] + [dict(action)]
        elif status in ("completed", "done"):
            self.refresh_pending.clear()
        self.changed = True

    # -- queries ----------------------------------------------------------------------

    @property
    def has_changes(self) -> bool:
        """Something changed since the last :meth:`take_changes`."""
        return self.changed or bool(self.dirty)

    def take_changes(self) -> set[str] | None:
        """What changed since the last call, and forget it: the ids of the threads that
        changed (empty when only something outside threads did, such as the connection),
        or ``None`` when nothing did."""
        if not (self.changed or self.dirty):
            return None
        dirty, self.dirty, self.changed = self.dirty, set(), False
        return dirty

    def any_active(self) -> bool:
        return any(th.active for th in self.threads.values())

    def thread(self, session_id: str) -> Thread | None:
        return self.threads.get(session_id)

    def check_invariants(self) -> list[str]:
        """Broken promises of STATE.md and of the store's own indexes, as sentences
        (empty when all hold)."""
        problems = []
        for th in self.threads.values():
            if not th.active:
                for turn in th.turns.values():
                    if turn.state in OPEN:
                        problems.append(f"{th.id} is {th.status} but turn {turn.id} is {turn.state}")
                if th.permissions or th.questions:
                    problems.append(f"{th.id} is {th.status} but still asks something")
            if th.order != sorted(th.turns):
                problems.append(f"{th.id} turn order out of step (or a turn id twice)")
                continue
            if th.open != [t for t in th.order if th.turns[t].state in OPEN]:
                problems.append(f"{th.id} open-turn index out of step")
            if th.running != [t for t in th.open if th.turns[t].state == "running"]:
                problems.append(f"{th.id} running-turn index out of step")
            problems += self._turn_problems(th)
        for pid, part in self._parts.items():
            owner = part.message.thread
            if self.threads.get(owner.id) is not owner or owner.parts.get(pid) is not part:
                problems.append(f"part cache entry {pid} is stale")
        return problems

    @staticmethod
    def _turn_problems(th: Thread) -> list[str]:
        """Every message in exactly one turn, every part in its message."""
        problems = []
        for tid, turn in th.turns.items():
            user = turn.user
            if user is not None and (th.messages.get(tid) is not user or user.turn_id != tid):
                problems.append(f"{th.id} turn {tid} has a user message it does not own")
            if turn.assistant != sorted(set(turn.assistant)):
                problems.append(f"{th.id} turn {tid} lists an answer twice or out of order")
            for mid in turn.assistant:
                msg = th.messages.get(mid)
                if msg is None or msg.turn_id != tid:
                    problems.append(f"{th.id} turn {tid} lists {mid}, which is not in it")
            if turn.synthetic and (user is not None or turn.assistant != [tid]):
                problems.append(f"{th.id} stand-in {tid} holds more than its message")
        for mid, msg in th.messages.items():
            turn = th.turns.get(msg.turn_id) if msg.turn_id is not None else None
            if msg.id != mid or msg.thread is not th or turn is None:
                problems.append(f"{th.id} message {mid} is in no turn")
            elif turn.user is not msg and mid not in turn.assistant:
                problems.append(f"{th.id} message {mid} names turn {turn.id}, which does not hold it")
            for pid, part in msg.parts.items():
                if th.parts.get(pid) is not part or part.message is not msg:
                    problems.append(f"{th.id} part {pid} of {mid} is not indexed")
        for pid, part in th.parts.items():
            owner = part.message
            if th.messages.get(owner.id) is not owner or owner.parts.get(pid) is not part:
                problems.append(f"{th.id} part {pid} is in no message of the thread")
        return problems
