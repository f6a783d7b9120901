"""Hostile input for the store: colliding ids, non-finite numbers, runs after errors.

Each scenario here once broke the store (issue 11): a stand-in turn overwrote a real
one, text vanished, a thread stayed ``running`` after idle, ``NaN`` crashed the app.
"""

from __future__ import annotations

import json
from typing import Any

from eventgen import (
    assistant_info,
    delta,
    idle,
    msg_updated,
    new_id,
    part_updated,
    session_error,
    session_updated,
    status,
    stream,
    text_part,
    user_info,
)

from t3tui import observations
from t3tui.eventlog import dump
from t3tui.state.store import OPEN, Store


def run(lines: list[Any]) -> Store:
    store = Store(clock=lambda: 1000.0)
    for line in lines:
        store.apply(line)
        assert store.check_invariants() == []
    return store


def turns(store: Store, sid: str) -> list[tuple[str, str]]:
    return [(t.id, t.state) for t in store.threads[sid].sorted_turns()]


def settled(store: Store) -> None:
    """No thread running, no turn open, nothing rejected."""
    for th in store.threads.values():
        assert th.status in ("ready", "error"), th.id
        assert not [t for t in th.turns.values() if t.state in OPEN]
        assert len(th.order) == len(set(th.order)) == len(th.turns)
    assert store.rejected == 0


# -- colliding ids (issue 11, item 5) -------------------------------------------------


def test_user_part_after_its_assistant_keeps_the_turn_and_its_text() -> None:
    """An assistant message arrives before its user message: the user's part must not
    put a stand-in over the turn that holds the streamed answer."""
    sid, user, asst, part = new_id("ses"), new_id("msg"), new_id("msg"), new_id("prt")
    store = run(
        [
            status(sid, "busy"),
            msg_updated(assistant_info(sid, asst, user)),
            part_updated(text_part(sid, asst, part, "", end=False)),
            delta(sid, asst, part, "streamed "),
            delta(sid, asst, part, "answer"),
            part_updated(text_part(sid, user, new_id("prt"), "the question")),
        ]
    )
    assert turns(store, sid) == [(user, "running")]
    turn = store.threads[sid].turns[user]
    assert (turn.prompt, turn.text) == ("the question", "streamed answer")
    store.apply_all([msg_updated(user_info(sid, user)), *idle(sid)])
    assert turns(store, sid) == [(user, "interrupted")]
    assert store.threads[sid].turns[user].text == "streamed answer"
    store.apply_all(idle(sid))  # a second idle pair once raised a swallowed KeyError
    settled(store)


def test_assistant_naming_a_stand_in_as_parent_shows_the_prompt_as_prompt() -> None:
    """A user message seen only by its part is a stand-in; an assistant message that
    names it as parent shows it is the user's prompt, not an answer."""
    sid, user, asst, part = new_id("ses"), new_id("msg"), new_id("msg"), new_id("prt")
    store = run(
        [
            status(sid, "busy"),
            part_updated(text_part(sid, user, new_id("prt"), "the question")),
            msg_updated(assistant_info(sid, asst, user)),
            part_updated(text_part(sid, asst, part, "", end=False)),
            delta(sid, asst, part, "the answer"),
        ]
    )
    turn = store.threads[sid].turns[user]
    assert (turn.prompt, turn.text) == ("the question", "the answer")
    store.apply_all([msg_updated(assistant_info(sid, asst, user, finish="stop", completed=True)), *idle(sid)])
    assert turns(store, sid) == [(user, "completed")]
    assert store.threads[sid].turns[user].text == "the answer"
    store.apply(msg_updated(user_info(sid, user)))
    assert store.threads[sid].turns[user].text == "the answer"
    settled(store)


def test_delta_on_the_id_of_a_sent_prompt_does_not_replace_its_turn() -> None:
    sid, mid, part = new_id("ses"), new_id("msg"), new_id("prt")
    store = run([stream("open"), session_updated(sid)])
    store.apply(observations.prompt_sent(sid, mid, "hi", None))
    store.apply(delta(sid, mid, part, "hi"))
    assert turns(store, sid) == [(mid, "running")]
    asst, apart = new_id("msg"), new_id("prt")
    store.apply_all(
        [
            msg_updated(user_info(sid, mid)),
            status(sid, "busy"),
            msg_updated(assistant_info(sid, asst, mid)),
            delta(sid, asst, apart, "hello"),
            *idle(sid),
            *idle(sid),
        ]
    )
    assert turns(store, sid) == [(mid, "interrupted")]
    turn = store.threads[sid].turns[mid]
    assert (turn.prompt, turn.text) == ("hi", "hello")
    settled(store)


def test_delta_on_a_turn_id_known_from_a_parent_id() -> None:
    sid, user, asst, part = new_id("ses"), new_id("msg"), new_id("msg"), new_id("prt")
    store = run(
        [
            status(sid, "busy"),
            msg_updated(assistant_info(sid, asst, user)),
            delta(sid, asst, part, "answer"),
            delta(sid, user, new_id("prt"), "odd"),
            *idle(sid),
        ]
    )
    assert turns(store, sid) == [(user, "interrupted")]
    turn = store.threads[sid].turns[user]
    assert turn.text == "answer" and "odd" in turn.prompt
    settled(store)


