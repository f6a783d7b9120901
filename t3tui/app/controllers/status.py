"""The status line (server, connection, directory, model), and the banner when what is shown may be stale."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from t3tui import logs
from t3tui.app.controllers.agents import label
from t3tui.app.widgets.sidebar import short_dir
from t3tui.app.widgets.work_panel import money, short_count
from t3tui.i18n import t

if TYPE_CHECKING:
    from t3tui.app.app import T3App
    from t3tui.app.controllers.server import ServerLink
    from t3tui.state.work import WorkView

SEP = (" │ ", "dim")


class Status:
    """Writes the status line and the banner for the open thread's server."""

    def __init__(self, app: T3App, server_log: Path | None = None) -> None:
        self.app = app
        self.server_log = server_log  # the embedded server's log, named when it cannot be reached

    def sync(self) -> None:
        main = self.app.main
        link = self.app.threads.link
        shown = self.app.work.sync()  # the work panel shows these numbers too
        width = (main.status_line.size.width or self.app.size.width) - 2  # its padding
        main.status_line.put(self.usage(self.line(link), shown, width))
        banner = main.banner
        text = self.banner(link)
        if text is None:
            banner.display = False
        else:
            banner.show(logs.scrub(text))
            banner.display = True

    def line(self, link: ServerLink) -> Text:
        stream = link.stream
        threads = self.app.threads
        th = threads.current
        if not link.connect:
            conn, style = (
                t("status.connected") if link.store.connection == "open" else t("status.offline"),
                "",
            )
        elif stream.state == "open":
            conn, style = t("status.connected"), "green"
        elif stream.state == "auth_failed":
            refused = link.client.has_password
            conn, style = t("status.auth_failed" if refused else "status.auth_needed"), "red"
        elif stream.connections == 0 and stream.attempt == 0:
            conn, style = t("status.connecting"), "yellow"
        elif stream.connections == 0:
            conn, style = t("status.offline"), "red"
        else:
            conn, style = t("status.reconnecting", attempt=stream.attempt), "yellow"
        line = Text.assemble(
            ("t3tui", "bold"),
            SEP,
            (link.client.base_url, "dim"),
            SEP,
            ("● " + conn, style),
            SEP,
            short_dir(threads.directory),
        )
        if stream.skipped:
            line.append_text(Text.assemble(SEP, ("⚠ " + t("status.skipped", count=stream.skipped), "yellow")))
        agent = self.app.agents.current(th)
        # The agent's colour on a mark, its name readable on the status line's background.
        line.append_text(
            Text.assemble(SEP, ("◆ ", self.app.agents.colour_value(agent)), (label(agent), "bold"))
        )
        model = self.app.models.shown() or (th.model if th is not None else None)
        fresh = th is None or not th.order
        if not model and fresh and link.default_model is not None:
            model = t("status.default_model", model="/".join(link.default_model))
        if model:
            variant = self.app.models.shown_variant()
            shown = (f" · {variant}", "bold yellow") if variant else ""
            line.append_text(Text.assemble(SEP, (model, "dim"), shown))
        if link.store.refresh_pending:
            line.append_text(Text.assemble(SEP, (t("status.refresh_pending"), "bold yellow")))
        return line

    def usage(self, line: Text, shown: WorkView | None, width: int) -> Text:
        """``line`` with the open thread's cost and the total over every thread (when
        anything cost something), then its tokens in context if there is room."""
        total = self.app.work.total_cost(shown)
        cost = shown.cost if shown is not None else None
        if cost or total:
            spent = t("status.cost", cost=money(cost or 0.0), total=money(total))
            line.append_text(Text.assemble(SEP, (spent, "bold")))
        if shown is not None and shown.context:
            percent = shown.percent
            tokens = short_count(shown.context)
            text = (
                t("status.tokens", tokens=tokens)
                if percent is None
                else t("status.tokens_percent", tokens=tokens, percent=percent)
            )
            if line.cell_len + len(SEP[0]) + Text(text).cell_len <= width:
                line.append_text(Text.assemble(SEP, (text, "dim")))
        return line

    def banner(self, link: ServerLink) -> str | None:
        """What the banner says (None: no banner)."""
        stream, store, connect = link.stream, link.store, link.connect
        stale = store.connection != "open" and (stream.connections > 0 or stream.attempt > 0)
        if connect and stream.state == "auth_failed":
            # The stream's own error already says "refused" or "needs": not said twice.
            return t("banner.auth_refused" if link.client.has_password else "banner.auth_needed")
        if not (connect and stale or not connect and store.connection == "closed" and store.threads):
            return None
        wait = stream.retry_in()
        if connect and stream.connections == 0:
            # Never connected: nothing was lost, and nothing on screen is stale.
            text = t("banner.unreachable", url=link.client.base_url, attempt=max(1, stream.attempt))
        else:
            text = t("banner.reconnecting", attempt=max(1, stream.attempt))
        if wait:
            text += " " + t("banner.retry_in", seconds=f"{wait:.0f}s")
        if stream.last_error:
            text += " · " + stream.last_error
        if not connect or stream.connections > 0:
            text += " · " + t("banner.stale")
        if self.server_log is not None:
            text += "\n" + t("banner.server_log", path=str(self.server_log))
        return text
