"""Screens that label their own keys in the user's language, when they mount and when the language changes."""

from __future__ import annotations

from textual.screen import ModalScreen, Screen, ScreenResultType

from t3tui.app import keys


class LocalizedScreen(Screen[ScreenResultType]):
    """A screen whose keys (and those of its widgets) are labelled in the current language."""

    def on_mount(self) -> None:
        # Runs after a subclass's own on_mount (Textual calls each class's handler).
        self.localize()

    def localize(self) -> None:
        """Label the keys again (the app calls this when the language changes)."""
        keys.relabel_tree(self)
        self.refresh_bindings()


class LocalizedModal(LocalizedScreen[ScreenResultType], ModalScreen[ScreenResultType]):
    """A modal dialog that labels its own keys (see :class:`LocalizedScreen`)."""
