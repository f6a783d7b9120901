"""The prompt: multi-line input where Enter sends, with the prompt history on Up and Down."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import var
from textual.widgets import TextArea

from t3tui.app.widgets import paste
from t3tui.i18n import t


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
        Binding("f3", "expand_pastes", "bind.expand_pastes", id="expand_pastes", show=False),
    ]

    @dataclass
    class Submitted(Message):
        area: PromptArea
        text: str

    # Shell mode: "!" typed at the start; Enter runs the text as a shell command.
    shell: var[bool] = var(False)

    @dataclass
    class ModeChanged(Message):
        """Shell mode was entered or left."""

        area: PromptArea

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
        self.attachments = paste.Attachments()  # what the paste tokens stand for
        # The completion list's say on a key, while it is open: True means it took the key
        # (Up, Down, Enter, Tab, Esc); set by the app's composer.
        self.key_hook: Callable[[str], bool] | None = None
        # The text as the history (or the editor) put it here, not as typed: no completion
        # list opens on it, so Up and Down keep walking the history past a "/init".
        self.loaded: str | None = None

    def on_key(self, event: events.Key) -> None:
        """Runs before TextArea's own key handler, which a prevented default skips, and
        before any binding (a stopped key reaches none)."""
        if self.key_hook is not None and self.key_hook(event.key):
            event.stop()
            event.prevent_default()
            return
        if self._shell_key(event.key, event.character):
            event.stop()
            event.prevent_default()
            return
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

    def _shell_key(self, key: str, character: str | None) -> bool:
        """``!`` at the very start enters shell mode (it is not typed); Esc, or Backspace
        at the start, leaves it. True if the key did that."""
        at_start = self.cursor_location == (0, 0) and not self.selected_text
        if not self.shell and character == "!" and at_start and not self.read_only:
            self.shell = True
            return True
        if self.shell and (key == "escape" or (key == "backspace" and at_start)):
            self.shell = False
            return True
        return False

    def watch_shell(self, shell: bool) -> None:
        self.set_class(shell, "-shell")
        self.post_message(self.ModeChanged(self))

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
        self.loaded = text
        self.load_text(text)
        self.move_cursor(self.document.end)

    # -- pastes: long ones as tokens, file paths as attachments (as opencode) -------------

    async def _on_paste(self, event: events.Paste) -> None:
        """Instead of TextArea's own: a long paste shows as ``[Pasted ~N lines]``, a path
        to an image or PDF attaches the file as ``[Image N]`` / ``[PDF N]``."""
        event.stop()
        event.prevent_default()
        if self.read_only:
            return
        found = paste.attachable(event.text)
        if found is not None:
            await self._attach_file(*found)
            return
        content = paste.normalize(event.text)
        label = paste.summary_label(content.strip())
        if label is None:
            self._insert(content)
        else:
            self._insert(self.attachments.add_text(content.strip(), label, self.text) + " ")

    async def _attach_file(self, path: str, mime: str) -> None:
        name = os.path.basename(path)
        try:
            data = await asyncio.to_thread(paste.read_file, path)
        except paste.TooLarge as exc:
            size, limit = f"{exc.size / 2**20:.1f}", f"{exc.limit / 2**20:.0f}"
            self._warn(t("toast.attach_too_large", name=name, size=size, limit=limit))
            return
        except OSError as exc:
            self._warn(t("toast.attach_failed", name=name, error=exc.strerror or str(exc)))
            return
        if mime == paste.SVG:  # sent as text, like a long paste
            token = self.attachments.add_text(data.decode("utf-8", "replace"), f"[SVG: {name}]", self.text)
        else:
            token = self.attachments.add_file(path, mime, data, self.text)
        self._insert(token + " ")

    def _warn(self, message: str) -> None:
        self.notify(message, severity="error", markup=False, timeout=10)

    def _insert(self, text: str) -> None:
        result = self.replace(text, *self.selection, maintain_selection_offset=False)
        self.move_cursor(result.end_location)
        self.focus()

    def expanded(self, text: str | None = None) -> str:
        """The text to send (or keep as a draft): each paste token still in it replaced by
        what was pasted. Image and PDF tokens stay: they go as ``file_parts``."""
        return self.attachments.expand(self.text if text is None else text)

    def file_parts(self, text: str) -> list[dict[str, Any]]:
        """The file parts to send with ``text``: those whose token it still holds."""
        return self.attachments.file_parts(text)

    def clear_attachments(self) -> None:
        """After a send: the tokens' texts and files are gone with it."""
        self.attachments.clear()

    def restore_attachments(self, parts: Iterable[Mapping[str, Any]]) -> None:
        """A prompt that was not sent came back into the input: its images and PDFs too
        (the ``file_parts`` it was sent with; other parts are ignored)."""
        self.attachments.restore(parts)

    def action_expand_pastes(self) -> None:
        """F3: every ``[Pasted ~N lines]`` token in the prompt becomes the text it stands
        for, to read or edit in place (image and PDF tokens stay)."""
        text = self.text
        full = self.expanded(text)
        if full == text:
            return
        self.attachments.drop_pastes()
        self._history_index = None
        self._load(full)

    def load_edited(self, text: str) -> None:
        """The text back from the external editor: pastes are inline in it now; files keep
        their tokens (a token the user removed drops its file)."""
        self.attachments.drop_pastes()
        self._history_index = None
        self._load(text)
