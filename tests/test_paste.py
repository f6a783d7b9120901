"""What a paste into the prompt becomes (t3tui/app/widgets/paste.py), without a screen.

As opencode 1.18.33 (docs/dev/opencode-prompt-1.18.33.md, sections 7 and 8): the
threshold of the ``[Pasted ~N lines]`` token, its name when it would collide, the
expansion that gives back exactly what was pasted, the paths a paste can name, and the
file parts sent for images and PDFs. The properties check that expanding never loses,
duplicates or alters a pasted text, whatever it holds (tokens included).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from t3tui.app.widgets import paste
from t3tui.app.widgets.paste import Attachments

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")

# -- the threshold and the token ----------------------------------------------------------


def test_line_ends_are_normalised() -> None:
    assert paste.normalize("a\r\nb\rc\n") == "a\nb\nc\n"


@pytest.mark.parametrize(
    ("content", "label"),
    [
        ("one line", None),
        ("two\nlines", None),
        ("x" * 150, None),
        ("three\nshort\nlines", "[Pasted ~3 lines]"),
        ("x" * 151, "[Pasted ~1 lines]"),  # opencode says "lines" even for one
        ("\n".join(["l"] * 40), "[Pasted ~40 lines]"),
    ],
)
def test_summary_threshold(content: str, label: str | None) -> None:
    assert paste.summary_label(content) == label


def test_the_same_label_twice_is_told_apart() -> None:
    att = Attachments()
    first = att.add_text("a\nb\nc", "[Pasted ~3 lines]", "")
    second = att.add_text("d\ne\nf", "[Pasted ~3 lines]", first + " ")
    assert (first, second) == ("[Pasted ~3 lines]", "[Pasted ~3 lines #2]")
    assert att.expand(f"{first} and {second}") == "a\nb\nc and d\ne\nf"


def test_a_token_typed_or_pasted_literally_is_never_reused() -> None:
    att = Attachments()
    # The prompt already holds the label as typed text, and the pasted text holds "#2".
    token = att.add_text("x\n[Pasted ~3 lines #2]\ny", "[Pasted ~3 lines]", "see [Pasted ~3 lines]")
    assert token == "[Pasted ~3 lines #3]"
    assert att.expand(f"see [Pasted ~3 lines] {token}") == "see [Pasted ~3 lines] x\n[Pasted ~3 lines #2]\ny"


def test_a_deleted_token_drops_its_text_and_undo_brings_it_back() -> None:
    att = Attachments()
    token = att.add_text("a\nb\nc", "[Pasted ~3 lines]", "")
    assert att.expand("typed only") == "typed only"
    assert att.expand(f"again {token}") == "again a\nb\nc"
    att.clear()
    assert att.expand(f"again {token}") == f"again {token}"


def test_only_the_first_occurrence_of_a_token_expands() -> None:
    att = Attachments()
    token = att.add_text("a\nb\nc", "[Pasted ~3 lines]", "")
    assert att.expand(f"{token}{token}") == f"a\nb\nc{token}"


# -- properties ------------------------------------------------------------------------------

# Typed text may look like anything but a token's bracket; pasted text may hold anything,
# tokens of this very prompt included.
typed = st.text(st.characters(blacklist_characters="[]", blacklist_categories=("Cs",)), max_size=20)
pasted = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60),
    st.sampled_from(["[Pasted ~3 lines]", "x\n[Pasted ~3 lines #2]\ny", "[Image 1]", "\x1b[31m\u202eevil"]),
)


@given(st.lists(st.tuples(typed, pasted), min_size=1, max_size=6), typed, st.data())
def test_expansion_gives_back_exactly_what_was_typed_and_pasted(
    pieces: list[tuple[str, str]], tail: str, data: st.DataObject
) -> None:
    """Pasted one after the other, each where the cursor is (not always at the end)."""
    att = Attachments()
    text: list[str] = []  # typed pieces and tokens, in the order they stand
    expected: list[str] = []
    for before, content in pieces:
        at = data.draw(st.integers(0, len(text) // 2), label="cursor") * 2
        token = att.add_text(content, "[Pasted ~3 lines]", "".join(text))
        text[at:at] = [before, token]
        expected[at:at] = [before, content]
    assert att.expand("".join(text) + tail) == "".join(expected) + tail


@given(st.lists(pasted, min_size=2, max_size=8))
def test_colliding_tokens_are_all_distinct_and_each_expands_once(contents: list[str]) -> None:
    att = Attachments()
    text = ""
    tokens = []
    for content in contents:
        tokens.append(att.add_text(content, "[Pasted ~3 lines]", text))
        text += tokens[-1] + " "
    assert len(set(tokens)) == len(tokens)
    assert att.expand(text) == "".join(c + " " for c in contents)


@given(st.lists(pasted, min_size=1, max_size=5), st.sets(st.integers(0, 4)))
def test_deleted_tokens_leave_nothing_behind(contents: list[str], deleted: set[int]) -> None:
    att = Attachments()
    text = ""
    tokens = []
    for content in contents:
        tokens.append(att.add_text(content, "[Pasted ~3 lines]", text))
        text += tokens[-1] + "|"
    kept = [i for i in range(len(tokens)) if i not in deleted]
    remaining = "".join(tokens[i] + "|" for i in kept)
    assert att.expand(remaining) == "".join(contents[i] + "|" for i in kept)


# -- paths and files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("/tmp/shot.png", "/tmp/shot.png"),
        ("  '/tmp/my shot.png'\n", "/tmp/my shot.png"),
        ('"/tmp/a.pdf"', "/tmp/a.pdf"),
        ("/tmp/my\\ shot\\ \\(1\\).png", "/tmp/my shot (1).png"),
        ("file:///tmp/my%20shot.png", "/tmp/my shot.png"),
        ("file://localhost/tmp/a.png", "/tmp/a.png"),
    ],
)
def test_paths_a_paste_names(text: str, path: str) -> None:
    assert paste.parse_path(text) == path


@pytest.mark.parametrize(
    "text", ["", "https://example.com/a.png", "http://x/a.png", "a.png\nb.png", "file://host/a.png"]
)
def test_pastes_that_are_not_paths(text: str) -> None:
    assert paste.parse_path(text) is None


def test_mime_by_extension() -> None:
    assert paste.mime_of("/x/A.PNG") == "image/png"
    assert paste.mime_of("/x/a.jpeg") == paste.mime_of("/x/a.jpg") == "image/jpeg"
    assert paste.mime_of("/x/a.pdf") == "application/pdf"
    assert paste.mime_of("/x/a.webp") == "image/webp"
    assert paste.mime_of("/x/a.txt") is None
    assert paste.mime_of("/x/png") is None


def test_only_an_existing_file_is_attachable(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    shot.write_bytes(PNG)
    assert paste.attachable(f"'{shot}'") == (str(shot), "image/png")
    assert paste.attachable("shot.png", cwd=str(tmp_path)) == (str(shot), "image/png")
    assert paste.attachable(str(tmp_path / "missing.png")) is None
    assert paste.attachable(str(tmp_path)) is None  # a directory
    (tmp_path / "notes.txt").write_text("x")
    assert paste.attachable(str(tmp_path / "notes.txt")) is None


def test_a_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * 101)
    with pytest.raises(paste.TooLarge) as err:
        paste.read_file(str(big), limit=100)
    assert (err.value.size, err.value.limit) == (101, 100)
    assert paste.read_file(str(big), limit=101) == b"\0" * 101


def test_file_parts_follow_their_tokens() -> None:
    att = Attachments()
    first = att.add_file("/p/a.png", "image/png", PNG, "")
    doc = att.add_file("/p/b.pdf", "application/pdf", b"%PDF-1.4", first)
    second = att.add_file("/p/c.jpg", "image/jpeg", b"jpg", f"{first} {doc}")
    assert (first, doc, second) == ("[Image 1]", "[PDF 1]", "[Image 2]")
    text = f"look {second} then {first}"  # the PDF's token was deleted
    parts = att.file_parts(text)
    assert [p["filename"] for p in parts] == ["c.jpg", "a.png"]
    assert parts[1] == {
        "type": "file",
        "mime": "image/png",
        "filename": "a.png",
        "url": "data:image/png;base64," + base64.b64encode(PNG).decode(),
        "source": {
            "type": "file",
            "path": "/p/a.png",
            "text": {"start": text.index(first), "end": text.index(first) + 9, "value": "[Image 1]"},
        },
    }
    assert all(
        text[p["source"]["text"]["start"] : p["source"]["text"]["end"]] == p["source"]["text"]["value"]
        for p in parts
    )
    # Paste tokens do not touch file tokens: they are sent as they are.
    assert att.expand(text) == text


def test_numbering_counts_the_images_still_in_the_text() -> None:
    att = Attachments()
    first = att.add_file("/p/a.png", "image/png", PNG, "")
    # [Image 1] was deleted, but its entry is kept for an undo: the next image takes
    # another number, so an undo can never bring back the wrong file.
    again = att.add_file("/p/b.png", "image/png", PNG, "")
    assert first != again
    assert att.file_parts(again)[0]["filename"] == "b.png"
    assert att.file_parts(first)[0]["filename"] == "a.png"


def test_clear_forgets_everything() -> None:
    att = Attachments()
    token = att.add_file("/p/a.png", "image/png", PNG, "")
    att.clear()
    assert att.file_parts(token) == []


def test_file_parts_of_a_refused_prompt_come_back() -> None:
    att = Attachments()
    image = att.add_file("/p/a.png", "image/png", PNG, "")
    text = f"see {image}"
    parts = att.file_parts(text)
    mention = {"type": "file", "mime": "text/plain", "url": "file:///p/x.py", "filename": "x.py"}
    att.clear()  # sent: gone from the input
    att.restore([*parts, mention])  # refused: the text and its files are back
    assert att.file_parts(text) == parts
    assert list(att.files) == [image]
