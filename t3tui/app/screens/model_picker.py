"""The model picker: a filterable list of the connected providers' models, open at once while they load."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from t3tui.app.screens.base import LocalizedModal
from t3tui.app.widgets.plain_text import PlainText
from t3tui.i18n import t
from t3tui.opencode.wire import ProviderList
from t3tui.text import clean


class ModelScreen(LocalizedModal[tuple[str, str] | None]):
    """Pick a model from the connected providers."""

    BINDINGS = [Binding("escape", "cancel", "bind.cancel", id="cancel")]

    def __init__(self, providers: ProviderList | None, current: str | None) -> None:
        """``providers`` None: still loading (see :meth:`set_providers`); keys typed
        meanwhile go to the filter, not into the prompt behind."""
        super().__init__(classes="dialog-screen")
        self.choices: list[tuple[str, str, str]] = []
        self.loading = providers is None
        self.error: str | None = None
        if providers is not None:
            self._choices_from(providers)
        self.current = current

    def _choices_from(self, providers: ProviderList) -> None:
        connected = set(providers.connected)
        self.choices = []
        for p in sorted(providers.all, key=lambda p: p.display_name.lower()):
            if p.id not in connected:
                continue
            for mid, model in sorted(p.models.items()):
                self.choices.append((p.id, mid, f"{p.display_name} / {model.name or mid}"))

    def set_providers(self, providers: ProviderList) -> None:
        self.loading = False
        self._choices_from(providers)
        if self.is_mounted:
            self._fill()

    def set_error(self, error: str) -> None:
        self.loading = False
        self.error = error
        if self.is_mounted:
            self._fill()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainText(t("models.title"), classes="dialog-title")
            yield Input(placeholder=t("models.filter"), id="model-filter")
            yield OptionList(id="model-list")
            yield PlainText("", classes="dialog-hint")

    def on_mount(self) -> None:
        self._fill()
        self.query_one(Input).focus()

    @on(Input.Changed)
    def _fill(self) -> None:
        needle = self.query_one(Input).value.strip().lower()
        olist = self.query_one(OptionList)
        olist.clear_options()
        shown = [
            c for c in self.choices if not needle or needle in c[2].lower() or needle in f"{c[0]}/{c[1]}"
        ]
        for pid, mid, label in shown:
            mark = "● " if f"{pid}/{mid}" == self.current else "  "
            olist.add_option(
                Option(Text(mark + clean(label)) + Text(f"  {pid}/{mid}", style="dim"), id=f"{pid}/{mid}")
            )
        if shown:
            olist.highlighted = 0
        if self.loading:
            hint = t("models.loading")
        elif self.error is not None:
            hint = t("models.failed", error=self.error)
        else:
            hint = t("models.none") if not self.choices else t("models.hint", count=len(shown))
        self.query_one(".dialog-hint", PlainText).show(hint)

    def on_key(self, event: events.Key) -> None:
        olist = self.query_one(OptionList)
        if self.query_one(Input).has_focus and event.key in ("down", "up"):
            (olist.action_cursor_down if event.key == "down" else olist.action_cursor_up)()
            event.stop()
        elif self.query_one(Input).has_focus and event.key == "enter":
            event.stop()
            option = olist.highlighted_option
            if option is not None and option.id:
                self._choose(option.id)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._choose(event.option.id)

    def _choose(self, key: str) -> None:
        pid, _, mid = key.partition("/")
        self.dismiss((pid, mid))

    def action_cancel(self) -> None:
        self.dismiss(None)
