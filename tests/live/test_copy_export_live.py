"""Copy and export against the real opencode and the scripted model: a real turn with a
tool call; ``/export`` writes it (prompt, the tool call in one line, the reply); the copy
key hands the terminal the reply as an OSC 52 sequence."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from ui_support import osc52, terminal_writes, toasts

from . import mockmodel as mm
from .mockmodel import MockModel
from .opencode_server import OpencodeServer
from .test_app_live import live_app, send_and_finish, wait_for


async def test_export_and_copy_a_real_turn(
    opencode: OpencodeServer, mock_model: MockModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    async with live_app(opencode, tmp_path) as (app, pilot):
        mock_model.set_mode("tool", count=2)
        await send_and_finish(pilot, "run the greeting tool")
        th = app.threads.current
        assert th is not None
        app.composer.submit("/export")
        files: list[Path] = []

        def written() -> Any:
            files[:] = list(out.glob("*.md"))
            return files

        await wait_for(pilot, written, what="the exported file")
        [path] = files
        text = path.read_text(encoding="utf-8")
        assert "## Prompt\n\nrun the greeting tool" in text
        assert "- $ `echo hello-from-tool`" in text and mm.TOOL_DONE_TEXT in text
        assert text.index("run the greeting tool") < text.index(mm.TOOL_DONE_TEXT)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert any(f"Exported the thread to {path}" in m for m in toasts(app))
        writes = terminal_writes(app)
        await pilot.press("f5")
        await wait_for(pilot, lambda: osc52(writes), what="an OSC 52 sequence")
        assert osc52(writes) == [mm.TOOL_DONE_TEXT]
        # The tool call is one line on screen until F6.
        assert "echo hello-from-tool" in app.export_screenshot().replace("&#160;", " ")
