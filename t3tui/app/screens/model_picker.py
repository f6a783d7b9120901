"""The model picker: recent models first, then each provider's; filterable, open at once while they load."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from t3tui.app.screens.base import LocalizedModal
from t3tui.app.screens.dialogs import ChoiceScreen
from t3tui.app.widgets.plain_text import PlainText
from t3tui.i18n import t
from t3tui.opencode.wire import ProviderList
from t3tui.text import clean


class ModelScreen(LocalizedModal[tuple[str, str] | None]):
    """Pick a model from the connected providers, the recently picked ones first.

    With an empty filter the list has sections, as opencode's "Select model" has:
    "Recent", then one per provider (a model listed under "Recent" is not listed
    again). A filter searches them all and lists the matches without sections, the
    recent ones first.
    """

    DEFAULT_CSS = """
    ModelScreen OptionList > .option-list--option-disabled {
        color: $text-accent;
        text-style: bold;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "bind.cancel", id="cancel")]

    def __init__(
        self, providers: ProviderList | None, current: str | None, recent: Iterable[tuple[str, str]] = ()
    ) -> None:
        """``providers`` None: still loading (see :meth:`set_providers`); keys typed
        meanwhile go to the filter, not into the prompt behind. ``recent``: newest first."""
        super().__init__(classes="dialog-screen")
        self.choices: list[tuple[str, str, str]] = []  # (provider id, model id, label)
        self.provider_names: dict[str, str] = {}
        self.recent = [f"{p}/{m}" for p, m in recent]
        self.loading = providers is None
        self.error: str | None = None
        if providers is not None:
            self._choices_from(providers)
        self.current = current

    def _choices_from(self, providers: ProviderList) -> None:
        connected = set(providers.connected)
        self.choices = []
        self.provider_names = {}
        for p in sorted(providers.all, key=lambda p: p.display_name.lower()):
            if p.id not in connected:
                continue
            self.provider_names[p.id] = p.display_name
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
            field = Input(placeholder=t("models.filter"), id="model-filter")
            field.cursor_blink = getattr(self.app, "cursor_blink", True)  # off in tests: steady snapshots
            yield field
            yield OptionList(id="model-list")
            yield PlainText("", classes="dialog-hint")

    def on_mount(self) -> None:
        self._fill()
        self.query_one(Input).focus()

    def sections(self, needle: str) -> list[tuple[str | None, list[tuple[str, str, str]]]]:
        """What the list shows: (heading, models) in order; one section without a
        heading when ``needle`` filters."""
        shown = [c for c in self.choices if not needle or needle in f"{c[2].lower()} {c[0]}/{c[1]}"]
        by_key = {f"{p}/{m}": (p, m, label) for p, m, label in shown}
        recent = [by_key[k] for k in self.recent if k in by_key]
        rest = [c for c in shown if f"{c[0]}/{c[1]}" not in self.recent]
        if needle:
            return [(None, recent + rest)] if shown else []
        out: list[tuple[str | None, list[tuple[str, str, str]]]] = []
        if recent:
            out.append((t("models.recent"), recent))
        for pid, name in self.provider_names.items():
            models = [c for c in rest if c[0] == pid]
            if models:
                out.append((name, models))
        return out

    @on(Input.Changed)
    def _fill(self) -> None:
        needle = self.query_one(Input).value.strip().lower()
        olist = self.query_one(OptionList)
        olist.clear_options()
        count = 0
        for heading, models in self.sections(needle):
            if heading is not None:
                olist.add_option(Option(Text(clean(heading)), disabled=True))
            for pid, mid, label in models:
                mark = "● " if f"{pid}/{mid}" == self.current else "  "
                olist.add_option(
                    Option(Text(mark + clean(label)) + Text(f"  {pid}/{mid}", style="dim"), id=f"{pid}/{mid}")
                )
                count += 1
        if count:
            olist.action_first()  # the first model (headings cannot be highlighted)
        if self.loading:
            hint = t("models.loading")
        elif self.error is not None:
            hint = t("models.failed", error=self.error)
        else:
            hint = t("models.none") if not self.choices else t("models.hint", count=count)
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


class VariantScreen(ChoiceScreen):
    """Pick a model's reasoning-effort variant, as opencode's "Select variant" asks after a
    model is picked: "Default" (the value ``"default"``), then the model's variants in the
    server's order. Enter picks; Esc answers None (nothing chosen, asked again next time)."""

    def __init__(self, model: str, variants: list[str], current: str | None = None) -> None:
        choices = [("default", t("variants.default")), *((v, v) for v in variants)]
        super().__init__(
            t("variants.title", model=model), choices, current or "default", hint=t("variants.hint")
        )
        self.model = model
