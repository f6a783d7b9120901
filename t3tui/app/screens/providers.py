"""Providers: list them, connect one (an API key or OAuth) or disconnect it.

An API key typed here goes to ``PUT /auth/{id}`` and nowhere else: the input is masked,
the key is never logged, never put in an observation and never written to disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Input, OptionList
from textual.widgets.option_list import Option

from t3tui.app.screens.base import LocalizedModal, LocalizedScreen
from t3tui.app.screens.dialogs import ConfirmScreen
from t3tui.app.widgets.plain_text import PlainText
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError
from t3tui.opencode.wire import Provider, ProviderAuthMethod, ProviderList
from t3tui.text import clean, one_line

if TYPE_CHECKING:
    from t3tui.app.controllers.providers import Providers
    from t3tui.app.controllers.server import ServerLink


@dataclass
class ProviderRow:
    provider: Provider
    connected: bool
    methods: list[ProviderAuthMethod]

    @property
    def id(self) -> str:
        return self.provider.id

    @property
    def name(self) -> str:
        return self.provider.display_name


def provider_rows(
    providers: ProviderList | None, methods: dict[str, list[ProviderAuthMethod]]
) -> list[ProviderRow]:
    if providers is None:
        return []
    connected = set(providers.connected)
    rows = [ProviderRow(p, p.id in connected, methods.get(p.id, [])) for p in providers.all]
    rows.sort(key=lambda r: (not r.connected, r.name.lower()))
    return rows


def row_label(row: ProviderRow) -> Text:
    label = Text()
    label.append("● " if row.connected else "○ ", style="bold green" if row.connected else "dim")
    label.append(one_line(row.name, 40), style="bold" if row.connected else "")
    label.append(f"  {clean(row.id)}", style="dim")
    count = len(row.provider.models)
    label.append(
        "  " + t("providers.models_one" if count == 1 else "providers.models", count=count), style="dim"
    )
    if row.methods:
        kinds = ", ".join(clean(m.label or m.type) for m in row.methods)
        label.append("  " + t("providers.methods", methods=one_line(kinds, 60)), style="dim")
    elif not row.connected:
        label.append("  " + t("providers.api_key_only"), style="dim")
    return label


class ProvidersScreen(LocalizedScreen[None]):
    """Every provider of ``GET /provider``: connected or not, models, auth methods."""

    BINDINGS = [
        Binding("escape", "close", "bind.close", id="close"),
        Binding("enter", "connect", "bind.connect", id="connect"),
        Binding("ctrl+d", "disconnect", "bind.disconnect", id="disconnect", priority=True),
        Binding("ctrl+r", "reload", "bind.reload", id="reload", priority=True),
    ]

    def __init__(self, link: ServerLink, providers: Providers) -> None:
        super().__init__(id="providers")
        self.link = link
        self.providers = providers
        self.rows: list[ProviderRow] = []
        self.methods: dict[str, list[ProviderAuthMethod]] = {}

    def compose(self) -> ComposeResult:
        yield PlainText(t("providers.title"), id="providers-title")
        yield Input(placeholder=t("providers.filter"), id="providers-filter")
        yield OptionList(id="providers-list")
        yield PlainText("", id="providers-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#providers-filter", Input).focus()
        # Show what the app already knows at once; the reload then brings auth methods and news.
        if self.link.store.providers is not None:
            self.refresh_rows()
        self.action_reload()

    @work(exclusive=True, group="providers", exit_on_error=False)
    async def action_reload(self) -> None:
        status = self.query_one("#providers-status", PlainText)
        status.show(t("providers.loading"))
        try:
            self.methods = await self.link.client.provider_auth_methods()
            await self.providers.refetch(self.link)
        except OpencodeError as exc:
            status.show(t("providers.load_failed", error=exc.message))
            return
        status.show("")
        self.refresh_rows()

    def refresh_rows(self) -> None:
        self.rows = provider_rows(self.link.store.providers, self.methods)
        self._fill()

    @on(Input.Changed, "#providers-filter")
    def _filter(self) -> None:
        self._fill()

    def _fill(self) -> None:
        needle = self.query_one("#providers-filter", Input).value.strip().lower()
        shown = [r for r in self.rows if not needle or needle in r.name.lower() or needle in r.id.lower()]
        olist = self.query_one("#providers-list", OptionList)
        current = olist.highlighted_option.id if olist.highlighted_option is not None else None
        olist.clear_options()
        olist.add_options([Option(row_label(r), id=r.id) for r in shown])
        if shown:
            ids = [r.id for r in shown]
            olist.highlighted = ids.index(current) if current in ids else 0
        connected = sum(1 for r in self.rows if r.connected)
        self.query_one("#providers-status", PlainText).show(
            t("providers.count", shown=len(shown), total=len(self.rows), connected=connected)
        )

    def on_key(self, event: events.Key) -> None:
        """Arrow keys move in the list while the filter keeps the focus."""
        olist = self.query_one("#providers-list", OptionList)
        moves = {
            "down": olist.action_cursor_down,
            "up": olist.action_cursor_up,
            "pagedown": olist.action_page_down,
            "pageup": olist.action_page_up,
        }
        if event.key in moves and self.query_one("#providers-filter").has_focus:
            moves[event.key]()
            event.stop()
        elif event.key == "enter" and self.query_one("#providers-filter").has_focus:
            event.stop()
            self.action_connect()

    @on(OptionList.OptionSelected, "#providers-list")
    def _selected(self) -> None:
        self.action_connect()

    def selected(self) -> ProviderRow | None:
        olist = self.query_one("#providers-list", OptionList)
        option = olist.highlighted_option
        if option is None:
            return None
        return next((r for r in self.rows if r.id == option.id), None)

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_connect(self) -> None:
        row = self.selected()
        if row is None:
            return
        methods = row.methods or [ProviderAuthMethod(type="api", label=t("providers.api_key"))]
        if len(methods) == 1:
            self._start(row, 0, methods[0])
        else:
            self.app.push_screen(
                MethodScreen(row, methods), lambda i: None if i is None else self._start(row, i, methods[i])
            )

    def _start(self, row: ProviderRow, index: int, method: ProviderAuthMethod) -> None:
        link, providers = self.link, self.providers
        if method.type == "oauth":
            self.app.push_screen(OAuthScreen(row, index, link, providers))
        else:
            self.app.push_screen(
                ApiKeyScreen(row), lambda key: key and providers.connect_api_key(link, row.id, row.name, key)
            )

    def action_disconnect(self) -> None:
        row = self.selected()
        if row is None:
            return
        link, providers = self.link, self.providers
        question = t("providers.confirm_disconnect", provider=row.name)
        self.app.push_screen(
            ConfirmScreen(question), lambda yes: yes and providers.disconnect(link, row.id, row.name)
        )


class MethodScreen(LocalizedModal[int | None]):
    """Pick one of a provider's ways to sign in."""

    BINDINGS = [Binding("escape", "cancel", "bind.cancel", id="cancel")]

    def __init__(self, row: ProviderRow, methods: list[ProviderAuthMethod]) -> None:
        super().__init__(classes="dialog-screen")
        self.row = row
        self.methods = methods

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText(t("providers.choose_method", provider=self.row.name), classes="dialog-title")
            yield OptionList(
                *[Option(Text(clean(m.label or m.type)), id=str(i)) for i, m in enumerate(self.methods)]
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ApiKeyScreen(LocalizedModal[str | None]):
    """A masked input for an API key."""

    BINDINGS = [Binding("escape", "cancel", "bind.cancel", id="cancel")]

    def __init__(self, row: ProviderRow) -> None:
        super().__init__(classes="dialog-screen")
        self.row = row

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText(t("providers.api_key_title", provider=self.row.name), classes="dialog-title")
            yield Input(password=True, placeholder=t("providers.api_key_placeholder"), id="api-key")
            yield PlainText(t("providers.api_key_hint"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        key = event.value.strip()
        if key:
            event.input.value = ""
            self.dismiss(key)

    def action_cancel(self) -> None:
        self.query_one(Input).value = ""
        self.dismiss(None)


class OAuthScreen(LocalizedModal[None]):
    """Show the authorization URL; take a pasted code where the method asks for one."""

    BINDINGS = [Binding("escape", "cancel", "bind.cancel", id="cancel")]

    def __init__(self, row: ProviderRow, method: int, link: ServerLink, providers: Providers) -> None:
        super().__init__(classes="dialog-screen")
        self.row = row
        self.method = method
        self.link = link
        self.providers = providers
        self.mode: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText(t("providers.oauth_title", provider=self.row.name), classes="dialog-title")
            yield PlainText(t("providers.oauth_starting"), id="oauth-body")
            yield Input(placeholder=t("providers.oauth_code_placeholder"), id="oauth-code", password=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button(t("providers.oauth_done"), id="oauth-done")

    def on_mount(self) -> None:
        self.query_one("#oauth-code").display = False
        self.query_one("#oauth-done").display = False
        self._authorize()

    @work(exit_on_error=False)
    async def _authorize(self) -> None:
        body = self.query_one("#oauth-body", PlainText)
        try:
            data = await self.link.client.oauth_authorize(self.row.id, self.method)
        except OpencodeError as exc:
            body.show(t("providers.oauth_failed", error=exc.message))
            return
        url = str((data or {}).get("url") or "")
        instructions = str((data or {}).get("instructions") or "")
        self.mode = str((data or {}).get("method") or "auto")
        body.show("\n".join(x for x in (t("providers.oauth_open", url=url), instructions) if x))
        if self.mode == "code":
            code = self.query_one("#oauth-code", Input)
            code.display = True
            code.focus()
        else:
            self.query_one("#oauth-done").display = True
            self.query_one("#oauth-done").focus()

    @on(Input.Submitted, "#oauth-code")
    def _code(self, event: Input.Submitted) -> None:
        code = event.value.strip()
        event.input.value = ""
        if code:
            self._finish(code)

    @on(Button.Pressed, "#oauth-done")
    def _done(self) -> None:
        self._finish(None)

    @work(exit_on_error=False)
    async def _finish(self, code: str | None) -> None:
        body = self.query_one("#oauth-body", PlainText)
        body.show(t("providers.oauth_waiting"))
        try:
            await self.link.client.oauth_callback(self.row.id, self.method, code)
        except OpencodeError as exc:
            body.show(t("providers.oauth_failed", error=exc.message))
            return
        # The refresh runs as the app's worker: this screen's own workers (this one too)
        # are cancelled once it is dismissed, which would drop the refresh and its toast.
        self.providers.signed_in(self.link, self.row.id, self.row.name)
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
