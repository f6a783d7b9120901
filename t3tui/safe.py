"""Server and model text is data: no markup, and no escape codes reach the terminal."""

from __future__ import annotations

# C0 controls (but tab and newline), DEL and C1 controls become visible symbols, so
# "\x1b[2J" shows as "␛[2J" instead of clearing the screen.
_TABLE = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}
_TABLE[0x7F] = 0x2421
_TABLE.update({c: 0xFFFD for c in range(0x80, 0xA0)})
_TABLE[0x0D] = None  # a bare CR would move the cursor; drop it (CRLF -> LF)


def clean(text: str) -> str:
    """``text`` with every control character made visible (or dropped, for CR)."""
    if text.isprintable():
        return text
    return text.translate(_TABLE)


def one_line(text: str, width: int = 80) -> str:
    flat = clean(text).replace("\n", " ").replace("\t", " ")
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def duration(seconds: float) -> str:
    """``12s``, ``1m03s``, ``2h05m``."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"
