"""The work panel beside the thread: what the agent holds in context and what it cost,
its todo list, and the files it changed (Enter or a click opens a file's diff).

It draws a :class:`t3tui.state.work.WorkView` and nothing else: the view is made again
only when the thread's work changed, and the panel redraws only when the view it is
given is not the one it shows (a streamed delta changes neither). Todo items and file
names are server text: shown literally (no markup, no escape codes).
"""

from __future__ import annotations

import time
from typing import Any

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from t3tui.i18n import t
from t3tui.state.work import FileDiff, Todo, WorkView, totals
from t3tui.text import clean, one_line

# A todo's mark and the style of its line, by status (the current item stands out).
MARKS = {
    "completed": ("✓", "green", "dim"),
    "in_progress": ("▶", "bold yellow", "bold yellow"),
    "pending": ("○", "dim", ""),
    "cancelled": ("✗", "dim", "dim strike"),
}
ADDED, REMOVED = "green", "red"
# Files listed at most (a change of a whole repository lists thousands: the rest is one
# line, and every file is still in the diff viewer).
MAX_FILES = 300
GAP = 0.2  # seconds: the panel draws a thread's changes at most this often


def money(cost: float) -> str:
    """Dollars as opencode shows them (two decimals); a cost under a cent is not $0.00."""
    if 0 < cost < 0.005:
        return "<$0.01"
    return f"${cost:,.2f}"


def count(n: int) -> str:
    return f"{n:,}"


