"""The diff viewer: opened for a thread (F7, the work panel's files), one file, or one edit tool call.

F7 shows the diff of the edit card clicked last, while it is on screen (as F5 copies the
turn clicked last), else the whole thread's changes; in a viewer opened for one tool
call, ``a`` shows the whole thread. The work panel calls :meth:`Diffs.open` with a file.

Where a thread's diffs come from is one function, :func:`thread_diffs`: the store's
account first (the server's diff of the session, else each turn's ``summary.diffs``:
``state/work.py``), then the server asked again (``GET /session/{id}/diff``), then the
diffs the thread's edit tools carry (which the store always has). Unified or side by
side is remembered while the app runs.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from t3tui.app.screens.diff import DiffScreen
from t3tui.app.widgets.diff_view import DiffFile
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError
from t3tui.state.diffparse import EDIT_TOOLS, tool_diffs
from t3tui.state.export import short_path
from t3tui.state.store import PartState, Thread
from t3tui.state.work import FileDiff, read_file_diffs, thread_files
from t3tui.text import one_line

if TYPE_CHECKING:
    from t3tui.app.app import T3App
    from t3tui.app.controllers.server import ServerLink

log = logging.getLogger(__name__)


def part_diffs(part: PartState) -> list[FileDiff]:
    """The files one tool call changed (empty: not an edit, or nothing said yet)."""
    data: Any = part.data
    if part.type != "tool" or data is None or data.tool not in EDIT_TOOLS:
        return []
    return tool_diffs(data.tool, data.state.input, data.state.metadata)


def edits_in(th: Thread) -> list[FileDiff]:
    """Every file the thread's edit tools changed, call by call, in order."""
    out: list[FileDiff] = []
    for turn in th.sorted_turns():
        if turn.reverted:
            continue
        for msg in turn.messages():
            for part in msg.sorted_parts():
                out += part_diffs(part)
    return out


async def thread_diffs(link: ServerLink, th: Thread) -> list[FileDiff]:
    """A thread's changes, from the best source that has any (see the module's docstring)."""
    stored = thread_files(th)
    if stored:
        return stored
    try:
        fetched = read_file_diffs(await link.client.session_diff(th.id, th.directory))
    except OpencodeError as exc:
        log.info("diff of %s: %s", th.id, exc)
        fetched = []
    return fetched or edits_in(th)


def _relative(diff: FileDiff, directory: str | None) -> FileDiff:
    """``diff`` named relative to the thread's directory when it is inside it."""
    name = short_path(diff.file, directory)
    return (
        diff if name == diff.file else FileDiff(name, diff.patch, diff.additions, diff.deletions, diff.status)
    )


def same_file(name: str, wanted: str) -> bool:
    """``name`` and ``wanted`` are one file (one may be absolute, the other relative)."""
    if name == wanted:
        return True
    a, b = name.rstrip("/"), wanted.rstrip("/")
    return a.endswith("/" + b) or b.endswith("/" + a)


class Diffs:
    """Opens the diff viewer, and remembers unified or side by side."""

    def __init__(self, app: T3App) -> None:
        self.app = app
        self.split: bool | None = None  # None: side by side when the screen is wide enough

    def _remember(self, split: bool | None) -> None:
        self.split = split

    def key(self) -> None:
        """F7: the edit card clicked last (while on screen), else the whole thread; F7 in
        the viewer closes it."""
        screen = self.app.screen
        if isinstance(screen, DiffScreen):
            screen.dismiss(None)
            return
        part = self.pointed_edit()
        if part is not None:
            self.open_part(part)
        else:
            self.open()

    def pointed_edit(self) -> PartState | None:
        """The edit tool card clicked last, if its turn is on screen and it has a diff."""
        view = self.app.main.thread_view
        turn = view.pointed_turn()
        pid = view.details.pointed_part
        if turn is None or pid is None:
            return None
        part = turn.thread.parts.get(pid)
        if part is None or part.message.turn_id != turn.id or not part_diffs(part):
            return None
        return part

    def open(self, thread_id: str | None = None, file: str | None = None) -> None:
        """The viewer for a thread's changes (the open thread's by default), or for one
        ``file`` of them (as the server names it, or its path)."""
        sid = thread_id or self.app.threads.current_id
        link = self.app.link_of(sid)
        th = link.store.threads.get(sid) if sid else None
        if th is None:
            self.app.toast(t("diff.no_thread"))
            return
        screen = self._screen(self._title(th, file))
        self.app.push_screen(screen)
        self._load(screen, link, th, file)

    def open_part(self, part: PartState) -> None:
        """The viewer for one edit tool call; ``a`` in it shows the whole thread."""
        data: Any = part.data
        th = part.message.thread
        directory = th.directory
        files = [DiffFile(_relative(d, directory), note=self._tool_note(data, d)) for d in part_diffs(part)]
        link = self.app.link_of(th.id)

        def whole(screen: DiffScreen) -> None:
            screen.loading(self._title(th, None))
            self._load(screen, link, th, None)

        self.app.push_screen(
            self._screen(t("diff.title_tool", tool=data.tool, count=len(files)), whole, files)
        )

    def _screen(self, title: str, whole: Any = None, files: list[DiffFile] | None = None) -> DiffScreen:
        return DiffScreen(title, split=self.split, on_split=self._remember, whole=whole, files=files)

    def _title(self, th: Thread, file: str | None) -> str:
        name = one_line(th.title or th.id, 60)
        return t("diff.title_file", title=name, file=file) if file else t("diff.title", title=name)

    @staticmethod
    def _tool_note(data: Any, diff: FileDiff) -> str:
        if (
            data.tool == "write"
            and diff.status != "added"
            and not (data.state.metadata or {}).get("filediff")
        ):
            return t("diff.write_whole")
        return data.tool

    def _load(self, screen: DiffScreen, link: ServerLink, th: Thread, file: str | None) -> None:
        async def load() -> None:
            try:
                diffs = await thread_diffs(link, th)
            except Exception as exc:  # never a viewer stuck on "loading"
                log.exception("diff of %s", th.id)
                if screen.is_attached:
                    screen.show_files([], message=t("diff.failed", error=one_line(str(exc), 200)))
                return
            if file:
                diffs = [d for d in diffs if same_file(d.file, file)]
            files = [DiffFile(_relative(d, th.directory)) for d in diffs]
            if screen.is_attached:
                screen.show_files(files, message=t("diff.none_file", file=file) if file else "")

        self.app.run_worker(load(), group="diffs", exit_on_error=False)
