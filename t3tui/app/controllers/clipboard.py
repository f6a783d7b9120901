"""Copy (F5, ``/copy``): the selected text, or a reply as Markdown, to the clipboard through OSC 52.

opencode's TUI copies with the system's clipboard tools, which are not there over SSH or
in tmux without setup. Textual's ``copy_to_clipboard`` writes an OSC 52 escape sequence:
the terminal the user sits at takes it, wherever the app runs. Ctrl+C is Textual's own
copy of a selection (no message); F5 does the same with a message, and without a
selection copies a reply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from t3tui.app.widgets.turn_text import lines_text
from t3tui.i18n import t
from t3tui.state.export import reply_markdown
from t3tui.state.store import Thread, Turn
from t3tui.text import one_line

if TYPE_CHECKING:
    from t3tui.app.app import T3App


def last_reply(thread: Thread | None) -> Turn | None:
    """The newest turn that is not reverted and has a reply to copy."""
    if thread is None:
        return None
    for tid in reversed(thread.order):
        turn = thread.turns[tid]
        if not turn.reverted and reply_markdown(turn):
            return turn
    return None


class Copier:
    """What the copy key copies, and the message that says so."""

    def __init__(self, app: T3App) -> None:
        self.app = app

    def copy(self) -> None:
        """The selection if there is one; else the reply of the turn clicked (while it is
        on screen); else the last reply."""
        selected = self.app.screen.get_selected_text()
        if selected:
            self._put(selected, t("toast.copied_selection", size=self._size(selected)))
            return
        view = self.app.main.thread_view
        turn = view.pointed_turn()
        if turn is not None and reply_markdown(turn):
            text = reply_markdown(turn)
            prompt = one_line(turn.prompt, 40)
            self._put(text, t("toast.copied_turn", prompt=prompt, size=self._size(text)))
            return
        turn = last_reply(self.app.threads.current)
        if turn is None:
            self.app.toast(t("toast.nothing_to_copy"), severity="warning")
            return
        text = reply_markdown(turn)
        self._put(text, t("toast.copied_reply", size=self._size(text)))

    @staticmethod
    def _size(text: str) -> str:
        return lines_text(text.count("\n") + 1)

    def _put(self, text: str, message: str) -> None:
        self.app.copy_to_clipboard(text)
        self.app.toast(message)
