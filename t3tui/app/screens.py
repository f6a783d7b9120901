"""Screens for a server that cannot be reached or refuses the password."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from t3tui.app.turns import Literal
from t3tui.i18n import t
from t3tui.logs import redact_text


class UnreachableScreen(ModalScreen[None]):
    """Shown until the first connection succeeds: what was tried, and a countdown."""

    BINDINGS = [
        Binding("r", "retry", "bind.retry", id="retry"),
        Binding("q", "quit_app", "bind.quit", id="quit"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen", id="unreachable")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Literal("", classes="dialog-title")
            yield Literal("", id="unreachable-body")
            yield Literal(t("unreachable.hint"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.app.localize_node(self)  # type: ignore[attr-defined]
        self.update_from(self.app.stream)  # type: ignore[attr-defined]

    def update_from(self, stream: Any) -> None:
        titles = self.query(".dialog-title").results(Literal)
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
        self.query_one("#unreachable-body", Literal).show("\n".join(lines))

    def action_retry(self) -> None:
        self.app.stream.retry_now()  # type: ignore[attr-defined]

    def action_quit_app(self) -> None:
        self.app.exit(1, return_code=1)


class PasswordScreen(ModalScreen[None]):
    """The server answered 401: ask for the password, masked."""

    BINDINGS = [Binding("escape", "cancel", "bind.cancel", id="cancel")]

    def __init__(self, error: str | None) -> None:
        super().__init__(classes="dialog-screen", id="password")
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Literal(t("password.title"), classes="dialog-title")
            yield Literal(t("password.body", error=redact_text(self.error or "HTTP 401")), id="password-body")
            yield Input(password=True, placeholder=t("password.placeholder"), id="password-input")
            yield Literal(t("password.hint"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.app.localize_node(self)  # type: ignore[attr-defined]
        # Not query_one: pushed as the app quits, the screen mounts with no children.
        for field in self.query(Input):
            field.focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        password = event.value
        event.input.value = ""
        if password:
            app: Any = self.app
            app.use_password(password)
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