def short_count(n: int) -> str:
    """A token count in a few characters: 950, 9.5k, 123k, 1.2M."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def left_cut(path: str, width: int) -> str:
    """A path that fits ``width`` cells, cut at the start (the file's name matters most);
    a wide (CJK) character takes two cells."""
    path = one_line(path, 10_000)
    if cell_len(path) <= width:
        return path
    kept: list[str] = []
    used = 1  # the ellipsis
    for char in reversed(path):
        used += cell_len(char)
        if used > width:
            break
        kept.append(char)
    return "…" + "".join(reversed(kept))


def context_lines(view: WorkView) -> RenderableType | None:
    """The Context section: tokens in context and the share of the window, the cost,
    tokens over the thread (None: nothing known yet)."""
    if not view.has_usage and view.cost is None:
        return None
    text = Text()
    text.append(t("work.context"), style="bold")
    if view.context:
        text.append("\n" + t("work.tokens", tokens=count(view.context)))
        percent = view.percent
        if percent is not None:
            text.append("\n" + t("work.percent", percent=percent, limit=count(view.limit or 0)))
    if view.cost is not None:
        text.append("\n" + t("work.spent", cost=money(view.cost)))
    if view.input or view.output:
        text.append(
            "\n" + t("work.in_out", input=count(view.input or 0), output=count(view.output or 0)), style="dim"
        )
    return text


def todo_lines(todos: tuple[Todo, ...], done: int) -> RenderableType | None:
    """The Todo section: progress, then each item with its mark; a list all done is one line."""
    if not todos:
        return None
    heading = Text.assemble((t("work.todos"), "bold"), " ", (f"{done}/{len(todos)}", "dim"))
    if done == len(todos):
        heading.append(" " + t("work.todos_done"), style="green")
        return heading
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(width=1, no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    for item in todos:
        mark, mark_style, style = MARKS.get(item.status, MARKS["pending"])
        grid.add_row(Text(mark, style=mark_style), Text(clean(item.content), style=style))
    return Group(heading, grid)


def file_row(diff: FileDiff, width: int) -> Text:
    """One changed file: its path (cut at the start to fit), then +N -M."""
    counts = Text()
    if diff.additions or not diff.deletions:
        counts.append(f"+{diff.additions}", style=ADDED)
    if diff.deletions:
        counts.append((" " if counts else "") + f"-{diff.deletions}", style=REMOVED)
    room = max(4, width - counts.cell_len - 1)
    name = left_cut(diff.file, room)
    style = {"added": "", "deleted": "dim strike"}.get(diff.status, "")
    row = Text(name, style=style)
    row.append(" " * max(1, width - cell_len(name) - counts.cell_len))
    row.append_text(counts)
    return row


class FileList(OptionList):
    """The changed files; Enter or a click opens one's diff, Esc gives the prompt back."""

    BINDINGS = [Binding("escape", "leave", "bind.back", id="work_back", show=False)]

    class Leave(Message):
        """Esc: the focus goes back to the prompt."""

    def action_leave(self) -> None:
        self.post_message(self.Leave())


class WorkPanel(Vertical):
    """Context and cost, todos, changed files of the open thread."""

    class FileChosen(Message):
        def __init__(self, file: str) -> None:
            super().__init__()
            self.file = file

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.view: WorkView | None = None  # what is drawn (None: nothing yet)
        self.thread_id: str | None = None
        self._width = 0
        self._files: FileList | None = None
        self._drawn: dict[str, Any] = {}  # what each section shows (to draw only what changed)
        self._drawn_at = -GAP  # when it last drew (monotonic seconds)
        self._later: Timer | None = None  # the drawing put off to the end of the gap

    def compose(self) -> Any:
        with VerticalScroll(id="work-top"):
            yield Static("", id="work-context")
            yield Static("", id="work-todos")
            yield Static("", id="work-empty")
        yield Static("", id="work-files-title")
        yield FileList(id="work-files")

    def on_mount(self) -> None:
        # A query, not query_one: on a quit during the start (SIGTERM), the children can be
        # gone before this runs, and query_one would raise in the shutdown.
        for files in self.query(FileList):
            self._files = files
        for child in self.query("#work-context, #work-todos, #work-files-title, #work-files"):
            child.display = False

    def show(self, thread_id: str | None, view: WorkView | None) -> bool:
        """Draw ``view`` of thread ``thread_id`` unless it is what is drawn; True if it drew
        now. Within ``GAP`` of the last drawing the same thread, it draws once the gap is
        over (the latest view then): an agent that rewrites its todos or files many times
        a second, in a burst, costs the screen a few layouts a second, not one per update."""
        width = self._files_width()
        if view is self.view and thread_id == self.thread_id and width == self._width:
            return False
        other = thread_id != self.thread_id
        self.view, self.thread_id, self._width = view, thread_id, width
        wait = self._drawn_at + GAP - time.monotonic()
        if wait > 0 and not other:
            if self._later is None:
                self._later = self.set_timer(wait, self._draw)
            return False
        self._draw()
        return True

    def _draw(self) -> None:
        if self._later is not None:
            self._later.stop()
            self._later = None
        self._drawn_at = time.monotonic()
        self.redraw(everything=False)

    def redraw(self, everything: bool = True) -> None:
        """Draw the sections whose content changed (``everything``: all of them, as when the
        language changed): a new todo list leaves the files list as it is."""
        view = self.view
        if everything:
            self._drawn.clear()
        context = context_lines(view) if view is not None else None
        todos = todo_lines(view.todos, view.done) if view is not None else None
        has_files = view is not None and bool(view.files)
        nothing = context is None and todos is None and not has_files
        sections = {
            "context": (view.context, view.limit, view.cost, view.input, view.output) if view else None,
            "todos": view.todos if view is not None else None,
            "files": (view.files, self._width) if view is not None else None,
            "empty": (nothing, self.thread_id is None),
        }
        changed = {name for name, key in sections.items() if self._drawn.get(name, self) != key}
        self._drawn.update(sections)
        if "context" in changed:
            self._fill(self.query_one("#work-context", Static), context)
        if "todos" in changed:
            self._fill(self.query_one("#work-todos", Static), todos)
        if "files" in changed:
            self._draw_files(view.files if view is not None else ())
        if "empty" in changed:
            empty = self.query_one("#work-empty", Static)
            empty.display = nothing
            if nothing:
                key = "work.no_thread" if self.thread_id is None else "work.nothing_yet"
                empty.update(Text(t(key), style="dim"))

    def _draw_files(self, diffs: tuple[FileDiff, ...]) -> None:
        title = self.query_one("#work-files-title", Static)
        files = self.query_one(FileList)
        title.display = files.display = bool(diffs)
        if not diffs:
            if files.option_count:
                files.clear_options()
            return
        added, removed = totals(diffs)
        title.update(
            Text.assemble(
                (t("work.files"), "bold"),
                " ",
                (str(len(diffs)), "dim"),
                "  ",
                (f"+{added}", ADDED),
                " ",
                (f"-{removed}", REMOVED),
            )
        )
        self._fill_files(files, diffs)

    @staticmethod
    def _fill(widget: Static, renderable: RenderableType | None) -> None:
        widget.display = renderable is not None
        if renderable is not None:
            widget.update(renderable)

    def _fill_files(self, files: FileList, diffs: tuple[FileDiff, ...]) -> None:
        """The file rows, the cursor kept on the file it was on."""
        highlighted = files.highlighted_option.id if files.highlighted_option is not None else None
        width = self._width
        shown = diffs[:MAX_FILES]
        rows = [Option(file_row(d, width), id=d.file) for d in shown]
        if len(diffs) > len(shown):
            more = Text(t("work.more_files", count=len(diffs) - len(shown)), style="dim italic")
            rows.append(Option(more, disabled=True))
        files.clear_options()
        files.add_options(rows)
        names = [d.file for d in shown]
        if highlighted in names:
            files.highlighted = names.index(highlighted)
        elif names:
            files.highlighted = 0

    def _files_width(self) -> int:
        """The width a file row has (the list's, less its scrollbar and padding)."""
        files = self._files
        width = files.scrollable_content_region.width if files is not None else 0
        return max(12, (width or self.size.width or 30) - 1)

    def on_resize(self) -> None:
        if self.view is not None and self._files_width() != self._width:
            self._width = self._files_width()
            self.redraw(everything=False)

    @on(OptionList.OptionSelected, "#work-files")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.FileChosen(event.option.id))
