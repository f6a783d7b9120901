"""The pure reading of the prompt (t3tui/state/prompt.py): triggers, line ranges, the parts
sent for mentions, /command words, and the server's agents and commands read tolerantly.

Examples come from what opencode 1.18.33's TUI sends (docs/dev/opencode-prompt-1.18.33.md);
hypothesis checks the rules on any text, including colliding and repeated mentions.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from t3tui.state.prompt import (
    Mention,
    Trigger,
    agents_from,
    colour_index,
    commands_from,
    file_part,
    file_url,
    fuzzy_score,
    mention_parts,
    primary_agents,
    slash,
    split_range,
    step,
    subagents,
    trigger,
)

# -- triggers ------------------------------------------------------------------------------


def test_at_opens_at_the_start_or_after_whitespace_only() -> None:
    assert trigger("look at @src/ma", 15) == Trigger("@", 8, 15, "src/ma")
    assert trigger("@", 1) == Trigger("@", 0, 1, "")
    assert trigger("me@example.org", 14) is None  # an e-mail address
    assert trigger("@src/main.py now", 16) is None  # whitespace after the @word: closed
    assert trigger("@src/main.py now", 5) == Trigger("@", 0, 5, "src/")  # cursor inside it
    assert trigger("", 0) is None


def test_slash_only_as_the_first_word() -> None:
    assert trigger("/ini", 4) == Trigger("/", 0, 4, "ini")
    assert trigger("/init args", 10) is None
    assert trigger("a /init", 7) is None
    assert trigger("/", 1) == Trigger("/", 0, 1, "")


TEXT = st.text(alphabet=st.sampled_from(list("ab @/#\n\t.é1")), max_size=30)


@given(TEXT, st.integers(min_value=0, max_value=31))
def test_a_trigger_always_points_at_what_the_user_typed(text: str, cursor: int) -> None:
    trig = trigger(text, cursor)
    if trig is None:
        return
    assert text[trig.start] == trig.kind
    assert trig.end == cursor
    assert text[trig.start + 1 : cursor] == trig.query
    assert not any(c.isspace() for c in trig.query)
    if trig.kind == "@":
        assert trig.start == 0 or text[trig.start - 1].isspace()
    else:
        assert trig.start == 0


# -- ranges and mentions ---------------------------------------------------------------------


def test_line_ranges_read_as_opencode_reads_them() -> None:
    assert split_range("src/a.py#20-45") == ("src/a.py", 20, 45)
    assert split_range("src/a.py#20") == ("src/a.py", 20, None)
    assert split_range("src/a.py#20-") == ("src/a.py", 20, None)
    assert split_range("src/a.py#45-20") == ("src/a.py", 45, None)  # an end before the start is dropped
    assert split_range("src/a#b.py") == ("src/a#b.py", None, None)


PATH = st.text(alphabet=st.sampled_from(list("abc/._-é ")), min_size=1, max_size=20).filter(
    lambda p: " " not in p and not p.startswith("/")
)


@given(PATH, st.one_of(st.none(), st.integers(1, 500)), st.one_of(st.none(), st.integers(1, 900)))
def test_a_mention_reads_back_from_its_own_text(path: str, start: int | None, end: int | None) -> None:
    if start is None or end is None or end <= start:
        end = None
    mention = Mention(
        path, start if not path.endswith("/") else None, end if not path.endswith("/") else None
    )
    if mention.start is None:
        mention = Mention(path)
    assert Mention.parse(mention.value) == mention


def test_the_file_part_is_the_one_opencodes_tui_sends() -> None:
    part = file_part("/abs/project", Mention("src/main.py", 20, 45), 8)
    assert part == {
        "type": "file",
        "mime": "text/plain",
        "filename": "src/main.py#20-45",
        "url": "file:///abs/project/src/main.py?start=20&end=45",
        "source": {
            "type": "file",
            "path": "src/main.py",
            "text": {"start": 8, "end": 26, "value": "@src/main.py#20-45"},
        },
    }
    folder = file_part("/abs/project", Mention("src/sub/"), 0)
    assert folder["mime"] == "application/x-directory"
    assert folder["url"] == "file:///abs/project/src/sub/"


def test_file_urls_are_percent_encoded() -> None:
    assert (
        file_url("/home/me/my project", "naïve file.py")
        == "file:///home/me/my%20project/na%C3%AFve%20file.py"
    )
    assert file_url("/p", "a.py", 20) == "file:///p/a.py?start=20"


MENTIONS = st.lists(
    st.builds(Mention, st.sampled_from(["a.py", "b.py", "a.py#1", "src/", "x/a.py"])), max_size=5
)
WORDS = st.lists(
    st.sampled_from(["@a.py", "@b.py", "@src/", "@x/a.py", "@general", "hi", "@a.pyc"]), max_size=8
)


@given(MENTIONS, WORDS)
def test_parts_point_at_their_mention_in_the_text_once_each(
    mentions: list[Mention], words: list[str]
) -> None:
    text = " ".join(words)
    parts = mention_parts(text, "/p", mentions, ["general"])
    values = []
    for part in parts:
        source = part["source"]["text"] if part["type"] == "file" else part["source"]
        assert text[source["start"] : source["end"]] == source["value"]
        values.append(source["value"])
    assert len(values) == len(set(values))  # a mention typed twice is sent once
    starts = [p["source"]["text"]["start"] if p["type"] == "file" else p["source"]["start"] for p in parts]
    assert starts == sorted(starts)  # in the order they stand in the text
    assert {v for v in values if v != "@general"} == {m.value for m in mentions if m.value in words}
    assert ("@general" in values) == ("@general" in words)


def test_a_deleted_mention_is_not_sent() -> None:
    assert mention_parts("nothing here", "/p", [Mention("a.py")]) == []
    assert mention_parts("see @a.pyc", "/p", [Mention("a.py")]) == []  # not a prefix match


# -- commands ----------------------------------------------------------------------------------


def test_slash_splits_the_name_and_its_arguments() -> None:
    assert slash("/init") == ("init", "")
    assert slash("/review main  ") == ("review", "main")
    assert slash("/mycmd alpha beta\nmore\nlines") == ("mycmd", "alpha beta\nmore\nlines")
    assert slash("/x\nbody") == ("x", "body")
    assert slash("/ spaced") is None
    assert slash("not a command") is None
    assert slash("/") is None


def test_fuzzy_prefers_a_prefix_then_a_substring_then_letters_in_order() -> None:
    assert fuzzy_score("ini", "init") > fuzzy_score("ni", "init") > fuzzy_score("it", "init") > 0
    assert fuzzy_score("zz", "init") == 0
    assert fuzzy_score("", "anything") > 0


# -- the server's lists --------------------------------------------------------------------------

AGENTS = [
    {"name": "build", "mode": "primary"},
    {"name": "compaction", "mode": "primary", "hidden": True},
    {"name": "explore", "mode": "subagent"},
    {"name": "general", "mode": "subagent"},
    {"name": "plan", "mode": "primary"},
    {"name": "mine", "mode": "all", "color": "#ff0000"},
    {"name": "title", "mode": "primary", "hidden": True},
]


def test_tab_cycles_primary_agents_and_colours_follow_opencode() -> None:
    agents = agents_from(AGENTS)
    assert [a.name for a in primary_agents(agents)] == ["build", "plan", "mine"]
    assert [a.name for a in subagents(agents)] == ["explore", "general", "mine"]
    assert colour_index(agents, "build") == 0
    assert colour_index(agents, "plan") == 3  # among the visible: build explore general plan
    assert colour_index(agents, "unknown") == 0
    names = ["build", "plan", "mine"]
    assert step(names, "mine", 1) == "build"
    assert step(names, "build", -1) == "mine"
    assert step(names, None, 1) == "build"
    assert step([], "build", 1) is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["name", "mode", "hidden", "source", "hints", "description", "color"]),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@given(JSON)
def test_any_answer_reads_as_agents_and_commands_without_a_crash(raw: Any) -> None:
    for agent in agents_from(raw):
        assert isinstance(agent.name, str) and agent.name
        assert agent.mode in ("primary", "subagent", "all")
    for command in commands_from(raw):
        assert isinstance(command.name, str) and command.name
        assert all(isinstance(h, str) for h in command.hints)


def test_commands_keep_their_source() -> None:
    raw = [
        {
            "name": "init",
            "description": "guided AGENTS.md setup",
            "source": "command",
            "hints": ["$ARGUMENTS"],
        },
        {"name": "skill-x", "source": "skill", "description": None},
        {"name": None},
    ]
    found = commands_from(raw)
    assert [(c.name, c.source, c.description) for c in found] == [
        ("init", "command", "guided AGENTS.md setup"),
        ("skill-x", "skill", ""),
    ]
