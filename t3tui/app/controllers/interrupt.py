"""The double Esc: the first press arms the interrupt, a second within two seconds stops the running turn.

Ctrl+C is Textual's copy key, so Escape interrupts; pressed twice, as in opencode, so that
an Esc meant for something else does not stop a run.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.widgets import HelpPanel

from t3tui import observations
from t3tui.i18n import t
from t3tui.opencode.client import OpencodeError

if TYPE_CHECKING:
    from t3tui.app.app import T3App

INTERRUPT_WINDOW = 2.0


class Interrupt:
    """Arms on the first Esc, interrupts on the second, disarms when the window passes."""

    def __init__(self, app: T3App) -> None:
        self.app = app
        self.armed_at: float | None = None

    def press(self) -> None:
        """Esc: hide the keys panel, else arm, else interrupt the open thread's run."""
        app = self.app
        if app.screen.query(HelpPanel):
            app.action_toggle_keys()
            return
        th = app.threads.current
        if th is None or not th.active:
            return
        now = time.monotonic()
        if self.armed_at is not None and now - self.armed_at <= INTERRUPT_WINDOW:
            self.disarm()
            self.interrupt(th.id)
            return
        self.armed_at = now
        app.escape_label = "bind.interrupt_again"
        app.main.hint.show(t("hint.esc_again"))

    def disarm(self) -> None:
        self.armed_at = None
        self.app.escape_label = "bind.interrupt"
        self.app.main.hint.show("")

    def expire(self) -> None:
        """Once a second: the second Esc came too late, or never."""
        if self.armed_at is not None and time.monotonic() - self.armed_at > INTERRUPT_WINDOW:
            self.disarm()

    def interrupt(self, sid: str) -> None:
        """Stop the thread's run now (it shows interrupted at once; a refused abort undoes that)."""
        self.app.run_worker(self.stop(sid), group="interrupt", exit_on_error=False)

    async def stop(self, sid: str) -> bool:
        """Interrupt and wait for the server's answer; False if it refused (and said so)."""
        link = self.app.link_of(sid)
        th = link.store.threads.get(sid)
        if th is None:
            return False
        link.observe(observations.interrupt(sid, th.directory))
        try:
            await link.client.abort(sid, th.directory)
        except OpencodeError as exc:
            link.observe(observations.interrupt_answered(sid, exc.message))
            self.app.toast(t("toast.interrupt_failed", error=exc.message), severity="error", timeout=10)
            return False
        link.observe(observations.interrupt_answered(sid))
        return True
