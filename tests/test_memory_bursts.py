"""Many bursts into one open thread: the widgets of finished turns (and the footer keys
redrawn meanwhile) do not stay in memory.

Each burst is the real 2,000-token capture (``tests/fixtures/m_bench_2000.jsonl``) with
fresh ids, fed in two halves so that its reply streams into Textual's Markdown first.
Past ``MAX_LIVE`` turns the oldest fold into the history, which draws them as lines:
their widgets (the turn, its Markdown and its blocks) must then be gone, counted as
objects after a full collection, not timed. The memory benchmark is
``tests/benchmarks/bench_bursts_memory.py``.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

from textual.widget import Widget
from textual.widgets import Markdown
from textual.widgets._footer import FooterKey
from textual.widgets._markdown import MarkdownBlock
from ui_support import DEAD_URL, wait_for

from t3tui.app.app import T3App
from t3tui.app.widgets.live_turn import SettledTextView, TextPartView, TurnView
from t3tui.app.widgets.thread_view import MAX_LIVE
from t3tui.eventlog import read_log
from t3tui.opencode.client import OpencodeClient
from t3tui.state.store import SETTLED, Store

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
from bench_bursts_memory import FIXTURE, burst, copies  # noqa: E402

BURSTS = MAX_LIVE + 6
TURN_WIDGETS = (TurnView, TextPartView, SettledTextView, Markdown, MarkdownBlock, FooterKey)


def live_widgets() -> list[Widget]:
    """Every turn widget and footer key still in memory after a full collection (frozen ones too)."""
    gc.unfreeze()  # gc.get_objects() does not list frozen objects
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, TURN_WIDGETS)]


def streaming(view: Any, thread: Any, n: int) -> bool:
    """The ``n``th turn's reply is streaming into its Markdown widget."""
    if len(thread.order) != n:
        return False
    views = [v for v in view.query(TurnView) if v.turn.id == thread.order[-1]]
    return any(md.source for v in views for md in v.query(TextPartView))


async def test_finished_turns_leave_no_widgets_behind() -> None:
    head, body = copies(list(read_log(FIXTURE)))
    props = head[-1]["event"]["payload"]["properties"]
    sid = props["sessionID"]
    store = Store()
    store.apply_all(head)
    app = T3App(
        OpencodeClient(DEAD_URL),
        directory=props["info"]["directory"],
        store=store,
        connect=False,
        cursor_blink=False,
        initial_thread=sid,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.main.thread_view
        thread = store.threads[sid]
        for n in range(1, BURSTS + 1):
            observations = burst(body, n)
            half = len(observations) // 2
            for obs in observations[:half]:
                app.link.observe(obs)
            await wait_for(pilot, app, lambda n=n: streaming(view, thread, n))
            for obs in observations[half:]:
                app.link.observe(obs)
            await wait_for(
                pilot,
                app,
                lambda: (
                    not thread.active
                    and thread.turns[thread.order[-1]].state in SETTLED
                    and thread.order[-1] in {v.turn.id for v in view.query(TurnView)}
                ),
            )
        assert len(thread.order) == BURSTS
        assert len(view.history.turns) == BURSTS - MAX_LIVE  # the oldest folded into the history
        per_turn = max(len(v.query(MarkdownBlock)) for v in view.query(TurnView))
        widgets = live_widgets()
        # Textual's ThreadView keeps its last list of children until its next layout: the
        # turn folded last may still be in it, no other.
        bound = MAX_LIVE + 1
        turns = [w for w in widgets if isinstance(w, TurnView)]
        assert len(turns) <= bound, f"{len(turns)} turn widgets in memory for {MAX_LIVE} shown"
        texts = [w for w in widgets if isinstance(w, TextPartView | SettledTextView)]
        assert len(texts) <= bound, f"{len(texts)} reply widgets in memory for {MAX_LIVE} turns shown"
        blocks = [w for w in widgets if isinstance(w, MarkdownBlock)]
        assert len(blocks) <= bound * per_turn, f"{len(blocks)} Markdown blocks in memory"
        # The footer redraws its keys several times a turn: the keys it removed must go.
        keys = [w for w in widgets if isinstance(w, FooterKey)]
        shown = [w for w in keys if w.is_attached]
        assert len(keys) <= 2 * len(shown), f"{len(keys)} footer keys in memory, {len(shown)} shown"
