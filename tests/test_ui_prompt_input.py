"""The prompt's input beyond typing (issue 14): the external editor, long pastes, files.

As opencode 1.18.33's own prompt behaves (docs/dev/opencode-prompt-1.18.33.md, sections
6-8), driven as a user would: Ctrl+G opens $EDITOR on the text (pastes expanded) and
brings the edit back, a cancelled or missing editor leaves the text alone and says why;
a long paste shows as ``[Pasted ~N lines]`` but is kept whole (to send, in drafts); a
pasted image path attaches the image as a ``data:`` URL; pasted escape codes and bidi
controls stay as they were pasted. The editor here is a small Python script.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import ui_support as ui
from textual import events
from textual.pilot import Pilot

from t3tui.app.app import T3App
from t3tui.app.widgets.paste import MAX_FILE_BYTES

SIZE = (110, 32)
FORTY = "\n".join(f"line {i}: some pasted code();" for i in range(1, 41))
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")

# The editor: records what it was given (text, file mode, path), then writes NEW_TEXT
# into the file and exits with EXIT_CODE, as a user's editor would.
EDITOR_SCRIPT = """
import json, os, sys
path = sys.argv[1]
with open(path, encoding="utf-8") as fh:
    given = fh.read()
with open(os.environ["EDITOR_LOG"], "w", encoding="utf-8") as fh:
    json.dump({"text": given, "path": path, "mode": os.stat(path).st_mode & 0o777}, fh)
with open(path, "w", encoding="utf-8") as fh:
    fh.write(os.environ["NEW_TEXT"])
