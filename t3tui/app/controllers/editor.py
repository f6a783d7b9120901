"""The external editor: the prompt's text opened in $VISUAL or $EDITOR, and brought back.

As opencode 1.18.33 does (docs/dev/opencode-prompt-1.18.33.md, section 6): the paste
tokens are expanded first, the text goes to a temporary ``.md`` file, the editor gets the
terminal, and when it exits the file's text replaces the prompt, cursor at the end (one
trailing newline dropped from a one-line text). Unlike opencode, no editor set, an
editor that cannot start or exits non-zero each say so; the prompt is then left as it
was. The temporary file is private (mode 0600) and always removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import subprocess
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING

from textual.app import SuspendNotSupported

from t3tui.i18n import t

if TYPE_CHECKING:
    from t3tui.app.app import T3App

log = logging.getLogger(__name__)


def editor_command(env: Mapping[str, str]) -> list[str] | None:
    """``$VISUAL``, else ``$EDITOR``, split as the shell would; None when neither is set."""
    for name in ("VISUAL", "EDITOR"):
        value = env.get(name, "").strip()
        if value:
            try:
                argv = shlex.split(value)
            except ValueError:
                argv = value.split()
            if argv:
                return argv
    return None


def edited_text(raw: str) -> str:
    """The file's text as the prompt takes it: ``\\n`` line ends, and a one-line text
    without the newline editors add at the end (a longer text keeps its last newline)."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if text.endswith("\n") and "\n" not in text[:-1]:
        text = text[:-1]
    return text


class Editor:
    """Opens the prompt in the user's editor."""

    def __init__(self, app: T3App) -> None:
        self.app = app
        self.running = False

    async def open(self) -> None:
        """Start editing (Ctrl+G). It runs as a worker: the app goes on reading the
        server's events (and its own messages) while the editor has the terminal."""
        if self.running:
            return
        argv = editor_command(os.environ)
        if argv is None:
            self._fail(t("toast.editor_unset"))
            return
        self.running = True
        self.app.run_worker(self._edit_once(argv), group="editor", exit_on_error=False)

    async def _edit_once(self, argv: list[str]) -> None:
        try:
            await self._edit(argv)
        except Exception as exc:  # a bug here must not pass unnoticed; the prompt is untouched
            log.exception("editing the prompt failed")
            self._fail(t("toast.editor_failed", editor=argv[0], error=f"{exc.__class__.__name__}: {exc}"))
        finally:
            self.running = False

    async def _edit(self, argv: list[str]) -> None:
        prompt = self.app.main.prompt
        editor = argv[0]
        try:
            fd, path = tempfile.mkstemp(prefix="t3tui-prompt-", suffix=".md")  # mode 0600
        except OSError as exc:
            self._fail(t("toast.editor_failed", editor=editor, error=str(exc)))
            return
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(prompt.expanded())
            try:
                code = await self._run([*argv, path])
            except OSError as exc:
                log.warning("the editor %r could not start: %s", editor, exc)
                self._fail(t("toast.editor_failed", editor=editor, error=exc.strerror or str(exc)))
                return
            if code != 0:
                log.info("the editor %r exited with status %s", editor, code)
                self._fail(t("toast.editor_exit", editor=editor, code=code))
                return
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = edited_text(fh.read())
        except OSError as exc:  # the temporary file could not be written or read back
            self._fail(t("toast.editor_failed", editor=editor, error=str(exc)))
            return
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        if not text:
            # As opencode: an empty file changes nothing (the prompt is not lost to a slip).
            self.app.toast(t("toast.editor_empty"), timeout=5)
            return
        prompt.load_edited(text)
        prompt.focus()

    def _fail(self, message: str) -> None:
        """Say what went wrong; the prompt keeps what the user typed."""
        self.app.toast(message, severity="error", timeout=10)

    async def _run(self, argv: list[str]) -> int:
        """Run the editor with the terminal handed over; the loop keeps running meanwhile
        (the server's events are still read). Headless (tests) there is no terminal to
        hand over: the editor just runs.

        No repaint while the editor has the terminal (``batch_update``): a suspended
        driver's output thread is stopped, and Textual would block the loop on its
        full queue after a few frames, for good.
        """
        cwd = self.app.threads.directory
        cwd = cwd if cwd and os.path.isdir(cwd) else None
        entered = False
        try:
            with self.app.batch_update(), self.app.suspend():
                entered = True
                return await self._process(argv, cwd)
        except SuspendNotSupported:
            if entered:
                raise
        return await self._process(argv, cwd)

    @staticmethod
    async def _process(argv: list[str], cwd: str | None) -> int:
        result = await asyncio.to_thread(subprocess.run, argv, cwd=cwd, check=False)
        return result.returncode
