"""The model each thread runs on: the one the user picked, or the server's default, shown before use."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from t3tui.app.screens.model_picker import ModelScreen
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


class Models:
    """The model picked per thread (and for the next new thread), and the picker."""

    def __init__(self, app: T3App) -> None:
        self.app = app
        self.chosen: dict[str, Model] = {}  # thread id -> the model picked for it
        self.next: Model | None = None  # picked before the new thread exists

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

    def choose(self) -> None:
        """Open the picker for the open thread (or the next new one)."""
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
            self.app.frames.request()
            self.app.toast(t("toast.model", model=f"{choice[0]}/{choice[1]}"))

        # The picker opens at once and says it is loading: keys typed meanwhile land
        # in its filter, not in the prompt.
        screen = ModelScreen(link.store.providers, current)
        self.app.push_screen(screen, chosen)
        if link.store.providers is None:
            self.app.run_worker(self._load(link, screen), group="providers", exit_on_error=False)

    async def _load(self, link: ServerLink, screen: ModelScreen) -> None:
        try:
            await self.app.providers.refetch(link)
        except OpencodeError as exc:
            screen.set_error(exc.message)
            return
        if link.store.providers is not None:
            screen.set_providers(link.store.providers)

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
        self.app.frames.request()

    def cycle_variant(self) -> None:
        raise NotImplementedError  # being built (issue 14)
