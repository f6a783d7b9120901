"""The model each thread runs on (picked, or the default shown before use), and its reasoning effort."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from t3tui.app.recents import DEFAULT, ModelMemory, key, opencode_state_file
from t3tui.app.screens.model_picker import ModelScreen, VariantScreen
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError
from t3tui.state.store import Thread

if TYPE_CHECKING:
    from t3tui.app.app import T3App
    from t3tui.app.controllers.server import ServerLink

log = logging.getLogger(__name__)

Model = tuple[str, str]  # (provider id, model id)


def default_model(config: Any, providers: Any) -> Model | None:
    """The model a new thread runs on when nobody picks one, as opencode's TUI finds it:
    the config's ``model``, else the first provider that can run and its default."""
    model = config.get("model") if isinstance(config, dict) else None
    if isinstance(model, str) and "/" in model:
        provider, _, model_id = model.partition("/")
        return provider, model_id
    listed = providers.get("providers") if isinstance(providers, dict) else None
    if not isinstance(listed, list) or not listed or not isinstance(listed[0], dict):
        return None
    first = listed[0]
    pid = first.get("id")
    defaults = providers.get("default") if isinstance(providers.get("default"), dict) else {}
    mid = defaults.get(pid) or next(iter(first.get("models") or {}), None)
    return (pid, mid) if isinstance(pid, str) and isinstance(mid, str) else None


def variant_lists(providers: Any) -> dict[str, list[str]]:
    """Each model's reasoning-effort variants from ``GET /config/providers``, as
    ``"provider/model"`` -> names: the keys of ``models[id].variants`` in their order
    (``GET /provider`` does not say; opencode's TUI reads them here too)."""
    out: dict[str, list[str]] = {}
    listed = providers.get("providers") if isinstance(providers, dict) else None
    for p in listed if isinstance(listed, list) else []:
        models = p.get("models") if isinstance(p, dict) else None
        if not isinstance(p.get("id") if isinstance(p, dict) else None, str) or not isinstance(models, dict):
            continue
        for mid, m in models.items():
            variants = m.get("variants") if isinstance(m, dict) else None
            names = [v for v in variants if isinstance(v, str)] if isinstance(variants, dict) else []
            out[f"{p['id']}/{mid}"] = names
    return out


def as_model(name: str | None) -> Model | None:
    """``"provider/model"`` as a pair (None for anything else)."""
    if not name or "/" not in name:
        return None
    pid, _, mid = name.partition("/")
    return (pid, mid) if pid and mid else None


