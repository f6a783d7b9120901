"""The provider-refresh coordinator, offline: no server, every order of events.

What a user relies on (STATE.md, "Provider refresh, deferred"): a dispose never aborts
a run (none is sent while one is active), a change is never lost (each one is done in
the end and said so once), a failed dispose is tried again, and a fork that defers its
dispose is waited for.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from t3tui.app.refresh import Dispose, Failed, Item, Log, RefreshCoordinator, Resync, Toast

OPENAI = Item("openai", "OpenAI", "connect")
ANTHROPIC = Item("anthropic", "Anthropic", "disconnect")


def test_no_run_disposes_at_once_and_says_done_when_answered() -> None:
    c = RefreshCoordinator()
    assert c.changed(OPENAI, any_active=False, now=0) == [Dispose((OPENAI,))]
    out = c.answered(deferred=False)
    assert Toast(OPENAI, deferred=False) in out and Resync() in out
    assert not c.waiting


def test_a_run_defers_the_dispose_until_it_ends() -> None:
    c = RefreshCoordinator()
    out = c.changed(OPENAI, any_active=True, now=0)
    assert Toast(OPENAI, deferred=True) in out and not any(isinstance(x, Dispose) for x in out)
    assert c.tick(any_active=True, now=1) == []
    assert c.tick(any_active=False, now=2) == [Dispose((OPENAI,))]


def test_a_failed_dispose_is_tried_again_later() -> None:
    c = RefreshCoordinator(retry_after=10)
    c.changed(OPENAI, any_active=False, now=0)
    out = c.failed("boom", now=1)
    assert Failed("boom", 10) in out and c.pending == [OPENAI]
    assert c.tick(any_active=False, now=5) == []
    assert c.tick(any_active=False, now=11) == [Dispose((OPENAI,))]


def test_a_server_that_defers_is_waited_for_until_its_dispose_event() -> None:
    c = RefreshCoordinator()
    c.changed(OPENAI, any_active=False, now=0)
    out = c.answered(deferred=True, result={"status": "deferred"})
    assert Toast(OPENAI, deferred=True) in out and c.waiting
    assert c.tick(any_active=False, now=1) == []  # the server disposes on its own
    out = c.disposed()
    assert Toast(OPENAI, deferred=False) in out and Resync() in out and not c.waiting


def test_a_change_while_a_dispose_is_in_flight_waits_for_the_next() -> None:
    c = RefreshCoordinator()
    c.changed(OPENAI, any_active=False, now=0)
    out = c.changed(ANTHROPIC, any_active=False, now=0)
    assert not any(isinstance(x, Dispose) for x in out)
    c.answered(deferred=False)
    assert c.tick(any_active=False, now=1) == [Dispose((ANTHROPIC,))]


def test_the_dispose_event_before_the_answer_says_done_once() -> None:
    c = RefreshCoordinator()
    c.changed(OPENAI, any_active=False, now=0)
    first = c.disposed()
    second = c.answered(deferred=False)
    toasts = [x for x in first + second if isinstance(x, Toast)]
    assert toasts == [Toast(OPENAI, deferred=False)]


# -- every order ---------------------------------------------------------------------------

ITEMS = [OPENAI, ANTHROPIC, Item("openai", "OpenAI", "disconnect")]
STEP = st.one_of(
    st.tuples(st.just("change"), st.sampled_from(ITEMS)),
    st.tuples(st.sampled_from(["run", "idle", "tick", "ok", "deferred", "fail", "event"]), st.none()),
)


@given(st.lists(STEP, max_size=40))
def test_every_order_of_events(steps: list[tuple[str, Item | None]]) -> None:
    c = RefreshCoordinator(retry_after=5)
    active = False
    now = 0.0
    last_change: dict[Item, int] = {}
    done_after: dict[Item, int] = {}
    seq = 0

    def run(out: list[Any], was_in_flight: bool) -> None:
        nonlocal seq
        for cmd in out:
            seq += 1
            if isinstance(cmd, Dispose):
                assert not active, "a dispose was sent while a run was active"
                assert not was_in_flight, "two disposes in flight"
                assert cmd.items
            elif isinstance(cmd, Toast) and not cmd.deferred:
                done_after[cmd.item] = seq
            elif isinstance(cmd, Log):
                assert cmd.observation["action"]["kind"] == "refresh"

    for kind, item in steps:
        now += 1.0
        was = bool(c.in_flight)
        if kind == "change":
            assert item is not None
            seq += 1
            last_change[item] = seq
            run(c.changed(item, active, now), was)
        elif kind == "run":
            active = True
        elif kind == "idle":
            active = False
        elif kind == "tick":
            run(c.tick(active, now), was)
        elif kind == "ok" and c.in_flight:
            run(c.answered(deferred=False), was)
        elif kind == "deferred" and c.in_flight:
            run(c.answered(deferred=True), was)
        elif kind == "fail" and c.in_flight:
            run(c.failed("no", now), was)
        elif kind == "event":
            run(c.disposed(), was)

    # Then the runs end and the server answers: nothing is left, every change said done.
    active = False
    for _ in range(4):
        now += 10
        was = bool(c.in_flight)
        run(c.tick(active, now), was)
        if c.in_flight:
            run(c.answered(deferred=False), True)
    if c.deferred:
        run(c.disposed(), False)
    assert not c.waiting
    for item, changed_at in last_change.items():
        assert done_after.get(item, -1) > changed_at, f"{item} was never said done after its change"
