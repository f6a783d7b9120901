"""The prompt: multi-line input where Enter sends, with the prompt history on Up and Down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class PromptArea(TextArea):
    """Enter sends; Ctrl+J (or Shift/Alt+Enter where the terminal tells) adds a newline."""

    BINDINGS = [
        # Not in the footer (the placeholder says it): the footer is full at 80 columns.
        Binding("ctrl+j", "newline", "bind.newline", id="newline", show=False),
        # The thread scrolls from the prompt: the reader should not have to leave it.
        Binding("pageup", "scroll_thread(-1)", "bind.scroll_up", id="scroll_up", show=False),
        Binding("pagedown", "scroll_thread(1)", "bind.scroll_down", id="scroll_down", show=False),
        Binding("ctrl+end", "scroll_thread(2)", "bind.thread_end", id="thread_end", show=False),
        # The agent cycles from the prompt, as in opencode (Tab elsewhere moves the focus).
        Binding("tab", "app.cycle_agent(1)", "bind.agent", id="agent"),
        Binding("shift+tab", "app.cycle_agent(-1)", "bind.agent_back", id="agent_back", show=False),
        Binding("ctrl+t", "app.cycle_variant", "bind.variant", id="variant", show=False),
        Binding("ctrl+g", "app.open_editor", "bind.editor", id="editor", show=False),
    ]

    @dataclass
    class Submitted(Message):
        area: PromptArea
        text: str

    @dataclass
    class ScrollThread(Message):
        """Page the thread up (-1) or down (1), or go to its end (2)."""

        direction: int

    def __init__(self, history: list[str], **kw: Any) -> None:
        kw.setdefault("soft_wrap", True)
        kw.setdefault("show_line_numbers", False)
        kw.setdefault("tab_behavior", "focus")
        super().__init__(**kw)
        self.prompt_history = history
        self._history_index: int | None = None
        self._stash = ""

    def on_key(self, event: events.Key) -> None:
        """Runs before TextArea's own key handler, which a prevented default skips."""
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self._history_index = None
            self.post_message(self.Submitted(self, self.text))
            return
        if event.key == "end" and self.cursor_location == self.document.end and not self.selected_text:
            # Already at the end of the text: End goes on to the end of the thread.
            event.stop()
            event.prevent_default()
            self.post_message(self.ScrollThread(2))
            return
        if event.key in ("shift+enter", "alt+enter", "ctrl+j"):
            # Here, not only through the binding: a binding's action runs after the keys
            # already queued behind it, so "aaa" Ctrl+J "bbb" typed fast (or pasted
            # through tmux) gave "aaabbb" and a newline after it.
            event.stop()
            event.prevent_default()
            self.action_newline()

    def action_scroll_thread(self, direction: int) -> None:
        self.post_message(self.ScrollThread(direction))

    def action_newline(self) -> None:
        if not self.read_only:
            start, end = self.selection
            self.replace("\n", start, end, maintain_selection_offset=False)

    def action_cursor_up(self, select: bool = False) -> None:
        if not select and self.cursor_location[0] == 0 and self.prompt_history:
            if self._history_index is None:
                self._stash = self.text
                self._history_index = len(self.prompt_history)
            if self._history_index > 0:
                self._history_index -= 1
                self._load(self.prompt_history[self._history_index])
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        last_row = self.document.line_count - 1
        if not select and self._history_index is not None and self.cursor_location[0] >= last_row:
            self._history_index += 1
            if self._history_index >= len(self.prompt_history):
                self._history_index = None
                self._load(self._stash)
            else:
                self._load(self.prompt_history[self._history_index])
            return
        super().action_cursor_down(select)

    def _load(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)
