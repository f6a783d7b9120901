"""A turn's words (state line, tool card, step, error card), shared by the live turns and the history.

Both views draw the same turn, the live one with widgets and the history line by line; the
text lives here so that neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.text import Text

from t3tui.app.widgets.diff_view import compact_diff
from t3tui.i18n import t
from t3tui.state.diffparse import EDIT_TOOLS, tool_diffs
from t3tui.state.export import short_path, tool_output, tool_summary
from t3tui.state.store import PartState, Turn
from t3tui.state.work import FileDiff, totals
from t3tui.text import clean, duration, one_line

FULL_LINES = 2000  # a tool's output shown in full, up to this many lines
DIFF_LINES = 30  # an edit's diff in its card, up to this many lines
TOOL_ICONS = {"pending": "○", "running": "◐", "completed": "●", "error": "✕"}


class Details:
    """What the open thread shows in full: reasoning and tool output, and timestamps.

    Collapsed by default, as opencode shows a tool call: one line ("→ read src/app.py").
    ``all`` flips every part of the thread (the details key); an id in ``flipped``
    flips one part, or every part of one turn (a click on it, Enter). A shell command
    the user ran shows its output unless flipped: that output is why it was run.
    ``version`` changes with each toggle, so the live turns know to redraw.
    ``pointed_part`` is the tool call or reasoning clicked last (F7 opens an edit's diff).
    """

    def __init__(self) -> None:
        self.all = False
        self.flipped: set[str] = set()
        self.timestamps = False
        self.version = 0
        self.pointed_part: str | None = None
        # A task card's subagent: what it is doing (controllers/subagents.py sets this), and
        # a count bumped when one shown on a card changes (the history draws again).
        self.child_badge: Callable[[Any], tuple[str, str] | None] = _no_child
        self.children_version = 0

    def shown(self, turn: Turn, part: PartState) -> bool:
        """Whether ``part`` (reasoning or a tool call) of ``turn`` shows in full."""
        flips = (turn.id in self.flipped) != (part.id in self.flipped)
        default = self.all or (part.type == "tool" and turn.shell_part() is part)
        return default != flips

    def toggle(self, ids: set[str] | None = None) -> None:
        """Flip ``ids`` (part or turn ids), or everything when None."""
        if ids is None:
            self.all = not self.all
            self.flipped.clear()
        else:
            self.flipped.symmetric_difference_update(ids)
        self.version += 1

    def forget(self) -> None:
        """Another thread opened: its parts start as the setting says."""
        self.flipped.clear()
        self.pointed_part = None
        self.version += 1


def _no_child(data: Any) -> tuple[str, str] | None:
    return None


def tool_line(data: Any, directory: str | None = None, child: tuple[str, str] | None = None) -> Text:
    """A tool call in one line, as opencode's TUI shows it collapsed: ``→ read src/app.py``,
    ``$ ls -la``; a failed call is red and says why, one still running says so. A task
    call shows what its subagent (``child``: text, style) is doing instead."""
    status = data.state.status or "pending"
    icon, line = tool_summary(data, directory)
    style = "red" if status == "error" else ""
    out = Text()
    out.append(f"{icon} ", style=style or "bold")
    out.append(one_line(line, 200), style=style)
    if child is not None and status != "error":
        out.append(f"  ◆ {child[0]}", style=child[1])
    elif status in ("pending", "running"):
        out.append(f"  {t('tool.' + status)}…", style="dim")
    elif status == "error":
        out.append(f"  ✕ {one_line(tool_output(data), 100)}", style="red")
    elif diffs := _diffs(data):
        added, removed = totals(diffs)
        out.append(f"  +{added}", style="green")
        out.append(f" -{removed}", style="red")
    else:
        body = tool_output(data).rstrip("\n")
        if body:
            out.append("  " + lines_text(body.count("\n") + 1), style="dim")
    return out


def _diffs(data: Any) -> list[FileDiff]:
    """The files an edit tool call changed (none for other tools)."""
    if data.tool not in EDIT_TOOLS:
        return []
    return tool_diffs(data.tool, data.state.input, data.state.metadata)


def lines_text(count: int) -> str:
    """ "1 line", "12 lines" in the user's language."""
    return t("tool.lines_one") if count == 1 else t("tool.lines", count=count)


def tool_text(
    data: Any, directory: str | None = None, full: bool = False, child: tuple[str, str] | None = None
) -> Text:
    """A tool call: one line (:func:`tool_line`), or with ``full`` the line, the tool and
    its state, then all its output (up to ``FULL_LINES`` lines)."""
    if not full:
        return tool_line(data, directory, child)
    state = data.state
    status = state.status or "pending"
    icon, line = tool_summary(data, directory)
    head = Text()
    head.append(f"{icon} ", style="bold")
    head.append(one_line(line, 200))
    label = t("tool." + status) if status in TOOL_ICONS else clean(status)
    head.append(f"  {TOOL_ICONS.get(status, '○')} {clean(data.tool or 'tool')} · {label}", style="dim")
    if child is not None:
        head.append(f"  ◆ {child[0]}", style=child[1])
    diffs = _diffs(data) if status == "completed" else []
    if diffs:
        # An edit shows what it changed (a few lines; F7 opens the viewer), then its output.
        head.append("\n")
        head.append_text(compact_diff(diffs, DIFF_LINES, lambda path: short_path(path, directory)))
        head.append("\n" + t("diff.card_hint"), style="dim")
    body = tool_output(data)
    if body:
        lines = clean(body).rstrip("\n").split("\n")
        if len(lines) > FULL_LINES:
            lines = [*lines[:FULL_LINES], t("tool.more_lines", count=len(lines) - FULL_LINES)]
        head.append("\n")
        head.append("\n".join(lines), style="red" if status == "error" else "")
    return head


def reasoning_text(text: str, full: bool) -> list[Text]:
    """Reasoning as the live turns and the history both draw it: one dim line that says
    how long it is, and with ``full`` the text itself."""
    if not full:
        return [Text(t("turn.reasoning_collapsed", count=len(text)), style="dim")]
    return [
        Text(t("turn.reasoning_chars", count=len(text)), style="dim bold"),
        Text(clean(text), style="dim italic"),
    ]


def turn_time_text(turn: Turn, now_ms: float) -> str:
    """When the prompt was sent: the time today, else the date and time (local)."""
    ms = turn.user.created if turn.user is not None and turn.user.created else turn.started_at
    if not ms:
        return ""
    when = datetime.fromtimestamp(ms / 1000)
    today = datetime.fromtimestamp(now_ms / 1000).date() == when.date()
    return when.strftime("%H:%M" if today else "%Y-%m-%d %H:%M")


def compaction_text(turn: Turn) -> str | None:
    """What a compaction shows where a prompt would be (None: the turn is no compaction)."""
    kind = turn.compaction
    if kind is None:
        return None
    return t("turn.compacted_auto") if kind == "auto" else t("turn.compacted")


def prompt_line(turn: Turn) -> str:
    """The prompt as shown, or a compaction's marker (its user message has no text)."""
    return compaction_text(turn) or clean(turn.prompt or " ")


def step_text(part: PartState) -> str:
    data: Any = part.data
    tokens = (data.tokens or {}).get("total") if data is not None and getattr(data, "tokens", None) else None
    reason = getattr(data, "reason", None) or ""
    if tokens:
        return t("turn.step_tokens", reason=reason, tokens=tokens)
    return t("turn.step", reason=reason)


def error_card_text(turn: Turn) -> str:
    """The error, and, when the server had the prompt and running it failed (a provider
    that cannot be reached, a key it refuses, a model it does not know), which model
    and provider, and the keys that fix it."""
    text = t("turn.error_card", error=turn.error or t("turn.unknown_error"))
    if turn.user is None:
        return text  # the server never had the prompt: nothing a provider did
    model = turn.model or turn.thread.model
    if model and "/" in model:
        provider = model.split("/", 1)[0]
        return text + "\n" + t("turn.provider_hint", model=model, provider=provider)
    return text + "\n" + t("turn.keys_hint")


# Why a turn that did not complete ended, by who settled it (Turn.settled_by).
WHY = {
    "user": "turn.why_user",
    "aborted": "turn.why_aborted",
    "disposed": "turn.why_disposed",
    "resync": "turn.why_resync",
    "local": "turn.why_local",
}


def why_ended(turn: Turn) -> str:
    """Why an interrupted turn ended, in a few words ("" when nobody knows)."""
    by = turn.settled_by
    if by == "server":
        # The server's account: an abort seen only in the history, or a message it
        # marked over with neither a finish nor an error.
        last = turn.last_assistant()
        aborted = last is not None and last.error is not None and last.error.aborted
        return t("turn.why_aborted_earlier") if aborted else t("turn.why_local")
    key = WHY.get(by or "")
    return t(key) if key else ""


def turn_status_text(turn: Turn, now_ms: float) -> str:
    """The state line of a turn: its state, why it ended if it did not complete, and
    whether it is reverted."""
    line = _state_text(turn, now_ms)
    if turn.reverted:
        line += " · " + t("turn.reverted")
    return line


def state_line(turn: Turn, now_ms: float, details: Details) -> str:
    """The state line as shown: :func:`turn_status_text`, and when the prompt was sent
    if timestamps are on."""
    line = turn_status_text(turn, now_ms)
    when = turn_time_text(turn, now_ms) if details.timestamps else ""
    return f"{line} · {when}" if when else line


def _state_text(turn: Turn, now_ms: float) -> str:
    started = turn.started_at
    if turn.state == "queued":
        return t("turn.queued")
    if turn.state == "running":
        if turn.user is None and turn.optimistic_prompt is not None:
            return t("turn.sending")  # the server has not shown the prompt yet
        th = turn.thread
        if th.status == "retrying" and th.retry is not None:
            nxt = th.retry.next  # None when the server did not say (or said NaN): unknown
            return t(
                "turn.retrying",
                attempt=th.retry.attempt,
                seconds=duration((nxt - now_ms) / 1000 if nxt is not None else None),
                message=one_line(th.retry.message, 80),
            ) + t("turn.retry_stop")
        since = started if started is not None else th.busy_since
        return t("turn.working", elapsed=duration((now_ms - since) / 1000 if since is not None else None))
    if turn.state == "completed":
        end = turn.completed_at if turn.completed_at is not None else now_ms
        return t("turn.worked", elapsed=duration((end - started) / 1000 if started is not None else None))
    if turn.state == "interrupted":
        why = why_ended(turn)
        return t("turn.interrupted") + (" · " + why if why else "")
    return t("turn.error")