class Models:
    """The model picked per thread (and for the next new thread), the picker, the recent
    models, and the reasoning-effort variant kept per model, as opencode's TUI does."""

    def __init__(self, app: T3App, state_dir: Path | None = None) -> None:
        self.app = app
        self.chosen: dict[str, Model] = {}  # thread id -> the model picked for it
        self.next: Model | None = None  # picked before the new thread exists
        if state_dir is None and app.threads.drafts.path is not None:
            state_dir = app.threads.drafts.path.parent  # the app's state directory
        self.memory = ModelMemory(state_dir, seed=opencode_state_file())
        self.variants: dict[ServerLink, dict[str, list[str]]] = {}  # per server, from /config/providers

    # -- which model ---------------------------------------------------------------------

    def model_for(self, th: Thread, new_thread: bool = False) -> Model | None:
        """The model to send with a prompt: the thread's own choice, if it has one."""
        if th.id not in self.chosen and not th.order:
            # A new thread: the model picked for it, else the default shown in the
            # status line (sent, as opencode's TUI does, so that what was shown is used;
            # an existing thread without loaded turns keeps the server's choice).
            chosen = self.next or (self.app.link_of(th.id).default_model if new_thread else None)
            self.next = None
            if chosen is not None:
                self.chosen[th.id] = chosen
        return self.chosen.get(th.id)

    def shown(self) -> str | None:
        """The model picked for the open thread (or the next new one), as ``provider/model``."""
        current = self.app.threads.current_id
        chosen = self.chosen.get(current) if current else self.next
        return f"{chosen[0]}/{chosen[1]}" if chosen else None

    def model_of(self, th: Thread | None) -> Model | None:
        """The model a thread runs on as far as t3tui knows (``th`` None: the next new
        thread): picked for it, else the one it last ran on, else the default."""
        if th is not None and th.id in self.chosen:
            return self.chosen[th.id]
        fresh = th is None or not th.order
        if fresh and self.next is not None:
            return self.next  # what model_for will take for it
        ran = as_model(th.model) if th is not None else None
        if ran is not None:
            return ran
        return self.app.link_of(th.id if th is not None else None).default_model if fresh else None

    # -- variants ------------------------------------------------------------------------

    def variants_of(self, link: ServerLink, model: Model) -> list[str] | None:
        """The model's variant names (empty: it has none; None: not loaded yet)."""
        lists = self.variants.get(link)
        return None if lists is None else lists.get(key(model), [])

    def _variant(self, link: ServerLink, model: Model | None) -> str | None:
        """The stored variant if the model has it (opencode's ``variant.current()``)."""
        if model is None:
            return None
        stored = self.memory.variant(model)
        known = self.variants_of(link, model) or []
        return stored if stored and stored != DEFAULT and stored in known else None

    def variant_for(self, th: Thread) -> str | None:
        """The variant to send with a prompt on ``th``, for the model it runs on: None
        when that model has none, none was chosen, or its variants are not known."""
        return self._variant(self.app.link_of(th.id), self.model_of(th))

    def shown_variant(self) -> str | None:
        """The variant of the model shown for the open thread (for the status line)."""
        threads = self.app.threads
        return self._variant(threads.link, self.model_of(threads.current))

    def cycle_variant(self) -> None:
        """Ctrl+T: the next variant of the open thread's model; after the last, none."""
        link = self.app.threads.link
        if link in self.variants:
            self._cycle(link)
        else:
            self.app.run_worker(
                self._cycle_when_loaded(link),
                group=link.group("variants"),
                exclusive=True,
                exit_on_error=False,
            )

    async def _cycle_when_loaded(self, link: ServerLink) -> None:
        if await self._load_variants(link):
            self._cycle(link)

    def _cycle(self, link: ServerLink) -> None:
        model = self.model_of(self.app.threads.current)
        if model is None:
            self.app.toast(t("toast.variant_no_model"), severity="warning")
            return
        names = self.variants_of(link, model) or []
        if not names:
            self.app.toast(t("toast.no_variants", model=key(model)), severity="warning")
            return
        current = self._variant(link, model)
        if current is None:
            variant: str | None = names[0]
        else:
            i = names.index(current)
            variant = names[i + 1] if i + 1 < len(names) else None
        self._set_variant(model, variant)

    def _set_variant(self, model: Model, variant: str | None) -> None:
        self.memory.set_variant(model, variant)
        self.app.frames.request()
        self.app.toast(t("toast.variant", model=key(model), variant=variant or t("variants.default")))

    async def _load_variants(self, link: ServerLink, report: bool = True) -> bool:
        """Fetch the variant lists; a failure is said only when the user asked for a
        variant (Ctrl+T), not after a model pick that merely looked for them."""
        try:
            providers = await link.client.raw_config_providers(link.directory)
        except OpencodeError as exc:
            if report:
                self.app.toast(t("toast.variants_failed", error=exc.message), severity="error", timeout=10)
            else:
                log.info("variants unknown: %s", exc.message)
            return False
        self.variants[link] = variant_lists(providers)
        self.app.frames.request()
        return True

    def ask_variant(self, link: ServerLink, model: Model) -> None:
        """A model was picked: if it has variants and none was chosen for it yet (not
        even "Default"), ask which, as opencode's "Select variant" does."""
        names = self.variants_of(link, model)
        if names is None:
            self.app.run_worker(
                self._ask_when_loaded(link, model),
                group=link.group("variants"),
                exclusive=True,
                exit_on_error=False,
            )
            return
        stored = self.memory.variant(model)
        if not names or stored == DEFAULT or stored in names:
            return

        def answered(variant: str | None) -> None:
            if variant is not None:  # Esc leaves it unset: asked again next time
                self._set_variant(model, None if variant == DEFAULT else variant)

        self.app.push_screen(VariantScreen(key(model), names), answered)

    async def _ask_when_loaded(self, link: ServerLink, model: Model) -> None:
        if await self._load_variants(link, report=False):
            self.ask_variant(link, model)

    # -- the picker ----------------------------------------------------------------------

    def choose(self) -> None:
        """Open the picker for the open thread (or the next new one)."""
        if isinstance(self.app.screen, ModelScreen | VariantScreen):
            return  # Ctrl+O is a priority key: it reaches the app from the picker too
        threads = self.app.threads
        th = threads.current
        current = self.shown() or (th.model if th is not None else None)
        link = threads.link

        def chosen(choice: Model | None) -> None:
            if choice is None:
                return
            if threads.current_id:
                self.chosen[threads.current_id] = choice
            else:
                self.next = choice
            self.memory.remember(choice)
            self.app.frames.request()
            self.app.toast(t("toast.model", model=f"{choice[0]}/{choice[1]}"))
            self.ask_variant(link, choice)

        # The picker opens at once and says it is loading: keys typed meanwhile land
        # in its filter, not in the prompt.
        screen = ModelScreen(link.store.providers, current, self.memory.recent)
        self.app.push_screen(screen, chosen)
        if link.store.providers is None:
            self.app.run_worker(self._load(link, screen), group="providers", exit_on_error=False)
        elif link not in self.variants:
            self.app.run_worker(
                self._load_variants(link, report=False), group=link.group("variants"), exit_on_error=False
            )

    async def _load(self, link: ServerLink, screen: ModelScreen) -> None:
        try:
            await self.app.providers.refetch(link)
        except OpencodeError as exc:
            screen.set_error(exc.message)
            return
        if link.store.providers is not None:
            screen.set_providers(link.store.providers)
        if link not in self.variants:  # ready before the user picks: the question comes at once
            await self._load_variants(link, report=False)

    # -- the default ---------------------------------------------------------------------

    def load_default(self, link: ServerLink) -> None:
        """Find out which model a new thread will use, to show it before the first prompt."""
        self.app.run_worker(
            self._load_default(link), group=link.group("default-model"), exclusive=True, exit_on_error=False
        )

    async def _load_default(self, link: ServerLink) -> None:
        try:
            config = await link.client.raw_config(link.directory)
            providers = await link.client.raw_config_providers(link.directory)
        except OpencodeError as exc:
            log.info("default model unknown: %s", exc.message)
            return
        link.default_model = default_model(config, providers)
        self.variants[link] = variant_lists(providers)
        self.app.frames.request()
