"""When a session runs and when it stops: busy, retry and idle, its errors, aborts, interrupts and disposes.

A *run* is the time a session is active (``running`` or ``retrying``); each gets a
number (``Thread.active_gen``). When it ends, its open turns are settled
(``settlement``), and how the run ended says how they ended: disposed, interrupted by
this client, aborted by another, found idle by a resync, or just idle.
"""

from __future__ import annotations

from typing import Any

from t3tui.opencode.wire import MessageError, StatusRetry
from t3tui.state.index import Index
from t3tui.state.records import UNSURE, SettledBy, Thread, ThreadStatus, Turn
from t3tui.state.settlement import Settlement

# opencode aborts the runs of an instance and only then says it was disposed (about
# 0.3 s later, seen live): an abort this client did not ask for, that ended a run this
# long before a dispose of its directory, with no run since, was the dispose's.
DISPOSE_WINDOW_MS = 10_000.0


class Runs:
    """A session's runs: starting one, ending one, and the events that do either."""

    __slots__ = ("index", "settlement")

    def __init__(self, index: Index, settlement: Settlement) -> None:
        self.index = index
        self.settlement = settlement

    def activate(self, th: Thread, status: ThreadStatus) -> None:
        was_active = th.active
        th.status = status
        if was_active:
            return
        index = self.index
        index.mark_live(th)
        th.active_gen += 1
        th.run_latest = None
        for tid in th.open:  # a prompt just sent, before the server said busy
            index.stamp(th, th.turns[tid])
        th.last_error = None
        th.pending_error = None
        th.interrupt_error = None
        th.busy_since = index.clock() * 1000
        if th.aborted:
            th.aborted = []  # a new run: a dispose from now on is not what ended those
            self.settlement.aborted.pop(th.id, None)
        # The session is running again: a latest turn that was settled without the
        # server's word (and not by the user) is the one it runs.
        if th.order and not th.open:
            latest = th.turns[th.order[-1]]
            if latest.settled_by in UNSURE and not latest.has_evidence():
                latest.error = None
                index.set_state(latest, "running")

    def leave_active(self, th: Thread, snapshot: bool = False) -> None:
        """The session is no longer running: settle what still looks like it is.

        Except a prompt this client just sent that the server has not shown yet: an idle
        *event* then belongs to the previous run (opencode sends idle pairs twice), and
        the server's user message and busy are on their way. Only a resync of a later
        connection settles such a turn (see ``Resync.status``).
        """
        settlement = self.settlement
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
                settlement.settle(turn, moving_to_error, by)
                if turn.settled_by == "aborted":
                    settlement.aborted_by_server(turn)
        if waiting:
            settlement.arrange(th)
            th.pending_error = None
            th.retry = None
            return
        was_active = th.active
        th.status = "ready" if was_active else th.status
        if th.order:
            settlement.refine(th.turns[th.order[-1]])
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

    def apply_status(self, th: Thread, status: dict[str, Any]) -> None:
        """A ``SessionStatus`` (``busy``, ``retry``, ``idle``), from an event or a snapshot."""
        kind = status["type"]
        if kind == "busy":
            self.activate(th, "running")
            th.retry = None
        elif kind == "retry":
            th.retry = StatusRetry.model_validate(status)
            self.activate(th, "retrying")
        elif kind == "idle":
            self.leave_active(th)
        else:
            raise ValueError(f"unknown session status {kind!r}")

    # -- events -----------------------------------------------------------------------

    def on_status(self, props: dict[str, Any], directory: str | None) -> None:
        status = props["status"]
        if status.get("type") == "idle":
            th = self.index.known(props.get("sessionID"), directory)
            if th is not None:
                self.leave_active(th)
            return
        self.apply_status(self.index.thread(props.get("sessionID"), directory), status)

    def on_idle(self, props: dict[str, Any], directory: str | None) -> None:
        th = self.index.known(props.get("sessionID"), directory)
        if th is not None:
            self.leave_active(th)

    def on_session_error(self, props: dict[str, Any], directory: str | None) -> None:
        sid = props.get("sessionID")
        if not sid:
            return
        raw = props.get("error")
        err = MessageError.model_validate(raw) if raw is not None else MessageError()
        if err.aborted:
            self._on_aborted(props, directory)
            return
        th = self.index.thread(sid, directory)
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
        if latest is not None and _settled_unsure(latest):
            latest.error = err.text
            self.index.set_state(latest, "error")
            latest.settled_by = "server"
            latest.completed_at = self.index.clock() * 1000

    def _on_aborted(self, props: dict[str, Any], directory: str | None) -> None:
        """``session.error`` MessageAbortedError: the run was aborted. By this client if
        it interrupted the run, else by another client (or a dispose, which says so
        right after). It ends the run's open turns when the session goes idle."""
        th = self.index.known(props.get("sessionID"), directory)
        if th is None:
            return
        if th.active:
            th.abort_gen = th.active_gen
            return
        # Said after idle: the latest turn, settled without the server's word, was aborted.
        latest = th.latest_turn()
        if latest is not None and _settled_unsure(latest):
            self.settlement.aborted_by_server(latest)

    # -- local actions ----------------------------------------------------------------

    def interrupt(self, action: dict[str, Any]) -> None:
        """This client interrupted a run (or the server refused the abort: ``ok`` false)."""
        th = self.index.thread(action["sessionID"], action.get("directory"))
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
                    self.index.set_state(turn, "running")
                    self.settlement.arrange(th)
                break
            return
        if not th.active:
            return
        th.interrupt_gen = th.active_gen
        running = th.running_turn()
        if running is not None:
            self.settlement.settle_interrupted(running)

    def disposed(self, directory: str | None) -> None:
        """An instance dispose, of ``directory`` or (None) of every one, closes its runs.

        opencode aborts them first (MessageAbortedError, idle), then says it disposed:
        a run that is still going ends as disposed when it goes idle, and the turns a
        recent abort ended were the dispose's (docs/state-rules.md).
        """
        index = self.index
        for d in list(index.live) if directory is None else [directory]:
            for th in index.indexed(index.live, d):
                if th.active:
                    th.dispose_gen = th.active_gen
        now = index.clock() * 1000
        aborted = self.settlement.aborted
        for sid, th in list(aborted.items()):
            if index.threads.get(sid) is not th or not th.aborted or th.active:
                del aborted[sid]
                continue
            recent = th.aborted_at is not None and now - th.aborted_at <= DISPOSE_WINDOW_MS
            if not recent:
                del aborted[sid]
            elif directory is None or th.directory == directory:
                del aborted[sid]
                for tid in th.aborted:
                    turn = th.turns.get(tid)
                    if turn is not None and turn.settled_by == "aborted":
                        turn.settled_by = "disposed"
                        index.dirty.add(th.id)
                th.aborted = []


def _settled_unsure(turn: Turn) -> bool:
    """Settled by the client without the server's word, and nothing since says how it
    ended: a late error or abort may still say so."""
    return turn.state == "interrupted" and turn.settled_by in UNSURE and not turn.has_evidence()