sys.exit(int(os.environ.get("EXIT_CODE", "0")))
"""


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, int], Path]:
    """Set $EDITOR to the script; returns a setter of what it writes and how it exits,
    which gives the path of the record of what it was given."""
    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT, encoding="utf-8")
    record = tmp_path / "editor-log.json"
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}")
    monkeypatch.setenv("EDITOR_LOG", str(record))

    def configure(new_text: str, exit_code: int = 0) -> Path:
        monkeypatch.setenv("NEW_TEXT", new_text)
        monkeypatch.setenv("EXIT_CODE", str(exit_code))
        return record

    return configure


async def until(pilot: Pilot, app: T3App, predicate: Callable[[], object]) -> None:
    """``wait_for``, then the messages that change sent are handled before the test goes on
    (or ends: the app would otherwise shut down with them still queued)."""
    await ui.wait_for(pilot, app, predicate)
    await pilot.pause()


async def typed(pilot: Pilot, app: T3App, text: str) -> None:
    app.main.prompt.focus()
    await pilot.press(*text)
    await until(pilot, app, lambda: app.main.prompt.text == text)


async def pasted(pilot: Pilot, app: T3App, text: str, expect: Callable[[str], bool]) -> None:
    app.main.prompt.post_message(events.Paste(text))
    await until(pilot, app, lambda: expect(app.main.prompt.text))


def app_with_thread(**kw: object) -> T3App:
    return ui.make_app(ui.interrupted(), **kw)  # type: ignore[arg-type]


# -- the external editor ------------------------------------------------------------------------


async def test_the_editor_gets_the_text_and_its_edit_comes_back(editor: Callable[..., Path]) -> None:
    record = editor("rewritten in the editor\n")
    app = app_with_thread()
    async with app.run_test(size=SIZE) as pilot:
        await typed(pilot, app, "draft: ")
        await pasted(pilot, app, FORTY, lambda text: "[Pasted ~40 lines]" in text)
        await pilot.press("ctrl+g")
        await until(pilot, app, lambda: app.main.prompt.text == "rewritten in the editor")
        prompt = app.main.prompt
        assert prompt.cursor_location == prompt.document.end
        given = json.loads(record.read_text(encoding="utf-8"))
        assert given["text"] == "draft: " + FORTY + " "  # the paste in full, not its token
        assert given["mode"] == 0o600 and given["path"].endswith(".md")
        assert not Path(given["path"]).exists()
        assert prompt.expanded() == "rewritten in the editor"
        assert not ui.toasts(app)


async def test_a_multiline_edit_keeps_its_last_newline(editor: Callable[..., Path]) -> None:
    editor("first\nsecond\n")
    app = app_with_thread()
    async with app.run_test(size=SIZE) as pilot:
        await typed(pilot, app, "x")
        await pilot.press("ctrl+g")
        await until(pilot, app, lambda: app.main.prompt.text == "first\nsecond\n")


async def test_an_editor_that_fails_leaves_the_text_untouched(editor: Callable[..., Path]) -> None:
    record = editor("half-written garbage", exit_code=1)
    app = app_with_thread()
    async with app.run_test(size=SIZE) as pilot:
        await typed(pilot, app, "keep me ")
        await pasted(pilot, app, FORTY, lambda text: text == "keep me [Pasted ~40 lines] ")
        await pilot.press("ctrl+g")
        await until(pilot, app, lambda: any("status 1" in m for m in ui.toasts(app)))
        assert app.main.prompt.text == "keep me [Pasted ~40 lines] "
        assert app.main.prompt.expanded() == "keep me " + FORTY + " "
        assert not Path(json.loads(record.read_text(encoding="utf-8"))["path"]).exists()


async def test_an_editor_that_cannot_start_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(tmp_path / "no-such-editor") + " --wait")
    app = app_with_thread()
    async with app.run_test(size=SIZE) as pilot:
        await typed(pilot, app, "keep me")
        await pilot.press("ctrl+g")
        await until(pilot, app, lambda: any("could not be started" in m for m in ui.toasts(app)))
        assert "no-such-editor" in ui.toasts(app)[-1]
        assert app.main.prompt.text == "keep me"
        assert not list(Path(tmp_path).glob("*.md"))


async def test_no_editor_set_says_how_to_set_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    app = app_with_thread(lang="zh")
    async with app.run_test(size=SIZE) as pilot:
        await typed(pilot, app, "keep me")
        await pilot.press("ctrl+g")
        await until(pilot, app, lambda: any("$VISUAL" in m and "$EDITOR" in m for m in ui.toasts(app)))
        assert "编辑器" in ui.toasts(app)[-1]  # in the user's language
        assert app.main.prompt.text == "keep me"


async def test_visual_wins_over_editor(editor: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    editor("from visual")
    monkeypatch.setenv("VISUAL", os.environ["EDITOR"])
    monkeypatch.setenv("EDITOR", "/no/such/editor")
    app = app_with_thread()
    async with app.run_test(size=SIZE) as pilot:
        await typed(pilot, app, "x")
        await pilot.press("ctrl+g")
        await until(pilot, app, lambda: app.main.prompt.text == "from visual")


# -- long pastes -------------------------------------------------------------------------------


async def test_a_long_paste_shows_a_token_and_is_kept_whole() -> None:
    app = app_with_thread()
    async with app.run_test(size=SIZE) as pilot:
        await typed(pilot, app, "see ")
        await pasted(pilot, app, FORTY.replace("\n", "\r\n") + "\n\n", lambda t: t != "see ")
        prompt = app.main.prompt
        assert prompt.text == "see [Pasted ~40 lines] "
        await pilot.press(*"and this")
        await until(pilot, app, lambda: prompt.text.endswith("and this"))
        assert prompt.expanded() == "see " + FORTY + " and this"
        # A second paste of the same size is told apart; both come back.
        await pasted(pilot, app, FORTY, lambda t: "[Pasted ~40 lines #2]" in t)
        assert prompt.expanded() == "see " + FORTY + " and this" + FORTY + " "
        # A token the user deletes takes its text with it.
        prompt.load_text(prompt.text.replace("[Pasted ~40 lines] ", ""))
        assert prompt.expanded() == "see and this" + FORTY + " "


async def test_f3_expands_the_pasted_text_in_place() -> None:
    app = app_with_thread()
    async with app.run_test(size=SIZE) as pilot:
        await typed(pilot, app, "see ")
        await pasted(pilot, app, FORTY, lambda t: t != "see ")
        prompt = app.main.prompt
        assert prompt.text == "see [Pasted ~40 lines] "
        await pilot.press("f3")
        await until(pilot, app, lambda: prompt.text == "see " + FORTY + " ")
        assert prompt.expanded() == prompt.text  # nothing left to expand, nothing sent twice


async def test_a_short_paste_is_inserted_as_is() -> None:
    app = app_with_thread()
    async with app.run_test(size=SIZE) as pilot:
        await pasted(pilot, app, "two\r\nlines", lambda t: bool(t))
        assert app.main.prompt.text == "two\nlines"


async def test_escape_codes_and_bidi_controls_are_kept_literally() -> None:
    hostile = "rm -rf \x1b[2J\x1b]0;pwned\x07 \u202eevil\u202c \u200b end"
    app = app_with_thread()
    async with app.run_test(size=SIZE) as pilot:
        await pasted(pilot, app, hostile, lambda t: bool(t))
        assert app.main.prompt.text == hostile
        long = "\n".join([hostile] * 5)
        await pasted(pilot, app, long, lambda t: "[Pasted ~5 lines]" in t)
        assert app.main.prompt.expanded() == hostile + long + " "


async def test_a_draft_keeps_the_pasted_text_across_threads(tmp_path: Path) -> None:
    app = app_with_thread(state_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await typed(pilot, app, "look: ")
        await pasted(pilot, app, FORTY, lambda t: "[Pasted ~40 lines]" in t)
        await pilot.press("ctrl+n")
        await until(pilot, app, lambda: app.threads.current_id is None)
        await app.threads.open(ui.SID)
        assert app.main.prompt.expanded() == "look: " + FORTY + " "
    saved = json.loads((tmp_path / "drafts.json").read_text(encoding="utf-8"))
    assert saved["drafts"][ui.SID] == "look: " + FORTY + " "


# -- files -------------------------------------------------------------------------------------


async def test_a_pasted_image_path_attaches_the_image(tmp_path: Path) -> None:
    shot = tmp_path / "my shot.png"
    shot.write_bytes(PNG)
    doc = tmp_path / "spec.pdf"
    doc.write_bytes(b"%PDF-1.4\n")
    app = app_with_thread()
    async with app.run_test(size=SIZE) as pilot:
        await typed(pilot, app, "what is ")
        await pasted(pilot, app, f"'{shot}'", lambda t: "[Image 1]" in t)
        await pasted(pilot, app, f"file://{doc}", lambda t: "[PDF 1]" in t)
        prompt = app.main.prompt
        assert prompt.text == "what is [Image 1] [PDF 1] "
        image, pdf = prompt.file_parts(prompt.text)
        assert image == {
            "type": "file",
            "mime": "image/png",
            "filename": "my shot.png",
            "url": "data:image/png;base64," + base64.b64encode(PNG).decode(),
            "source": {
                "type": "file",
                "path": str(shot),
                "text": {"start": 8, "end": 17, "value": "[Image 1]"},
            },
        }
        assert pdf["mime"] == "application/pdf" and pdf["url"].startswith("data:application/pdf;base64,")
        assert prompt.expanded() == prompt.text  # the tokens stay in the text sent
        # The user deletes the image's token: only the PDF goes.
        prompt.load_text("what is [PDF 1]")
        assert [p["filename"] for p in prompt.file_parts(prompt.text)] == ["spec.pdf"]
        prompt.clear_attachments()
        assert prompt.file_parts(prompt.text) == []


async def test_a_file_too_large_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "huge.png"
    with big.open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written
    app = app_with_thread()
    async with app.run_test(size=SIZE) as pilot:
        app.main.prompt.post_message(events.Paste(str(big)))
        await until(pilot, app, lambda: any("huge.png" in m for m in ui.toasts(app)))
        assert "10 MB" in ui.toasts(app)[-1]
        assert app.main.prompt.text == ""
        assert app.main.prompt.file_parts("[Image 1]") == []


async def test_a_path_to_a_missing_file_is_pasted_as_text(tmp_path: Path) -> None:
    app = app_with_thread()
    async with app.run_test(size=SIZE) as pilot:
        await pasted(pilot, app, str(tmp_path / "gone.png"), lambda t: bool(t))
        assert app.main.prompt.text == str(tmp_path / "gone.png")


# -- what it looks like ------------------------------------------------------------------------


def test_paste_token_snapshot(snap_compare: Callable[..., bool]) -> None:
    async def paste(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, T3App)
        await pasted(pilot, app, "Please review:\n" + FORTY, lambda t: "[Pasted ~41 lines]" in t)
        await pilot.press(*"and fix it")
        await until(pilot, app, lambda: app.main.prompt.text.endswith("fix it"))
        await app.frames.frame()
        await pilot.pause(0.3)

    assert snap_compare(app_with_thread(), terminal_size=SIZE, run_before=paste)
