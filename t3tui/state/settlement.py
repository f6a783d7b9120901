"""How a turn ends: the settlement rule of STATE.md, late truth that refines it, and which open turn runs.

A turn is *settled* (``completed``, ``interrupted``, ``error``) by what its last
answer says; ``settled_by`` records who said so (docs/state-rules.md, "Why a turn
ended"). The run-level decisions (a session goes idle, is interrupted or disposed) are
in ``runs``; they call these rules for each turn.
"""

from __future__ import annotations

from t3tui.state.index import Index
from t3tui.state.records import OPEN, UNSURE, SettledBy, Thread, Turn, TurnState


class Settlement:
    """The rules that settle, refine and order a thread's turns."""

    __slots__ = ("index", "aborted")

    def __init__(self, index: Index) -> None:
        self.index = index
        # Threads whose last run an abort this client did not ask for ended (see
        # runs.DISPOSE_WINDOW_MS); a dispose looks at these.
        self.aborted: dict[str, Thread] = {}

    def arrange(self, th: Thread, answering: Turn | None = None) -> None:
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
            self.settle(over, moving_to_error=None)
            if over.error is not None and over.error == th.pending_error:
                th.pending_error = None  # the session error was this turn's; a later one runs
        set_state = self.index.set_state
        if current.state != "running":
            set_state(current, "running")
        for tid in [t for t in th.running if t > current.id]:
            if not turns[tid].synthetic:
                set_state(turns[tid], "queued")

    def settle(self, turn: Turn, moving_to_error: str | None, by: SettledBy | None = None) -> None:
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
        self.index.set_state(turn, state)
        done = last.completed if last is not None else None
        turn.completed_at = done if done is not None else self.index.clock() * 1000
        if state != "interrupted":
            turn.settled_by = "server"  # the server said how it ended (an error is news)
        elif by is not None:
            turn.settled_by = by
        elif err is not None:  # MessageAbortedError
            self.aborted_by_server(turn)
        elif turn.has_evidence():
            turn.settled_by = "server"
        else:
            turn.settled_by = "local"

    def settle_interrupted(self, turn: Turn) -> None:
        """This client interrupted the turn: it settles at once (rule 2)."""
        self.index.set_state(turn, "interrupted")
        turn.completed_at = self.index.clock() * 1000
        turn.settled_by = "user"

    def aborted_by_server(self, turn: Turn) -> None:
        """The server said MessageAbortedError for a turn this client did not interrupt."""
        if turn.run < 0:
            # Never seen running here (loaded from the history): who aborted it, and
            # when, is not known; the server's record says it was aborted.
            turn.settled_by = "server"
            return
        turn.settled_by = "aborted"
        th = turn.thread
        th.aborted_at = self.index.clock() * 1000
        if turn.id not in th.aborted:
            th.aborted.append(turn.id)
        self.aborted[th.id] = th

    def refine(self, turn: Turn) -> None:
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
            self.index.set_state(turn, "error")
        elif last.finished or (last.completed is not None and err is None and turn.shell_done()):
            self.index.set_state(turn, "completed")
        else:
            if err is not None and turn.settled_by in UNSURE:
                self.aborted_by_server(turn)  # the server's word on how it ended, late
                self.index.dirty.add(turn.thread.id)
            return
        turn.completed_at = last.completed or turn.completed_at or self.index.clock() * 1000
        turn.settled_by = "server"
        th = turn.thread
        if not th.active and turn.state == "error" and th.latest_turn() is turn:
            th.status = "error"
            th.last_error = turn.error

    def decide_status(self, th: Thread) -> None:
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
        self.index.dirty.add(th.id)
