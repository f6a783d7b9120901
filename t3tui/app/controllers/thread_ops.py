"""What can be done to a thread besides prompting it: rename it for now (``/rename``, Ctrl+R
in the sidebar, the palette). Undo and redo live in ``undo.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from t3tui.app.screens.dialogs import TextScreen
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError

if TYPE_CHECKING:
    from t3tui.app.app import T3App

MAX_TITLE = 200  # characters: a title is one line in the sidebar, not a document


class ThreadOps:
    """Rename the open thread (or the one the sidebar points at)."""

    def __init__(self, app: T3App) -> None:
        self.app = app

    def rename(self, sid: str | None = None, title: str = "") -> None:
        """With ``title``, rename at once; without, ask for it (prefilled with the current one)."""
        sid = sid or self.app.threads.current_id
        th = self.app.link_of(sid).store.threads.get(sid) if sid else None
        if sid is None or th is None:
            self.app.toast(t("toast.rename_none"))
            return
        if title.strip():
            self._start(sid, title)
            return

        def answered(value: str | None) -> None:
            if value is not None and value.strip() and value.strip() != th.title:
                self._start(sid, value)

        self.app.push_screen(TextScreen(t("rename.title"), th.title), answered)

    def _start(self, sid: str, title: str) -> None:
        title = " ".join(title.split())[:MAX_TITLE]  # one line
        self.app.run_worker(self._rename(sid, title), group="rename", exit_on_error=False)

    async def _rename(self, sid: str, title: str) -> None:
        link = self.app.link_of(sid)
        th = link.store.threads.get(sid)
        if th is None:
            return
        try:
            session = await link.client.rename_session(sid, th.directory, title)
        except OpencodeError as exc:
            self.app.toast(t("toast.rename_failed", error=exc.message), severity="error", timeout=10)
            return
        link.observe_session(session)
        self.app.toast(t("toast.renamed", title=title))
