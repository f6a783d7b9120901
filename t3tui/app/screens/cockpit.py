"""The cockpit: every permission and question waiting in any thread, answered without opening it.

One row per request, newest first: the thread's title, how long it has waited, its
directory and what it asks. The highlighted one shows below in the same panel the
thread shows (``widgets/request_panels.py``), and answers with the same keys once the
panel has the focus: Enter (or a click) on a row focuses it; o / a / r allow once,
always, or reject a permission; a question is answered as in the thread. So a key
pressed in the list never answers anything, and a key never answers a request other
than the one on screen: the list keeps its row when others come and go, and after an
answer the focus goes back to the list. An answer the server refuses shows an error
(``controllers/requests.py``) and the request comes back.

Opened with F9 (shown in the footer while something waits) or from the palette; F9 in
the sidebar opens it on the request of the thread under the cursor, its panel focused.
Esc goes from the panel back to the list, and from the list closes the cockpit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, OptionList
from textual.widgets.option_list import Option

from t3tui.app.screens.base import LocalizedModal
from t3tui.app.widgets.plain_text import PlainText
from t3tui.app.widgets.request_panels import PermissionPanel, QuestionPanel
from t3tui.app.widgets.sidebar import short_dir
from t3tui.i18n import t
from t3tui.opencode.wire import PermissionRequest, QuestionRequest
from t3tui.text import duration, one_line

if TYPE_CHECKING:
    from t3tui.app.controllers.attention import Attention, Pending

WHAT_WIDTH = 80  # characters of what a request asks, in its row


def asks(pending: Pending) -> str:
    """What a request asks, in one line: the permission and what it applies to, or the question."""
    req = pending.request
    if isinstance(req, PermissionRequest):
        what = req.permission or "?"
        if req.patterns:
            what += ": " + ", ".join(req.patterns)
        return one_line(what, WHAT_WIDTH)
    first = req.questions[0] if req.questions else None
    return one_line(first.question if first is not None else "?", WHAT_WIDTH)


class CockpitScreen(LocalizedModal[None]):
    """Pending requests across threads, each answered in its panel."""

    BINDINGS = [
        Binding("escape", "back", "bind.close", id="close_cockpit"),
        Binding("f9", "close", "bind.close", id="close_cockpit_f9", show=False),
    ]

    DEFAULT_CSS = """
    CockpitScreen #cockpit {
        width: 90%;
        max-width: 120;
        height: 90%;
        max-height: 100%;
    }
    CockpitScreen #cockpit-title { text-style: bold; }
    CockpitScreen #cockpit-list {
        height: auto;
        max-height: 1fr;
        min-height: 3;
        border: none;
        margin: 1 0 0 0;
    }
    CockpitScreen #cockpit-empty { color: $text-muted; margin: 1 0; }
    CockpitScreen #cockpit-permission, CockpitScreen #cockpit-question {
        height: auto;
        max-height: 60%;
        border: round $warning;
        padding: 0 1;
        margin: 1 0 0 0;
    }
    CockpitScreen #cockpit-permission:focus-within, CockpitScreen #cockpit-question:focus-within {
        border: round $accent;
    }
    CockpitScreen .panel-hint { color: $text-muted; }
    CockpitScreen #cockpit-question OptionList, CockpitScreen #cockpit-question SelectionList {
        height: auto;
        max-height: 10;
        border: none;
        padding: 0;
        background: $surface;
    }
    CockpitScreen #cockpit-hint { color: $text-muted; margin: 1 0 0 0; }
    """

    def __init__(self, attention: Attention, focus_thread: str | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.attention = attention
        self.focus_thread = focus_thread  # from the sidebar: that thread's request, focused
        self.rows: dict[str, Pending] = {}
        self._signature: tuple[tuple[str, str], ...] = ()
        self.ready = False  # its widgets exist (a frame may come before they do)

    def compose(self) -> ComposeResult:
        with Vertical(id="cockpit", classes="dialog"):
            yield PlainText("", id="cockpit-title")
            yield OptionList(id="cockpit-list")
            yield PlainText("", id="cockpit-empty")
            yield PermissionPanel(id="cockpit-permission")
            yield QuestionPanel(id="cockpit-question")
            yield PlainText("", id="cockpit-hint")
        yield Footer()

    @property
    def listing(self) -> OptionList:
        return self.query_one("#cockpit-list", OptionList)

    @property
    def permission(self) -> PermissionPanel:
        return self.query_one("#cockpit-permission", PermissionPanel)

    @property
    def question(self) -> QuestionPanel:
        return self.query_one("#cockpit-question", QuestionPanel)

    def on_mount(self) -> None:
        self.permission.display = False
        self.question.display = False
        self.ready = True
        self.sync()
        focus = next((p for p in self.rows.values() if p.thread.id == self.focus_thread), None)
        if focus is not None:
            self.listing.highlighted = self.listing.get_option_index(focus.request.id)
            self._preview()
            self._focus_panel()
        else:
            self.listing.focus()
        self.set_interval(1.0, self.sync)  # how long each has waited

    def localize(self) -> None:
        super().localize()
        self._signature = ()
        if self.ready:
            self.sync()

    # -- the list ----------------------------------------------------------------------

    def _label(self, pending: Pending) -> Text:
        th = pending.thread
        mark = "⚠ " if pending.is_permission else "? "
        label = Text()
        label.append(mark, style="bold yellow")
        label.append(one_line(th.title or t("sidebar.untitled"), 60), style="bold")
        ago = t("cockpit.ago", ago=duration(self.attention.app.clock() - pending.asked))
        label.append(f"  {ago}", style="dim")
        label.append(f"\n  {short_dir(th.directory)} · ", style="dim")
        label.append(asks(pending))
        return label

    def sync(self) -> None:
        """Show what waits now, keeping the highlighted row (and the panel's request)."""
        if not self.ready or not self.is_attached:
            return
        pending = self.attention.pending()
        self.rows = {p.request.id: p for p in pending}
        labels = [(p.request.id, self._label(p)) for p in pending]
        self.query_one("#cockpit-title", PlainText).show(t("cockpit.title", count=len(pending)))
        hint = "cockpit.hint_panel" if self._panel_focused() else "cockpit.hint"
        self.query_one("#cockpit-hint", PlainText).show(t(hint) if pending else "")
        empty = self.query_one("#cockpit-empty", PlainText)
        empty.display = not pending
        empty.show(t("cockpit.empty"))
        listing = self.listing
        listing.display = bool(pending)
        signature = tuple((rid, label.plain) for rid, label in labels)
        if signature != self._signature:
            self._signature = signature
            old = listing.highlighted_option.id if listing.highlighted_option is not None else None
            index = listing.highlighted or 0
            listing.clear_options()
            listing.add_options([Option(label, id=rid) for rid, label in labels])
            if old in self.rows:
                listing.highlighted = listing.get_option_index(old)
            elif labels:
                listing.highlighted = min(index, len(labels) - 1)
        self._preview()

    def _preview(self) -> None:
        """The panel shows the highlighted request, unless the user is answering another
        that still waits (then it stays)."""
        answering = self._panel_request() if self._panel_focused() else None
        if answering is not None and answering.id in self.rows:
            return
        if self._panel_focused():
            self.listing.focus()  # its request was answered (here or elsewhere)
        option = self.listing.highlighted_option
        pending = self.rows.get(option.id or "") if option is not None else None
        req = pending.request if pending is not None else None
        permission, question = self.permission, self.question
        if isinstance(req, PermissionRequest):
            permission.show_request(req)
        if isinstance(req, QuestionRequest):
            question.show_request(req)
        permission.display = isinstance(req, PermissionRequest)
        question.display = isinstance(req, QuestionRequest)

    def _panel_request(self) -> PermissionRequest | QuestionRequest | None:
        if self.permission.display:
            return self.permission.request
        if self.question.display:
            return self.question.request
        return None

    def _panel_focused(self) -> bool:
        if not self.ready:
            return False
        return self.permission.has_focus_within or self.question.has_focus_within

    def _focus_panel(self) -> None:
        if self.permission.display:
            self.permission.focus()
        elif self.question.display:
            self.question.focus_first()
        self.query_one("#cockpit-hint", PlainText).show(t("cockpit.hint_panel"))

    @on(OptionList.OptionHighlighted, "#cockpit-list")
    def _highlighted(self) -> None:
        self._preview()

    @on(OptionList.OptionSelected, "#cockpit-list")
    def _selected(self) -> None:
        self._preview()
        self._focus_panel()

    # -- answers (the app sends them: these handlers only move the focus) ----------------

    @on(PermissionPanel.Replied)
    @on(QuestionPanel.Answered)
    @on(QuestionPanel.Rejected)
    def _answered(self) -> None:
        self.listing.focus()
        self.query_one("#cockpit-hint", PlainText).show(t("cockpit.hint"))

    def action_back(self) -> None:
        """Esc: from the panel back to the list; from the list, close."""
        if self._panel_focused():
            self.listing.focus()
            self.query_one("#cockpit-hint", PlainText).show(t("cockpit.hint"))
        else:
            self.action_close()

    def action_close(self) -> None:
        self.attention.cockpit = None
        self.ready = False
        self.dismiss(None)
