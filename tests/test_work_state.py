"""The work a thread did, in the store: todos, changed files, tokens in context, cost.

The real capture ``q_todo_write_edit_task.jsonl`` (opencode 1.18.33, the scripted model:
``todowrite``, ``write``, ``edit``, a ``task`` subagent, then text; every event, then the
REST answers the app uses) is replayed, and the rules of docs/state-rules.md ("Work:
todos, files, tokens and cost") are checked on built events. Hypothesis feeds malformed
and reordered updates: they never raise, and the last one wins.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eventgen import (
    assistant_info,
    delta,
    ev,
    idle,
    msg_updated,
    new_id,
    part_updated,
    session_info,
    snapshot,
    status,
    stream,
    text_part,
    user_info,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from t3tui.eventlog import dump, read_log, replay, summary
from t3tui.state import work
from t3tui.state.store import Store, Thread

FIXTURE = Path(__file__).parent / "fixtures" / "q_todo_write_edit_task.jsonl"
PARENT = "ses_dcb057ad8ffeVZa3WbFIhVb7Tv"
CHILD = "ses_dcb055568ffeaY1TO7nv3tqjLH"
SID = "ses_e030be698ffekR7lV1Ew0yneZ6"


def todo(content: str, status: str = "pending", priority: str = "medium") -> dict[str, Any]:
    return {"content": content, "status": status, "priority": priority}


def todo_updated(sid: str, todos: Any, eid: str | None = None) -> dict[str, Any]:
    return ev("todo.updated", {"sessionID": sid, "todos": todos}, eid=eid)


def session_diff(sid: str, diff: Any) -> dict[str, Any]:
    return ev("session.diff", {"sessionID": sid, "diff": diff})


def file_diff(name: str, added: int, removed: int, status: str = "modified") -> dict[str, Any]:
    patch = f"Index: {name}\n===\n--- {name}\n+++ {name}\n@@ -1,{removed} +1,{added} @@\n"
    return {"file": name, "patch": patch, "additions": added, "deletions": removed, "status": status}


def prompt_with_diffs(sid: str, diffs: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """A finished turn whose user message says what it changed (``summary.diffs``), as
    opencode 1.18.33 writes it after each step."""
    user, asst = new_id("msg"), new_id("msg")
    info = {**user_info(sid, user), "summary": {"diffs": diffs}}
    return user, [
        msg_updated(user_info(sid, user)),
        part_updated(text_part(sid, user, new_id("prt"), "change things")),
        status(sid, "busy"),
        msg_updated(assistant_info(sid, asst, user)),
        msg_updated(info),
        msg_updated(assistant_info(sid, asst, user, finish="stop", completed=True)),
        *idle(sid),
    ]


def answer(
    sid: str, parent: str, tokens: dict[str, Any] | None, cost: Any = 0, model: str = "fast"
) -> dict[str, Any]:
    info = assistant_info(sid, new_id("msg"), parent, finish="stop", completed=True)
    info["modelID"] = model
    info["cost"] = cost
    if tokens is None:
        info.pop("tokens")
    else:
        info["tokens"] = tokens
    return msg_updated(info)


def tokens(inp: int, out: int, reasoning: int = 0, read: int = 0, write: int = 0) -> dict[str, Any]:
    return {
        "total": inp + out,
        "input": inp,
        "output": out,
        "reasoning": reasoning,
        "cache": {"read": read, "write": write},
    }


def store_of(lines: list[dict[str, Any]]) -> Store:
    store = Store(clock=lambda: 1795245230.0)
    store.apply_all(
        [stream("open"), ev("session.updated", {"sessionID": SID, "info": session_info(SID)}), *lines]
    )
    assert store.rejected == 0
    assert store.check_invariants() == []
    return store


def shown(store: Store, sid: str = SID) -> work.WorkView:
    return work.view(store.threads[sid], store.providers)


def files(view: work.WorkView) -> list[tuple[str, int, int, str]]:
    return [(f.file, f.additions, f.deletions, f.status) for f in view.files]


# -- the real capture ---------------------------------------------------------------------


def test_the_capture_shows_the_todos_the_files_and_the_tokens() -> None:
    store = replay(FIXTURE)
    assert store.rejected == 0 and store.check_invariants() == []
    view = shown(store, PARENT)
    assert [(t.content, t.status) for t in view.todos] == [
        ("Write notes", "completed"),
        ("Edit notes", "in_progress"),
        ("Review", "pending"),
    ]
    assert view.done == 1 and view.current is not None and view.current.content == "Edit notes"
    # The write made notes.txt (30 lines), the edit changed README.md's first line into two.
    assert files(view) == [("README.md", 2, 1, "modified"), ("notes.txt", 30, 0, "added")]
    assert "+# project P" in view.files[0].patch
    # The last answer that wrote something: 10 in, 2 out ("All done.").
    assert view.context == 12
    # The mock model has no context window (limit 0) and costs nothing.
    assert view.limit is None and view.percent is None and view.cost == 0.0
    # The session's own count over its five answers (the subagent's are its own).
    assert (view.input, view.output) == (50, 21)
    child = shown(store, CHILD)
    assert child.todos == () and child.files == ()


def test_the_events_alone_give_the_same_work_as_with_the_rest_answers() -> None:
    """Live, the panel follows the events; the REST answers after them change nothing."""
    events_only = Store()
    events_only.apply_all(obs for obs in read_log(FIXTURE) if "snapshot" not in obs)
    full = replay(FIXTURE)
    for sid in (PARENT, CHILD):
        a, b = shown(events_only, sid), shown(full, sid)
        assert (a.todos, a.files, a.context, a.cost) == (b.todos, b.files, b.context, b.cost)


def test_the_state_dump_and_the_summary_hold_the_work() -> None:
    store = replay(FIXTURE)
    threads = {th["id"]: th for th in dump(store)["threads"]}
    assert threads[PARENT]["work"] == {
        "todos": [
            {"content": "Write notes", "status": "completed"},
            {"content": "Edit notes", "status": "in_progress"},
            {"content": "Review", "status": "pending"},
        ],
        "files": [
            {"file": "README.md", "additions": 2, "deletions": 1, "status": "modified"},
            {"file": "notes.txt", "additions": 30, "deletions": 0, "status": "added"},
        ],
        "context": 12,
    }
    text = summary(store)
    assert "todos 1/3" in text and "[>] 'Edit notes'" in text and "'notes.txt' +30 -0 (added)" in text


def test_a_thread_with_no_work_dumps_as_before() -> None:
    """The dump gains ``work`` only where there is some: older dumps read the same."""
    store = replay(Path(__file__).parent / "fixtures" / "c_abort.jsonl")
    assert all("work" not in th for th in dump(store)["threads"])


# -- todos --------------------------------------------------------------------------------


def test_each_todo_list_replaces_the_last_and_a_malformed_one_is_no_news() -> None:
    first = [todo("Plan", "in_progress"), todo("Build")]
    second = [todo("Plan", "completed"), todo("Build", "in_progress"), todo("Ship", "cancelled")]
    store = store_of([todo_updated(SID, first), todo_updated(SID, second), todo_updated(SID, {"oops": 1})])
    view = shown(store)
    assert [(t.content, t.status) for t in view.todos] == [
        ("Plan", "completed"),
        ("Build", "in_progress"),
        ("Ship", "cancelled"),
    ]
    assert view.done == 1 and view.current == view.todos[1]
    store.apply(todo_updated(SID, []))
    assert shown(store).todos == () and store.threads[SID].work.todos == []


def test_a_todo_snapshot_and_an_event_are_one_list() -> None:
    store = store_of([snapshot("todos", [todo("From the server", "in_progress")], session=SID)])
    assert [t.content for t in shown(store).todos] == ["From the server"]
    store.apply(todo_updated(SID, [todo("From the event")]))
    assert [t.content for t in shown(store).todos] == ["From the event"]


def test_todo_items_of_the_wrong_shape_are_skipped() -> None:
    raw = [
        todo("ok", "in_progress"),
        {"content": 7, "status": "pending"},
        "text",
        None,
        {"status": "completed"},
        {"content": "odd status", "status": "sleeping", "priority": 3},
    ]
    view = shown(store_of([todo_updated(SID, raw)]))
    assert [(t.content, t.status, t.priority) for t in view.todos] == [
        ("ok", "in_progress", "medium"),
        ("odd status", "pending", ""),
    ]


def test_no_thread_for_an_empty_list_about_a_session_never_seen() -> None:
    """opencode sends an empty ``session.diff`` at every step; for a session this client
    never saw (or deleted) that is no news, and must not put a thread in the sidebar."""
    ghost = new_id("ses")
    store = store_of([session_diff(ghost, []), todo_updated(ghost, [])])
    assert ghost not in store.threads
    store.apply(todo_updated(ghost, [todo("real work")]))
    assert [t.content for t in shown(store, ghost).todos] == ["real work"]


# -- changed files ------------------------------------------------------------------------


def test_files_changed_in_several_turns_add_up() -> None:
    _, one = prompt_with_diffs(
        SID,
        [
            file_diff("src/new.py", 10, 0, "added"),
            file_diff("README.md", 3, 1),
            file_diff("old.txt", 0, 4),
            file_diff("tmp.txt", 2, 0, "added"),
        ],
    )
    _, two = prompt_with_diffs(
        SID,
        [
            file_diff("src/new.py", 2, 1),
            file_diff("README.md", 1, 1),
            file_diff("old.txt", 0, 8, "deleted"),
            file_diff("tmp.txt", 0, 2, "deleted"),
        ],
    )
    view = shown(store_of([*one, *two]))
    # A file the thread made stays "added"; one made and deleted again is gone.
    assert files(view) == [
        ("README.md", 4, 2, "modified"),
        ("old.txt", 0, 12, "deleted"),
        ("src/new.py", 12, 1, "added"),
    ]
    assert view.files[2].patch.count("Index: src/new.py") == 2  # both turns' changes, in order


def test_an_undone_turn_takes_its_files_out_and_a_redo_brings_them_back() -> None:
    _, one = prompt_with_diffs(SID, [file_diff("a.py", 1, 0)])
    second, two = prompt_with_diffs(SID, [file_diff("b.py", 5, 5)])
    store = store_of([*one, *two])
    assert [f.file for f in shown(store).files] == ["a.py", "b.py"]
    store.apply(ev("session.updated", {"sessionID": SID, "info": session_info(SID, revert=second)}))
    assert [f.file for f in shown(store).files] == ["a.py"]
    store.apply(ev("session.updated", {"sessionID": SID, "info": session_info(SID)}))
    assert [f.file for f in shown(store).files] == ["a.py", "b.py"]


def test_the_servers_diff_wins_when_it_names_files() -> None:
    _, one = prompt_with_diffs(SID, [file_diff("a.py", 1, 0), file_diff("b.py", 9, 9)])
    store = store_of([*one, session_diff(SID, [file_diff("a.py", 7, 3), {"file": ""}, 5])])
    assert files(shown(store)) == [("a.py", 7, 3, "modified")]
    store.apply(session_diff(SID, []))  # what opencode 1.18.33 sends: the turns say more
    assert [f.file for f in shown(store).files] == ["a.py", "b.py"]


# -- tokens, context, cost ----------------------------------------------------------------


def providers(limit: Any) -> dict[str, Any]:
    model = {"id": "fast", "name": "Mock fast", "limit": {"context": limit, "output": 100}}
    return {
        "all": [{"id": "mock", "name": "Mock", "models": {"fast": model}}],
        "default": {},
        "connected": [],
    }


def test_the_context_is_the_last_answer_that_wrote_something() -> None:
    user, turn = prompt_with_diffs(SID, [])
    store = store_of(
        [
            *turn,
            answer(SID, user, tokens(100, 20, reasoning=5, read=300, write=75), cost=0.25),
            # A new step's answer starts at zero: it says nothing of the context yet.
            answer(SID, user, tokens(0, 0), cost=0),
            snapshot("providers", providers(1000), directory=None),
        ]
    )
    view = shown(store)
    assert view.context == 500  # input + output + reasoning + cache read + cache write
    assert view.limit == 1000 and view.percent == 50
    store.apply(snapshot("providers", providers(0), directory=None))
    assert shown(store).percent is None  # a window of 0 is an unknown one


def test_the_percentage_rounds_as_opencode_does() -> None:
    assert work.WorkView(context=15, limit=1000).percent == 2  # 1.5 rounds up, as Math.round
    assert work.WorkView(context=25, limit=1000).percent == 3
    assert work.WorkView(context=1, limit=1000).percent == 0


def test_the_cost_is_the_sessions_or_the_sum_of_its_answers() -> None:
    user, turn = prompt_with_diffs(SID, [])
    lines = [*turn, answer(SID, user, tokens(10, 5), cost=0.125), answer(SID, user, tokens(10, 5), cost=0.5)]
    store = store_of(lines)
    assert shown(store).cost == 0.625  # no cost in the session info: the answers' sum
    info = {**session_info(SID), "cost": 0.75, "tokens": tokens(20, 10, read=4)}
    store.apply(ev("session.updated", {"sessionID": SID, "info": info}))
    view = shown(store)
    assert view.cost == 0.75  # the server's own sum wins
    assert (view.input, view.output) == (24, 10)
    assert work.total_cost(store.threads.values()) == 0.75


def test_numbers_that_are_not_numbers_are_none() -> None:
    user, turn = prompt_with_diffs(SID, [])
    store = store_of(
        [
            *turn,
            answer(SID, user, {"input": "ten", "output": True, "cache": "no"}, cost=float("nan")),
            answer(SID, user, {"input": 10**20, "output": -4}, cost="$3"),
            answer(SID, user, None, cost=float("inf")),
        ]
    )
    view = shown(store)
    # Only the turn's first answer (cost 0, no output) counted: the others' numbers are garbage.
    assert view.context is None and view.cost == 0.0 and (view.input, view.output) == (0, 0)
    assert work.total_cost(store.threads.values()) == 0.0


# -- never per delta ----------------------------------------------------------------------


def test_streamed_text_does_not_make_the_view_again() -> None:
    user, asst, part = new_id("msg"), new_id("msg"), new_id("prt")
    store = store_of(
        [
            msg_updated(user_info(SID, user)),
            status(SID, "busy"),
            msg_updated(assistant_info(SID, asst, user)),
            part_updated(text_part(SID, asst, part, "", end=False)),
            todo_updated(SID, [todo("Stream", "in_progress")]),
        ]
    )
    th: Thread = store.threads[SID]
    before = shown(store)
    version = th.work.version
    store.apply_all([delta(SID, asst, part, f"tok{i} ") for i in range(200)])
    assert shown(store) is before and th.work.version == version
    store.apply(todo_updated(SID, [todo("Stream", "completed")]))
    assert shown(store) is not before and shown(store).done == 1


# -- hypothesis ---------------------------------------------------------------------------

JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
TODO = st.fixed_dictionaries(
    {"content": st.text(max_size=20), "status": st.sampled_from([*work.TODO_STATUSES, "odd"])},
    optional={"priority": st.sampled_from(["high", "low", 3])},
)
TODO_LIST = st.lists(TODO | JUNK, max_size=6)
DIFF = st.fixed_dictionaries(
    {"file": st.sampled_from(["a.py", "b.py", "", 5])},
    optional={
        "additions": st.integers(-3, 10**16) | JUNK,
        "deletions": st.integers(-3, 50) | JUNK,
        "status": st.sampled_from(["added", "modified", "deleted", None]),
        "patch": st.text(max_size=20) | JUNK,
    },
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("todo"), TODO_LIST | JUNK),
            st.tuples(st.just("diff"), st.lists(DIFF | JUNK, max_size=5) | JUNK),
            st.tuples(st.just("summary"), st.lists(DIFF | JUNK, max_size=4) | JUNK),
            st.tuples(st.just("tokens"), JUNK),
            st.tuples(st.just("snapshot"), TODO_LIST | JUNK),
        ),
        max_size=12,
    )
)
def test_malformed_work_never_raises(steps: list[tuple[str, Any]]) -> None:
    store = store_of([])
    user = new_id("msg")
    store.apply(msg_updated(user_info(SID, user)))
    for kind, raw in steps:
        if kind == "todo":
            store.apply(todo_updated(SID, raw))
        elif kind == "diff":
            store.apply(session_diff(SID, raw))
        elif kind == "summary":
            store.apply(msg_updated({**user_info(SID, user), "summary": {"diffs": raw}}))
        elif kind == "tokens":
            store.apply(answer(SID, user, raw if isinstance(raw, dict) else None, cost=raw))
        else:
            store.apply(snapshot("todos", raw, session=SID))
        view = shown(store)
        assert all(f.additions >= 0 and f.deletions >= 0 and f.file for f in view.files)
        json.dumps(dump(store))
        summary(store)
    assert store.check_invariants() == []


@settings(max_examples=100, deadline=None)
@given(st.lists(TODO_LIST, min_size=1, max_size=6), st.lists(st.integers(0, 5), max_size=6))
def test_repeated_or_replayed_updates_end_at_the_last(lists: list[list[Any]], repeats: list[int]) -> None:
    """Each list arrives once with its own event id; any of them sent again (a replayed SSE
    frame, the same id) is dropped: the thread ends with the last list sent."""
    events = [todo_updated(SID, raw, eid=new_id("evt")) for raw in lists]
    again = [events[i % len(events)] for i in repeats]
    store = store_of([*events, *again])
    assert list(shown(store).todos) == work.read_todos(lists[-1])