def test_a_message_id_reused_as_a_user_message_is_not_shown_twice() -> None:
    """The answer's id comes back as a user message: the latest description wins, and
    the text is shown once, as that user message's prompt."""
    sid, user, asst, part = new_id("ses"), new_id("msg"), new_id("msg"), new_id("prt")
    store = run(
        [
            msg_updated(user_info(sid, user)),
            part_updated(text_part(sid, user, new_id("prt"), "question")),
            status(sid, "busy"),
            msg_updated(assistant_info(sid, asst, user)),
            delta(sid, asst, part, "words"),
            msg_updated(user_info(sid, asst)),
            *idle(sid),
        ]
    )
    th = store.threads[sid]
    assert th.turns[user].text == ""
    assert th.turns[asst].prompt == "words"
    settled(store)


def test_a_user_message_reused_as_its_own_answer_keeps_the_prompt_apart() -> None:
    sid, user = new_id("ses"), new_id("msg")
    store = run(
        [
            msg_updated(user_info(sid, user)),
            part_updated(text_part(sid, user, new_id("prt"), "question")),
            status(sid, "busy"),
            msg_updated(assistant_info(sid, user, user)),
            *idle(sid),
        ]
    )
    th = store.threads[sid]
    texts = [(t.prompt, t.text) for t in th.sorted_turns()]
    assert sum(p.count("question") + x.count("question") for p, x in texts) == 1
    settled(store)


def test_message_and_part_ids_repeated_across_sessions_are_kept_apart() -> None:
    a, b, user, asst, part = new_id("ses"), new_id("ses"), new_id("msg"), new_id("msg"), new_id("prt")
    lines: list[Any] = []
    for sid in (a, b):
        lines += [
            msg_updated(user_info(sid, user)),
            status(sid, "busy"),
            msg_updated(assistant_info(sid, asst, user)),
        ]
    lines += [delta(a, asst, part, "from a"), delta(b, asst, part, "from b"), *idle(a), *idle(b)]
    store = run(lines)
    assert store.threads[a].turns[user].text == "from a"
    assert store.threads[b].turns[user].text == "from b"
    settled(store)


def test_a_part_moved_to_another_message_keeps_its_text() -> None:
    sid, user, one, two, part = new_id("ses"), new_id("msg"), new_id("msg"), new_id("msg"), new_id("prt")
    store = run(
        [
            msg_updated(user_info(sid, user)),
            status(sid, "busy"),
            msg_updated(assistant_info(sid, one, user)),
            msg_updated(assistant_info(sid, two, user)),
            delta(sid, one, part, "first "),
            delta(sid, two, part, "second"),
            *idle(sid),
        ]
    )
    assert store.threads[sid].turns[user].text == "first second"
    settled(store)


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


# -- a new run after an error (issue 11, item 7) --------------------------------------


def failed_run(sid: str, user: str) -> list[Any]:
    return [
        msg_updated(user_info(sid, user)),
        status(sid, "busy"),
        session_error(sid, "APIError", "bad request"),
        *idle(sid),
    ]


def test_busy_and_idle_after_an_error_without_a_failure_is_ready() -> None:
    sid, user = new_id("ses"), new_id("msg")
    store = run(failed_run(sid, user))
    assert store.threads[sid].status == "error"
    store.apply_all([status(sid, "busy"), *idle(sid)])
    assert store.threads[sid].status == "ready"
    assert turns(store, sid) == [(user, "error")]


def test_the_failed_turn_run_again_to_a_finish_is_completed_and_ready() -> None:
    sid, user, asst = new_id("ses"), new_id("msg"), new_id("msg")
    store = run(failed_run(sid, user))
    store.apply_all(
        [
            status(sid, "busy"),
            msg_updated(assistant_info(sid, asst, user)),
            msg_updated(assistant_info(sid, asst, user, finish="stop", completed=True)),
            *idle(sid),
        ]
    )
    assert store.threads[sid].status == "ready"
    assert turns(store, sid) == [(user, "completed")]


def test_a_queued_turn_that_runs_after_an_error_ends_ready() -> None:
    sid, one, two, asst = new_id("ses"), new_id("msg"), new_id("msg"), new_id("msg")
    store = run(
        [
            msg_updated(user_info(sid, one)),
            status(sid, "busy"),
            msg_updated(user_info(sid, two)),
            session_error(sid, "APIError", "bad request"),
            msg_updated(assistant_info(sid, asst, two)),
            msg_updated(assistant_info(sid, asst, two, finish="stop", completed=True)),
            *idle(sid),
        ]
    )
    assert turns(store, sid) == [(one, "error"), (two, "completed")]
    assert store.threads[sid].status == "ready"


def test_a_new_prompt_after_an_error_that_fails_again_is_error() -> None:
    sid, one, two = new_id("ses"), new_id("msg"), new_id("msg")
    store = run([*failed_run(sid, one), *failed_run(sid, two)])
    assert store.threads[sid].status == "error"
    assert turns(store, sid) == [(one, "error"), (two, "error")]


def test_duration_of_a_time_that_is_not_one_is_unknown() -> None:
    from t3tui.i18n import t
    from t3tui.text import duration

    before = t.lang
    t.set_language("en")  # other tests switch the process-wide language
    try:
        for bad in (None, float("nan"), float("inf"), -float("inf"), 1e308, 10**400):
            assert duration(bad) == "unknown"
        assert [duration(x) for x in (-3, 0, 59.9, 63, 7500)] == ["0s", "0s", "59s", "1m03s", "2h05m"]
    finally:
        t.set_language(before)


def test_badge_and_turn_state_line_say_unknown_for_nan_times() -> None:
    """The sidebar badge and a turn's state line, without an app: NaN times that reach
    them (from the wire, or set directly) show the localized "unknown"."""
    from t3tui.app.widgets.sidebar import badge
    from t3tui.app.widgets.turn_text import turn_status_text
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
    before = t.lang
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
        t.set_language(before)
