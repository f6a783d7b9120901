"""Details on demand and timestamps: the keys and commands that toggle them, kept on disk.

Tool calls show in one line and reasoning folded, as opencode shows them; F6 shows
them all in full (and again folds them), Enter or a click one turn or one part.
Timestamps (the palette, ``/timestamps``) put the time each prompt was sent on its
turn's state line. Both settings are remembered, as opencode keeps its own in its
``kv.json``: in ``view.json`` in t3tui's state directory (two booleans, no text).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from t3tui.i18n import t

if TYPE_CHECKING:
    from t3tui.app.app import T3App


class ViewOptions:
    """Whether details and timestamps show, for every thread, across restarts."""

    def __init__(self, app: T3App, state_dir: Path | None = None) -> None:
        self.app = app
        if state_dir is None and app.threads.drafts.path is not None:
            state_dir = app.threads.drafts.path.parent  # the app's state directory
        self.path = state_dir / "view.json" if state_dir is not None else None
        self.details = False
        self.timestamps = False
        if self.path is not None and self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = None  # unreadable: the defaults, and the next toggle rewrites it
            if isinstance(data, dict):
                self.details = data.get("details") is True
                self.timestamps = data.get("timestamps") is True

    def apply(self) -> None:
        """Give the thread view the settings (at start)."""
        details = self.app.main.thread_view.details
        details.all = self.details
        details.timestamps = self.timestamps
        details.version += 1

    async def toggle_details(self) -> None:
        """F6: every tool call and reasoning of the thread in full, or folded again."""
        view = self.app.main.thread_view
        await view.toggle_details(None)
        self.details = view.details.all
        self.save()
        self.app.toast(t("toast.details_on" if self.details else "toast.details_off"))

    async def toggle_timestamps(self) -> None:
        """When each prompt was sent, on its state line (or not)."""
        view = self.app.main.thread_view
        self.timestamps = view.details.timestamps = not view.details.timestamps
        view.details.version += 1
        await view.redraw()
        self.save()
        self.app.toast(t("toast.timestamps_on" if self.timestamps else "toast.timestamps_off"))

    def save(self) -> None:
        if self.path is None:
            return
        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".view-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"details": self.details, "timestamps": self.timestamps}, fh)
            os.replace(tmp, self.path)
        except OSError:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
