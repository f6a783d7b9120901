"""Hostile input for the store: non-finite numbers.

Each scenario here once broke the store (issue 11): ``NaN`` crashed the app.
"""

from __future__ import annotations

import json
from typing import Any

from eventgen import (
    assistant_info,
    msg_updated,
    new_id,
    session_updated,
    status,
    user_info,
)

from t3tui.eventlog import dump
from t3tui.store import Store


def run(lines: list[Any]) -> Store:
    store = Store(clock=lambda: 1000.0)
    for line in lines:
        store.apply(line)
        assert store.check_invariants() == []
    return store


# -- non-finite numbers (issue 11, item 4) --------------------------------------------


def test_nan_and_infinity_times_are_unknown_not_a_crash() -> None:
    sid, user, asst = new_id("ses"), new_id("msg"), new_id("msg")
    raw = [
        session_updated(sid),
        msg_updated(user_info(sid, user)),
        status(sid, "busy"),
        msg_updated(assistant_info(sid, asst, user)),
        status(sid, "retry", attempt=2, message="later", next=1),
    ]
    text = "\n".join(json.dumps(line) for line in raw)
    text = text.replace('"created": 1795245218151', '"created": NaN')  # the session
    text = text.replace('"created": 1795245218159', '"created": Infinity')  # the user message
    text = text.replace('"created": 1795245218200', '"created": -Infinity')  # the answer
    text = text.replace('"next": 1', '"next": NaN')
    assert text.count("NaN") == 2 and text.count("Infinity") == 2
    store = run([json.loads(line) for line in text.splitlines()])
    assert store.rejected == 0
    th = store.threads[sid]
    assert th.session is not None and th.session.time.created is None
    assert th.retry is not None and th.retry.next is None and th.retry.attempt == 2
    assert th.turns[user].started_at is None
    assert th.messages[asst].created is None
    assert th.updated == 1795245218159
    json.dumps(dump(store), allow_nan=False)


def test_duration_of_a_time_that_is_not_one_is_unknown() -> None:
    from t3tui.safe import duration

    for bad in (None, float("nan"), float("inf"), -float("inf"), 1e308, 10**400):
        assert duration(bad) == "unknown"
    assert [duration(x) for x in (-3, 0, 59.9, 63, 7500)] == ["0s", "0s", "59s", "1m03s", "2h05m"]


def test_badge_and_turn_state_line_say_unknown_for_nan_times() -> None:
    """The sidebar badge and a turn's state line, without an app: NaN times that reach
    them (from the wire, or set directly) show the localized "unknown"."""
    from t3tui.app.sidebar import badge
    from t3tui.app.turns import turn_status_text
    from t3tui.i18n import t

    def retrying_store() -> Store:
        sid, user, asst = new_id("ses"), new_id("msg"), new_id("msg")
        raw = [
            msg_updated(user_info(sid, user)),
            status(sid, "busy"),
            msg_updated(assistant_info(sid, asst, user)),
            status(sid, "retry", attempt=2, message="later", next=1),
        ]
        text = "\n".join(json.dumps(line) for line in raw).replace('"next": 1', '"next": NaN')
        return run([json.loads(line) for line in text.splitlines()])

    now = 1795245230000.0
    try:
        for lang, unknown in (("en", "unknown"), ("zh", "未知")):
            t.set_language(lang)
            assert t("time.unknown") == unknown
            th = next(iter(retrying_store().threads.values()))
            turn = th.sorted_turns()[0]
            # NaN "next" from the wire: the retry wait is unknown.
            assert unknown in badge(th, now, False)[0]
            assert unknown in turn_status_text(turn, now)
            # NaN and infinite times set directly (as if a model let them through).
            th.status = "running"
            turn.started_at = float("nan")
            assert unknown in badge(th, now, False)[0]
            assert unknown in turn_status_text(turn, now)
            turn.started_at = float("-inf")
            assert unknown in turn_status_text(turn, now)
            turn.state, turn.completed_at = "completed", float("inf")
            assert unknown in turn_status_text(turn, now)
    finally:
        t.set_language("en")
