"""A turn's words (state line, tool card, step, error card), shared by the live turns and the history.

Both views draw the same turn, the live one with widgets and the history line by line; the
text lives here so that neither imports the other.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from t3tui.i18n import t
from t3tui.state.store import PartState, Turn
from t3tui.text import clean, duration, one_line

PREVIEW_LINES = 8
TOOL_ICONS = {"pending": "○", "running": "◐", "completed": "●", "error": "✕"}


def tool_text(data: Any) -> Text:
    """A tool call as text: icon, tool, state, title, and the last lines of output."""
    state = data.state
    status = state.status or "pending"
    title = state.title or _tool_summary(state.input)
    head = Text()
    head.append(f"{TOOL_ICONS.get(status, '○')} ", style="bold")
    head.append(clean(data.tool or "tool"), style="bold")
    head.append(f"  {t('tool.' + status) if status in TOOL_ICONS else clean(status)}", style="dim")
    if title:
        head.append(f"  {one_line(title, 100)}")
    output = state.output
    if output is None and state.metadata:
        meta_out = state.metadata.get("output")
        output = meta_out if isinstance(meta_out, str) else None
    body = state.error if status == "error" else output
    if body:
        lines = clean(body).rstrip("\n").split("\n")
        if len(lines) > PREVIEW_LINES:
            hidden = len(lines) - PREVIEW_LINES
            lines = [t("tool.more_lines", count=hidden), *lines[-PREVIEW_LINES:]]
        head.append("\n")
        head.append("\n".join(lines), style="red" if status == "error" else "")
    return head


def _tool_summary(args: Any) -> str:
    if not isinstance(args, dict):
        return ""
    for key in ("description", "command", "filePath", "path", "pattern", "url"):
        value = args.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


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
