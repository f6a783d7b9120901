"""``/export [path]``: the open thread as Markdown in a local file, and a message that says where.

The thread's directory is the server's, which may be another machine: the file is
written here, in the current directory unless a path is given, named from the title.
An existing file is never overwritten (a default name gets ``-2``, ``-3``…; a path the
user gave is refused). The file holds a conversation, so it is private: mode 0600
whatever the umask, as the logs are.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from t3tui.app.widgets.turn_text import state_line
from t3tui.i18n import t
from t3tui.state.export import Labels, file_stem, thread_markdown
from t3tui.state.store import Thread

if TYPE_CHECKING:
    from t3tui.app.app import T3App

TRIES = 1000  # name-2.md … name-1000.md before giving up


def labels() -> Labels:
    """The export's own words in the user's language."""
    return Labels(
        thread=t("export.thread"),
        directory=t("export.directory"),
        prompt=t("export.prompt"),
        reply=t("export.reply"),
        reasoning=t("export.reasoning"),
        untitled=t("export.untitled"),
    )


def write_private(path: Path, text: str) -> None:
    """Create ``path`` (never replacing a file) with mode 0600; FileExistsError if it exists."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fd = -1
            fh.write(text)
    finally:
        if fd != -1:
            os.close(fd)


class Exporter:
    """Writes the open thread to a file."""

    def __init__(self, app: T3App) -> None:
        self.app = app

    def markdown(self, thread: Thread) -> str:
        """The thread as the screen shows it: reasoning when details are shown, the
        state line of each turn (with its time when timestamps are on)."""
        details = self.app.main.thread_view.details
        now = self.app.clock() * 1000
        states = {tid: state_line(turn, now, details) for tid, turn in thread.turns.items()}
        return thread_markdown(thread, reasoning=details.all, labels=labels(), states=states)

    def export(self, path: str = "") -> Path | None:
        """Write the file; the path written, or None (the message says why)."""
        thread = self.app.threads.current
        if thread is None:
            self.app.toast(t("toast.nothing_to_export"), severity="warning")
            return None
        text = self.markdown(thread)
        given = Path(path.strip()).expanduser() if path.strip() else None
        name = file_stem(thread.title, fallback=thread.id) + ".md"
        try:
            if given is not None and not given.is_dir():
                target = given.absolute()
                write_private(target, text)
            else:
                target = self._write_new((given or Path.cwd()).absolute(), name, text)
        except FileExistsError:
            self.app.toast(t("toast.export_exists", path=str(given or name)), severity="warning", timeout=10)
            return None
        except OSError as exc:
            self.app.toast(t("toast.export_failed", error=exc.strerror or str(exc)), severity="error")
            return None
        self.app.toast(t("toast.exported", path=str(target)), timeout=10)
        return target

    @staticmethod
    def _write_new(directory: Path, name: str, text: str) -> Path:
        stem, suffix = name[: -len(".md")], ".md"
        for n in range(1, TRIES + 1):
            target = directory / (name if n == 1 else f"{stem}-{n}{suffix}")
            try:
                write_private(target, text)
            except FileExistsError:
                continue
            return target
        raise FileExistsError(directory / name)
