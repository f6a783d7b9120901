"""Messages into turns: which turn holds each message, stand-ins, prompts this client sent, session info.

A turn is a user message and the answers whose ``parentID`` names it; its id is the
user message's. Messages arrive in any order and ids may collide, so the latest info
wins and a message moves to the turn it names (docs/state-rules.md, "Colliding ids").
"""

from __future__ import annotations

from typing import Any

from t3tui.opencode.wire import Message, Session
from t3tui.state.index import Index
from t3tui.state.records import OPEN, MessageState, Thread, Turn, TurnState, insert_sorted, remove_sorted
from t3tui.state.runs import Runs
from t3tui.state.settlement import Settlement


class Turns:
    """Puts each message in its turn, and keeps a session's info."""

    __slots__ = ("index", "settlement", "runs")

    def __init__(self, index: Index, settlement: Settlement, runs: Runs) -> None:
        self.index = index
        self.settlement = settlement
        self.runs = runs

    def message(self, th: Thread, message_id: Any, stand_in: bool = True) -> MessageState:
        """The message ``message_id`` of ``th``; a new one never described is shown in
        a stand-in turn (with ``stand_in``) unless a turn already has its id."""
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
            self.index.dirty.add(th.id)
        elif stand_in:
            # A part or delta for a message never described (joined mid-turn): show it
            # in a stand-in turn until its info (and parentID) arrives.
            state: TurnState = "running" if th.active else "interrupted"
            turn = self.index.new_turn(th, message_id, state, synthetic=True)
            turn.assistant.append(message_id)
            msg.turn_id = message_id
            if not th.active:
                turn.settled_by = "local"
                turn.completed_at = self.index.clock() * 1000
        return msg

    def upsert_message(self, th: Thread, data: dict[str, Any], live: bool) -> MessageState:
        """A message's info: put the message in its turn, wherever it was before.

        The latest info wins: a message described as a user message is its own turn's
        user message, an assistant message is in its parent's turn, whatever an earlier
        info or a stand-in said (ids reused across roles, a changed parent).
        """
        info = Message.model_validate(data)
        msg = self.message(th, info.id, stand_in=False)
        msg.describe(info)
        if info.role == "user":
            self._attach_user(th, msg)
        else:
            self._attach_assistant(th, msg, info.parentID or info.id, live)
        return msg

    def _attach_user(self, th: Thread, msg: MessageState) -> None:
        tid = msg.id
        old = th.turns.get(msg.turn_id) if msg.turn_id is not None else None
        if old is not None and old.id != tid:
            self.detach(th, msg, old)  # it was an answer in another turn
        turn = th.turns.get(tid)
        if turn is not None and turn.synthetic:
            self.index.drop_turn(th, turn)  # its own stand-in, that showed it as an answer
            turn = None
        if turn is None:
            turn = self._start_turn(th, tid)
        turn.user = msg
        remove_sorted(turn.assistant, tid)  # once described as an answer of its own turn
        msg.turn_id = tid
        msg.parent_id = None
        turn.unconfirmed = None
        if turn.started_at is None:
            turn.started_at = msg.created
        self.index.dirty.add(th.id)

    def _attach_assistant(self, th: Thread, msg: MessageState, parent: str, live: bool) -> None:
        index = self.index
        settlement = self.settlement
        old = th.turns.get(msg.turn_id) if msg.turn_id is not None else None
        if old is not None:
            if old.synthetic:
                index.drop_turn(th, old)  # its stand-in: the message goes to its turn
            elif old.id != parent:
                self.detach(th, msg, old)  # another turn (a changed parent or role)
            elif old.user is msg:
                old.user = None  # it was this turn's user message, now its answer
        msg.parent_id = parent
        turn = th.turns.get(parent)
        created = turn is None
        if turn is not None and turn.synthetic:
            # The parent was seen only by its parts, in a stand-in that showed them as
            # an answer: it is a user message, and its turn a real one.
            prompt = th.messages.get(parent)
            index.drop_turn(th, turn)
            created = True
            turn = index.new_turn(th, parent, "running" if th.active else "interrupted")
            turn.started_at = msg.created
            if prompt is not None:
                turn.user = prompt
                prompt.turn_id = parent
        elif turn is None:
            turn = index.new_turn(th, parent, "running" if th.active else "interrupted")
            turn.started_at = msg.created
        msg.turn_id = parent
        new_here = insert_sorted(turn.assistant, msg.id)
        index.dirty.add(th.id)
        if created and not th.active:
            settlement.settle(turn, moving_to_error=None)
        elif turn.state in OPEN:
            if live:
                settlement.arrange(th, answering=turn)
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
            index.set_state(turn, "running")
            settlement.arrange(th, answering=turn)
        else:
            settlement.refine(turn)

    def detach(self, th: Thread, msg: MessageState, turn: Turn) -> None:
        """Take ``msg`` out of ``turn``; a turn left with nothing to show goes."""
        if turn.user is msg:
            turn.user = None
        remove_sorted(turn.assistant, msg.id)
        msg.turn_id = None
        if turn.user is None and not turn.assistant and (turn.synthetic or turn.optimistic_prompt is None):
            self.index.drop_turn(th, turn)
        self.index.dirty.add(th.id)

    def forget(self, th: Thread, msg: MessageState) -> None:
        """Drop a message never described that has no part left (its parts moved)."""
        th.messages.pop(msg.id, None)
        turn = th.turns.get(msg.turn_id) if msg.turn_id is not None else None
        if turn is not None:
            self.detach(th, msg, turn)

    def _start_turn(self, th: Thread, turn_id: str) -> Turn:
        """A user message never seen before: a new turn."""
        if th.active:
            state: TurnState = "queued" if th.running_turn() is not None else "running"
            return self.index.new_turn(th, turn_id, state)
        # The session is not (yet) known to be running: settle it now; the busy status
        # that follows a real prompt reopens it (see Runs.activate).
        turn = self.index.new_turn(th, turn_id, "interrupted")
        turn.settled_by = "local"
        turn.completed_at = self.index.clock() * 1000
        return turn

    # -- events -----------------------------------------------------------------------

    def on_message_updated(self, props: dict[str, Any], directory: str | None) -> None:
        info = props["info"]
        th = self.index.thread(props.get("sessionID") or info.get("sessionID"), directory)
        self.upsert_message(th, info, live=True)

    def on_message_removed(self, props: dict[str, Any], directory: str | None) -> None:
        index = self.index
        th = index.thread(props.get("sessionID"), directory)
        msg = th.messages.get(props["messageID"])
        if msg is None:
            return
        gone = [msg]
        turn = th.turns.get(msg.turn_id) if msg.turn_id is not None else None
        if turn is not None and turn.user is msg:
            # The user message went (a revert): its turn goes, with its answers.
            gone += [th.messages[m] for m in turn.assistant if m in th.messages and m != msg.id]
            index.drop_turn(th, turn)
        elif turn is not None:
            self.detach(th, msg, turn)
        for m in gone:
            th.messages.pop(m.id, None)
            m.turn_id = None
            for part in list(m.parts.values()):
                index.remove_part(part)

    def on_session(self, props: dict[str, Any], directory: str | None) -> None:
        self.upsert_session(Session.model_validate(props["info"]), directory)

    def upsert_session(self, info: Session, directory: str | None, follow: bool = True) -> Thread:
        """``follow``: the thread's directory joins those a resync asks about."""
        index = self.index
        th = index.thread(info.id, info.directory or directory, follow=follow)
        if info.directory and info.directory != th.directory:
            th.directory = info.directory
            if follow:
                index.directories.setdefault(info.directory, None)
            index.relocate(th)
        reverted = th.revert_id
        th.session = info
        if th.revert_id != reverted:
            # An undo or a redo: the turns it covers look reverted (or no longer), and
            # the latest turn left decides the status.
            self.settlement.decide_status(th)
        return th

    def on_session_deleted(self, props: dict[str, Any], directory: str | None) -> None:
        self.index.delete_thread(props.get("sessionID") or (props.get("info") or {}).get("id"))

    # -- local actions ----------------------------------------------------------------

    def prompt(self, action: dict[str, Any]) -> None:
        """A prompt this client sent shows as a turn at once; a refused one ends in ``error``."""
        index = self.index
        th = index.thread(action["sessionID"], action.get("directory"))
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
                index.set_state(turn, "error")
                turn.settled_by = "server"
                turn.completed_at = index.clock() * 1000
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
            index.drop_turn(th, turn)
            turn = None
        if turn is None:
            # A prompt was just sent: the thread is running before the server says so.
            # The turn comes first, so that activating the thread reopens nothing else.
            state: TurnState = "queued" if th.active and th.running_turn() is not None else "running"
            turn = index.new_turn(th, mid, state)
            turn.started_at = index.clock() * 1000
            if prompt is not None:
                turn.user = prompt
                prompt.turn_id = mid
            if not th.active:
                self.runs.activate(th, "running")
        turn.optimistic_prompt = action.get("text") or ""
        if turn.user is None:
            turn.unconfirmed = index.opens
