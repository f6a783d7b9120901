"""Subagents: from a ``task`` card to the child thread it runs (Alt+→), and back (Alt+←);
the child's live state on its parent's card."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError
from t3tui.state.subagents import ChildState, child_session, child_state, children, step

if TYPE_CHECKING:
    from t3tui.app.app import T3App

log = logging.getLogger(__name__)

STYLES: dict[ChildState, str] = {
    "permission": "bold yellow",
    "question": "bold yellow",
    "retrying": "bold magenta",
    "working": "bold cyan",
    "failed": "bold red",
    "interrupted": "yellow",
    "done": "green",
    "unknown": "dim",
}


class Subagents:
    """Which child a card shows, what each child shown on a card is doing, and the keys."""

    def __init__(self, app: T3App) -> None:
        self.app = app
        self._shown: dict[str, ChildState] = {}  # child id -> the state its card shows
        # parent id -> the children seen: kept as threads change (each is dirty at least once)
        # and as cards name them, so that the footer's check costs nothing per frame.
        self._kids: dict[str, set[str]] = {}

    def attach(self) -> None:
        """The thread view's cards ask this for a task call's child (once the screen exists)."""
        self.app.main.thread_view.details.child_badge = self.badge

    def badge(self, data: Any) -> tuple[str, str] | None:
        """A ``task`` card's child: what it is doing, and the key that opens it."""
        sid = child_session(data)
        if sid is None:
            return None
        th = self.app.link_of(sid).store.threads.get(sid)
        state = child_state(th)
        self._shown[sid] = state
        current = self.app.threads.current_id
        if current is not None:
            self._kids.setdefault(current, set()).add(sid)
        return t(f"subagent.{state}"), STYLES[state]

    def changed(self, dirty: set[str]) -> bool:
        """A child shown on a card changed what it is doing: the cards are drawn again."""
        moved = False
        for sid in dirty:
            th = self.app.link_of(sid).store.threads.get(sid)
            if th is not None and th.parent_id:
                self._kids.setdefault(th.parent_id, set()).add(sid)
            if sid in self._shown and child_state(th) != self._shown[sid]:
                moved = True
        if moved:
            details = self.app.main.thread_view.details
            details.version += 1
            details.children_version += 1
        return moved

    def forget(self) -> None:
        self._shown.clear()

    # -- keys ---------------------------------------------------------------------------

    def child_ids(self) -> list[str]:
        """The open thread's subagents: the store's children, then those its cards name."""
        th = self.app.threads.current
        if th is None:
            return []
        ids = [c.id for c in children(self.app.link_of(th.id).store.threads.values(), th.id)]
        for tid in th.order:
            for msg in th.turns[tid].messages():
                for part in msg.sorted_parts():
                    sid = child_session(part.data) if part.type == "tool" else None
                    if sid is not None and sid not in ids:
                        ids.append(sid)
        return ids

    def can_enter(self) -> bool:
        th = self.app.threads.current
        if th is None:
            return False
        siblings = self._kids.get(th.parent_id, ()) if th.parent_id else ()
        return bool(self._kids.get(th.id)) or len(siblings) > 1

    def can_leave(self) -> bool:
        th = self.app.threads.current
        return th is not None and bool(th.parent_id)

    async def enter(self) -> None:
        """Alt+→: the subagent of the task card clicked last; else the open thread's newest
        subagent; in a subagent, its next sibling."""
        app = self.app
        th = app.threads.current
        if th is None:
            return
        target = self._pointed_child()
        if target is None and th.parent_id:
            siblings = [c.id for c in children(app.link_of(th.id).store.threads.values(), th.parent_id)]
            target = step(siblings, th.id, 1)
        if target is None:
            ids = self.child_ids()
            target = ids[-1] if ids else None
        if target is None:
            app.toast(t("toast.no_subagent"))
            return
        await self.open(target, th.directory)

    async def leave(self) -> None:
        """Alt+←: back to the parent thread."""
        th = self.app.threads.current
        if th is None or not th.parent_id:
            self.app.toast(t("toast.no_parent"))
            return
        await self.open(th.parent_id, th.directory)

    def _pointed_child(self) -> str | None:
        th = self.app.threads.current
        pointed = self.app.main.thread_view.details.pointed_part
        if th is None or pointed is None:
            return None
        for tid in reversed(th.order):
            for msg in th.turns[tid].messages():
                part = msg.parts.get(pointed)
                if part is not None and part.type == "tool":
                    return child_session(part.data)
        return None

    async def open(self, sid: str, directory: str | None) -> None:
        """Open thread ``sid``, asking the server for it first if this client has not seen it."""
        app = self.app
        link = app.link_of(sid)
        if sid not in link.store.threads:
            try:
                session = await link.client.get_session(sid, directory)
            except OpencodeError as exc:
                app.toast(t("toast.load_failed", error=exc.message), severity="error")
                return
            link.observe_session(session)
        await app.threads.open(sid)
        app.main.prompt.focus()
