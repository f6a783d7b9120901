"""Permission and question prompts, answerable by keyboard alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, SelectionList
from textual.widgets.option_list import Option

from t3tui.app.widgets.plain_text import PlainText
from t3tui.i18n import t
from t3tui.opencode.wire import PermissionRequest, QuestionInfo, QuestionRequest
from t3tui.text import clean


class PermissionPanel(Vertical, can_focus=True):
    """Allow once / allow always / reject (with an optional message)."""

    BINDINGS = [
        Binding("o,1", "reply('once')", "bind.allow_once", id="allow_once"),
        Binding("a,2", "reply('always')", "bind.allow_always", id="allow_always"),
        Binding("r,3", "start_reject", "bind.reject", id="reject"),
        Binding("escape", "back", "bind.back", id="back"),
    ]

    @dataclass
    class Replied(Message):
        request: PermissionRequest
        reply: str
        message: str | None

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.request: PermissionRequest | None = None

    def compose(self) -> ComposeResult:
        yield PlainText("", classes="panel-title")
        yield PlainText("", classes="panel-body")
        yield Input(placeholder=t("permission.reject_placeholder"), classes="reject-input")
        yield PlainText("", classes="panel-hint")

    def on_mount(self) -> None:
        # A query, not query_one: a quit (SIGTERM) while the screen starts can remove the
        # children before this runs, and the app must still exit with the signal's code.
        for box in self.query(".reject-input").results(Input):
            box.display = False

    def show_request(self, req: PermissionRequest) -> None:
        if self.request is not None and self.request.id == req.id:
            return
        self.request = req
        title = Text(t("permission.title", permission=clean(req.permission or "?")), style="bold yellow")
        self.query_one(".panel-title", PlainText).update(title)
        lines = []
        if req.patterns:
            lines.append(t("permission.patterns", patterns=", ".join(clean(p) for p in req.patterns)))
        meta = req.metadata or {}
        for key in ("filepath", "command", "url"):
            if isinstance(meta.get(key), str):
                lines.append(f"{key}: {clean(meta[key])}")
        self.query_one(".panel-body", PlainText).show("\n".join(lines))
        self.query_one(".panel-hint", PlainText).show(t("permission.hint"))
        reject = self.query_one(".reject-input", Input)
        reject.value = ""
        reject.display = False

    def action_reply(self, reply: str) -> None:
        if self.request is not None:
            self.post_message(self.Replied(self.request, reply, None))

    def action_start_reject(self) -> None:
        reject = self.query_one(".reject-input", Input)
        reject.display = True
        reject.focus()
        self.query_one(".panel-hint", PlainText).show(t("permission.reject_hint"))

    @on(Input.Submitted, ".reject-input")
    def _reject(self, event: Input.Submitted) -> None:
        event.stop()
        if self.request is not None:
            self.post_message(self.Replied(self.request, "reject", event.value.strip() or None))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return self.query_one(".reject-input", Input).display  # only while typing a reason
        return True

    def action_back(self) -> None:
        """Leave the reason box without rejecting (the footer says "esc Back" there)."""
        reject = self.query_one(".reject-input", Input)
        if reject.display:
            reject.display = False
            self.query_one(".panel-hint", PlainText).show(t("permission.hint"))
            self.focus()


class QuestionPanel(Vertical, can_focus=True):
    """The questions of a request, one at a time: options, a free answer, or reject."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "bind.send_answer", id="send_answer"),
        Binding("ctrl+r", "reject", "bind.reject_question", id="reject_question"),
    ]

    @dataclass
    class Answered(Message):
        request: QuestionRequest
        answers: list[list[str]]

    @dataclass
    class Rejected(Message):
        request: QuestionRequest

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.request: QuestionRequest | None = None
        self.index = 0
        self.answers: list[list[str]] = []

    def compose(self) -> ComposeResult:
        yield PlainText("", classes="panel-title")
        yield PlainText("", classes="panel-body")
        yield OptionList(classes="single")
        yield SelectionList[str](classes="multi")
        yield Input(placeholder=t("question.custom_placeholder"), classes="custom-input")
        yield PlainText("", classes="panel-hint")

    def show_request(self, req: QuestionRequest) -> None:
        if self.request is not None and self.request.id == req.id:
            return
        self.request = req
        self.index = 0
        self.answers = []
        self._show_question()

    @property
    def question(self) -> QuestionInfo | None:
        if self.request is None or self.index >= len(self.request.questions):
            return None
        return self.request.questions[self.index]

    def _show_question(self) -> None:
        q = self.question
        if q is None or self.request is None:
            return
        total = len(self.request.questions)
        head = t("question.title", header=clean(q.header or ""), index=self.index + 1, total=total)
        self.query_one(".panel-title", PlainText).update(Text(head, style="bold yellow"))
        self.query_one(".panel-body", PlainText).show(q.question)
        single = self.query_one(".single", OptionList)
        multi = self.query_one(".multi", SelectionList)
        custom = self.query_one(".custom-input", Input)
        single.clear_options()
        multi.clear_options()
        labels = [o.label for o in q.options]
        prompts = [
            Text(clean(o.label), style="bold")
            + (Text("  " + clean(o.description), style="dim") if o.description else Text(""))
            for o in q.options
        ]
        if q.multiple:
            multi.add_options([(p, label) for p, label in zip(prompts, labels, strict=True)])
        else:
            single.add_options([Option(p, id=f"opt-{i}") for i, p in enumerate(prompts)])
            single.highlighted = 0 if prompts else None
        single.display = not q.multiple and bool(labels)
        multi.display = bool(q.multiple) and bool(labels)
        custom.display = q.custom is not False
        custom.value = ""
        hint = t("question.hint_multi") if q.multiple else t("question.hint_single")
        self.query_one(".panel-hint", PlainText).show(hint)
        target = multi if q.multiple and labels else single if labels else custom
        if self.has_focus_within or self.has_focus:
            target.focus()

    def focus_first(self) -> None:
        q = self.question
        if q is None:
            self.focus()
        elif q.multiple and q.options:
            self.query_one(".multi", SelectionList).focus()
        elif q.options:
            self.query_one(".single", OptionList).focus()
        else:
            self.query_one(".custom-input", Input).focus()

    def _answer(self, values: list[str]) -> None:
        if self.request is None:
            return
        self.answers.append(values)
        self.index += 1
        if self.index >= len(self.request.questions):
            self.post_message(self.Answered(self.request, self.answers))
        else:
            self._show_question()
            self.focus_first()

    @on(OptionList.OptionSelected, ".single")
    def _single(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        q = self.question
        if q is not None and event.option_index < len(q.options):
            self._answer([q.options[event.option_index].label])

    @on(Input.Submitted, ".custom-input")
    def _custom(self, event: Input.Submitted) -> None:
        event.stop()
        q = self.question
        value = event.value.strip()
        if q is None:
            return
        picked = list(self.query_one(".multi", SelectionList).selected) if q.multiple else []
        if value or picked:
            self._answer([*picked, *([value] if value else [])])

    def action_submit(self) -> None:
        """Send the ticked options (and the typed answer) of a multi-select question."""
        q = self.question
        if q is None:
            return
        picked = list(self.query_one(".multi", SelectionList).selected) if q.multiple else []
        value = self.query_one(".custom-input", Input).value.strip()
        if picked or value:
            self._answer([*picked, *([value] if value else [])])

    def action_reject(self) -> None:
        if self.request is not None:
            self.post_message(self.Rejected(self.request))
