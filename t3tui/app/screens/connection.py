"""Screens for a server that cannot be reached or refuses the password: what was tried, and how to go on."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input

from t3tui.app.screens.base import LocalizedModal
from t3tui.app.widgets.plain_text import PlainText
from t3tui.i18n import t
from t3tui.logs import redact_text
from t3tui.opencode.stream import EventStream


class UnreachableScreen(LocalizedModal[None]):
    """Shown until the first connection succeeds: what was tried, and a countdown."""

    BINDINGS = [
        Binding("r", "retry", "bind.retry", id="retry"),
        Binding("q", "quit_app", "bind.quit", id="quit"),
    ]

    def __init__(self, stream: EventStream) -> None:
        super().__init__(classes="dialog-screen", id="unreachable")
        self.stream = stream

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText("", classes="dialog-title")
            yield PlainText("", id="unreachable-body")
            yield PlainText(t("unreachable.hint"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.update_from(self.stream)

    def update_from(self, stream: EventStream) -> None:
        titles = self.query(".dialog-title").results(PlainText)
        title = next(titles, None)
        if title is None:
            return  # pushed but not composed yet (the app's timers can get here first)
        url = redact_text(stream.client.base_url)
        title.show(t("unreachable.title", url=url))
        lines = [t("unreachable.tried", url=f"{url}/global/event")]
        if stream.last_error:
            lines.append(t("unreachable.error", error=redact_text(stream.last_error)))
        wait = stream.retry_in()
        if wait is not None:
            lines.append(t("unreachable.countdown", seconds=f"{wait:.0f}", attempt=stream.attempt))
        else:
            lines.append(t("unreachable.trying", attempt=max(1, stream.attempt)))
        self.query_one("#unreachable-body", PlainText).show("\n".join(lines))

    def action_retry(self) -> None:
        self.stream.retry_now()

    def action_quit_app(self) -> None:
        self.app.exit(1, return_code=1)


class PasswordScreen(LocalizedModal[None]):
    """The server answered 401: ask for the password, masked."""

    BINDINGS = [Binding("escape", "cancel", "bind.cancel", id="cancel")]

    def __init__(self, error: str | None, use_password: Callable[[str], None] | None = None) -> None:
        super().__init__(classes="dialog-screen", id="password")
        self.error = error
        self.use_password = use_password

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText(t("password.title"), classes="dialog-title")
            yield PlainText(
                t("password.body", error=redact_text(self.error or "HTTP 401")), id="password-body"
            )
            yield Input(password=True, placeholder=t("password.placeholder"), id="password-input")
            yield PlainText(t("password.hint"), classes="dialog-hint")

    def on_mount(self) -> None:
        # Not query_one: pushed as the app quits, the screen mounts with no children.
        for field in self.query(Input):
            field.focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        password = event.value
        event.input.value = ""
        if password:
            if self.use_password is not None:
                self.use_password(password)
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
