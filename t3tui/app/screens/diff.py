"""The diff viewer: what an agent changed, one file or the whole thread, unified or side by side.

A full screen over the thread (the prompt keeps its text underneath; Esc comes back to
it). The header names the file at the top of the view, its status and ``+N -M``; the
view (:class:`~t3tui.app.widgets.diff_view.DiffView`) scrolls by the usual keys, jumps
between hunks and files, and switches between unified and side by side.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.widgets import Footer

from t3tui.app.screens.base import LocalizedScreen
from t3tui.app.widgets.diff_view import SPLIT_MIN, DiffFile, DiffView, status_text
from t3tui.app.widgets.plain_text import PlainText
from t3tui.i18n import t


class DiffScreen(LocalizedScreen[None]):
    """Files' diffs in a :class:`DiffView`, with a header that follows the scroll."""

    DEFAULT_CSS = """
    DiffScreen #diff-title {
        background: $panel;
        text-style: bold;
        padding: 0 1;
    }
    DiffScreen #diff-file {
        color: $text-muted;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape", "close", "bind.diff_close", id="diff_close"),
        Binding("q", "close", "bind.diff_close", id="diff_quit", show=False),
        Binding("n", "hunk(1)", "bind.diff_next_hunk", id="diff_next_hunk", key_display="n p"),
        Binding("p", "hunk(-1)", "bind.diff_prev_hunk", id="diff_prev_hunk", show=False),
        Binding(
            "right_square_bracket", "hunk(1)", "bind.diff_next_hunk", id="diff_next_hunk_alt", show=False
        ),
        Binding(
            "left_square_bracket", "hunk(-1)", "bind.diff_prev_hunk", id="diff_prev_hunk_alt", show=False
        ),
        Binding("N", "file(1)", "bind.diff_next_file", id="diff_next_file", key_display="N P"),
        Binding("P", "file(-1)", "bind.diff_prev_file", id="diff_prev_file", show=False),
        Binding("right_curly_bracket", "file(1)", "bind.diff_next_file", id="diff_next_file_alt", show=False),
        Binding("left_curly_bracket", "file(-1)", "bind.diff_prev_file", id="diff_prev_file_alt", show=False),
        Binding("s", "toggle_split", "bind.diff_split", id="diff_split"),
        Binding("a", "whole", "bind.diff_whole", id="diff_whole"),
    ]

    def __init__(
        self,
        title: str,
        *,
        split: bool | None = None,
        on_split: Callable[[bool | None], None] | None = None,
        whole: Callable[[DiffScreen], None] | None = None,
        files: list[DiffFile] | None = None,
    ) -> None:
        super().__init__(classes="diff-screen")
        self.title_text = title
        self.split = split
        self.on_split = on_split
        self.whole = whole  # shows the whole thread instead (opened for one tool call)
        self.files: list[DiffFile] | None = None  # None: loading
        self._given = files  # shown once mounted (a tool call's: nothing to load)
        self.message = ""

    def compose(self) -> ComposeResult:
        yield PlainText(self.title_text, id="diff-title")
        yield PlainText(t("diff.loading"), id="diff-file")
        yield DiffView(split=self.split, id="diff-view")
        yield Footer()

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The viewer's keys, and of the app's only quit and the palette: the thread's keys
        (new thread, model, …) do not apply here, and would crowd the footer."""
        app = self.app
        return {
            key: active
            for key, active in super().active_bindings.items()
            if active.node is not app or active.binding.id in ("quit", "palette")
        }

    @property
    def view(self) -> DiffView:
        return self.query_one(DiffView)

    def on_mount(self) -> None:
        self.view.focus()
        if self._given is not None:
            self.show_files(self._given)

    # -- what it shows --------------------------------------------------------------------

    def show_files(self, files: list[DiffFile], title: str | None = None, message: str = "") -> None:
        """The files to show (``message`` says why there are none)."""
        self.files = files
        self.message = message
        if title is not None:
            self.title_text = title
            self.query_one("#diff-title", PlainText).show(title)
        self.view.set_files(files)
        self._header()
        self.refresh_bindings()

    def loading(self, title: str) -> None:
        self.files = None
        self.title_text = title
        self.query_one("#diff-title", PlainText).show(title)
        self.query_one("#diff-file", PlainText).show(t("diff.loading"))
        self.refresh_bindings()

    def _header(self) -> None:
        """The second line: the file at the top, its status and counts, where it is in the
        list, and the mode."""
        files = self.files
        line = self.query_one("#diff-file", PlainText)
        if files is None:
            return
        if not files:
            line.show(self.message or t("diff.none"))
            return
        view = self.view
        index = max(0, view.top_file())
        file = files[index]
        parts = [
            file.diff.file,
            status_text(file.diff.status),
            f"+{file.additions} -{file.deletions}",
        ]
        if len(files) > 1:
            parts.append(t("diff.file_of", index=index + 1, count=len(files)))
        parts.append(t("diff.split") if view.split_shown else t("diff.unified"))
        if view.split_refused:
            parts.append(t("diff.too_narrow", width=SPLIT_MIN))
        line.show("  ·  ".join(parts))

    def on_diff_view_top_file(self, event: DiffView.TopFile) -> None:
        event.stop()
        self._header()

    def on_resize(self) -> None:
        self.call_after_refresh(self._header)

    # -- keys -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "whole":
            return self.whole is not None
        if action == "file":
            return self.files is not None and len(self.files) > 1
        if action in ("hunk", "toggle_split"):
            return bool(self.files)
        return True

    def action_close(self) -> None:
        self.dismiss(None)

    def action_hunk(self, step: int) -> None:
        view = self.view
        if not (view.next_hunk() if step > 0 else view.prev_hunk()):
            self.app.bell()

    def action_file(self, step: int) -> None:
        view = self.view
        if not (view.next_file() if step > 0 else view.prev_file()):
            self.app.bell()

    def action_toggle_split(self) -> None:
        view = self.view
        self.split = not (view.split_shown or view.split_refused)
        view.set_split(self.split)
        if self.on_split is not None:
            self.on_split(self.split)
        self._header()

    def action_whole(self) -> None:
        if self.whole is not None:
            whole, self.whole = self.whole, None
            whole(self)
