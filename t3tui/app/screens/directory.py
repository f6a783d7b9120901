"""Where a new thread starts: one of the server's projects or known directories, or a
typed path (Ctrl+N in a new thread, the palette's "New thread in…", ``/new PATH``)."""

from __future__ import annotations

import os
from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from t3tui.app.screens.base import LocalizedModal
from t3tui.app.widgets.plain_text import PlainText
from t3tui.app.widgets.sidebar import short_dir
from t3tui.i18n import t

TYPED = "typed:"  # the option id of the typed path


def typed_path(text: str) -> str | None:
    """A path the user typed (absolute, or under ``~``), normalised; None for a filter word."""
    text = text.strip()
    if not text.startswith(("/", "~")):
        return None
    path = os.path.normpath(os.path.expanduser(text))
    return path if os.path.isabs(path) else None


class DirectoryScreen(LocalizedModal[str | None]):
    """Type to filter the known directories, or type a path; Enter picks, Esc cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "bind.cancel", id="cancel"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    def __init__(
        self, directories: list[str], current: str | None, check: Callable[[str], str | None]
    ) -> None:
        """``directories``: newest first; ``check(path)`` says why a typed path cannot be used."""
        super().__init__(classes="dialog-screen")
        self.directories = list(dict.fromkeys(directories))
        self.current = current
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText(t("directory.title"), classes="dialog-title")
            yield Input(placeholder=t("directory.placeholder"), id="directory-input")
            yield OptionList(id="directories")
            yield PlainText(t("directory.hint"), classes="dialog-hint", id="directory-hint")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    def add_directories(self, directories: list[str]) -> None:
        """More known directories (the server's projects, once they arrive)."""
        fresh = [d for d in directories if d not in self.directories]
        if fresh:
            self.directories += fresh
            self._fill(self.query_one(Input).value)

    def _fill(self, text: str) -> None:
        olist = self.query_one(OptionList)
        words = text.casefold().split()
        options = []
        path = typed_path(text)
        if path is not None and path not in self.directories:
            options.append(Option(Text(t("directory.use", path=short_dir(path))), id=TYPED + path))
        for directory in self.directories:
            shown = short_dir(directory)
            if path is None and not all(w in directory.casefold() or w in shown.casefold() for w in words):
                continue
            if path is not None and not directory.startswith(path.rstrip("/")):
                continue
            marker = "● " if directory == self.current else "  "
            options.append(Option(Text(marker + shown), id=directory))
        olist.clear_options()
        olist.add_options(options)
        if options:
            ids = [o.id for o in options]
            olist.highlighted = ids.index(self.current) if self.current in ids and not text else 0

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def action_move(self, step: int) -> None:
        olist = self.query_one(OptionList)
        if olist.option_count:
            olist.highlighted = ((olist.highlighted or 0) + step) % olist.option_count

    @on(Input.Submitted)
    def _submitted(self) -> None:
        olist = self.query_one(OptionList)
        option = olist.highlighted_option
        if option is not None and option.id:
            self._pick(option.id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._pick(event.option.id)

    def _pick(self, option_id: str) -> None:
        path = option_id.removeprefix(TYPED)
        problem = self.check(path) if option_id.startswith(TYPED) else None
        if problem is not None:
            self.query_one("#directory-hint", PlainText).show(problem, "bold red")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
