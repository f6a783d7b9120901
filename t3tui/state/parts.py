"""Parts into messages, and the hot path: ``message.part.delta``, about 10,000 a second from a real server.

A delta is handled on its raw dict, without validation, through a cache of the part
each part id last named (``Index.parts``); every other part goes through the pydantic
wire models. Parts and deltas may name a message never described, or another message
than before: the part then goes there with its text.
"""

from __future__ import annotations

from typing import Any

from t3tui.opencode.wire import parse_part
from t3tui.state.index import Index
from t3tui.state.records import PartState, Thread
from t3tui.state.settlement import Settlement
from t3tui.state.turns import Turns

TEXTUAL_PARTS: frozenset[str] = frozenset({"text", "reasoning"})


class Parts:
    """Applies parts, deltas and part removals to the messages that hold them."""

    __slots__ = ("index", "cache", "dirty", "turns", "settlement")

    def __init__(self, index: Index, turns: Turns, settlement: Settlement) -> None:
        self.index = index
        # The index's own part cache and dirty set, never replaced: one lookup less each
        # per delta.
        self.cache = index.parts
        self.dirty = index.dirty
        self.turns = turns
        self.settlement = settlement

    def on_delta(self, props: dict[str, Any], directory: str | None) -> None:
        part = self.cache.get(props["partID"])
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
        th = self.index.thread(props.get("sessionID"), directory)
        pid = props["partID"]
        mid = props.get("messageID")
        part = th.parts.get(pid) if isinstance(pid, str) else None
        if part is None:
            part = self.index.new_part(self.turns.message(th, mid), pid, "text")
        elif part.message.id != mid:
            self._move_part(th, part, mid)
        self.cache[part.id] = part
        return part

    def _move_part(self, th: Thread, part: PartState, message_id: Any) -> None:
        """A part the server now puts in another message goes there with its text."""
        target = self.turns.message(th, message_id)
        old = part.message
        if old is target:
            return
        old.parts.pop(part.id, None)
        target.parts[part.id] = part
        part.message = target
        part.version += 1
        self.index.dirty.add(th.id)
        if not old.parts and not old.described:
            self.turns.forget(th, old)

    def apply_part(self, th: Thread, data: dict[str, Any]) -> PartState:
        """A part as the server describes it (an event or a messages snapshot)."""
        parsed = parse_part(data)
        part = th.parts.get(parsed.id)
        if part is None:
            part = self.index.new_part(self.turns.message(th, parsed.messageID), parsed.id, parsed.type)
        elif part.message.id != parsed.messageID:
            self._move_part(th, part, parsed.messageID)
        self.cache[part.id] = part
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

    def on_part_updated(self, props: dict[str, Any], directory: str | None) -> None:
        data = props["part"]
        th = self.index.thread(props.get("sessionID") or data.get("sessionID"), directory)
        part = self.apply_part(th, data)
        if part.type == "tool" and not th.active:
            # A shell command's tool that completes after the run went idle completes
            # its turn (late truth, rule 3).
            tid = part.message.turn_id
            turn = th.turns.get(tid) if tid is not None else None
            if turn is not None and turn.state == "interrupted":
                self.settlement.refine(turn)

    def on_part_removed(self, props: dict[str, Any], directory: str | None) -> None:
        pid = props["partID"]
        th = self.index.threads.get(props.get("sessionID"))  # type: ignore[arg-type]
        part = th.parts.get(pid) if th is not None else self.cache.get(pid)
        if part is None:
            return
        msg = part.message
        self.index.remove_part(part)
        if not msg.parts and not msg.described:
            self.turns.forget(msg.thread, msg)
