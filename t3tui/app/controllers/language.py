"""/lang and the palette's languages: switch the language while the app runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from t3tui.app import keys
from t3tui.app.commands import LANGUAGE_NAMES
from t3tui.app.screens.base import LocalizedScreen
from t3tui.i18n import available, catalog, t

if TYPE_CHECKING:
    from t3tui.app.app import T3App


class Language:
    """Picks a language and relabels every key, screen and the open thread in it."""

    def __init__(self, app: T3App) -> None:
        self.app = app

    def pick(self) -> None:
        """``/lang``: the languages there are catalogs for."""
        from t3tui.app.screens.dialogs import ChoiceScreen

        app = self.app
        choices = [(lang, LANGUAGE_NAMES.get(lang, lang)) for lang in available() if catalog(lang)]

        def picked(lang: str | None) -> None:
            if lang is not None:
                app.run_worker(self.set(lang), exit_on_error=False)

        app.push_screen(ChoiceScreen(t("lang.title"), choices, t.lang), picked)

    async def set(self, lang: str) -> None:
        app = self.app
        t.set_language(lang)
        keys.relabel(app, {"interrupt": app.escape_label})
        for screen in app.screen_stack:
            if isinstance(screen, LocalizedScreen):
                screen.localize()
        await app.main.retranslate(app.threads.current, app.threads.empty_text())
        app.frames.request()
        app.toast(t("toast.language", name=LANGUAGE_NAMES.get(lang, lang)))
