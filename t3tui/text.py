"""Server and model text is data: no markup, and no escape codes reach the terminal."""

from __future__ import annotations

import math

from t3tui.i18n import t

# C0 controls (but tab and newline), DEL and C1 controls become visible symbols, so
# "\x1b[2J" shows as "␛[2J" instead of clearing the screen.
_TABLE = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}
_TABLE[0x7F] = 0x2421
_TABLE.update({c: 0xFFFD for c in range(0x80, 0xA0)})
_TABLE[0x0D] = None  # a bare CR would move the cursor; drop it (CRLF -> LF)
# Bidi controls reorder what follows them ("U+202E" makes "txt.exe" read "exe.txt"),
# and invisible characters hide text: both could make server text say what it does
# not. They are shown by name, like "<U+202E>". The zero-width joiner stays: emoji
# sequences need it and it hides nothing by itself.
_INVISIBLE = [
    0x061C,  # Arabic letter mark
    0x115F,
    0x1160,
    0x17B4,
    0x17B5,
    0x180E,  # fillers, Khmer invisibles, Mongolian separator
    *range(0x200B, 0x200D),  # zero-width space, non-joiner
    0x200E,
    0x200F,  # LRM, RLM
    *range(0x202A, 0x202F),  # LRE, RLE, PDF, LRO, RLO
    *range(0x2060, 0x2065),  # word joiner, invisible operators
    *range(0x2066, 0x206A),  # LRI, RLI, FSI, PDI
    *range(0x206A, 0x2070),  # deprecated format controls
    0x3164,
    0xFEFF,
    0xFFA0,  # Hangul fillers, zero-width no-break space
    *range(0xFFF9, 0xFFFC),  # interlinear annotation controls
]
_TABLE.update({c: f"<U+{c:04X}>" for c in _INVISIBLE})
# A lone surrogate (only in text decoded with surrogateescape or from broken JSON) has
# no width a terminal agrees on: it became a shifted sidebar border.
_TABLE.update({c: 0xFFFD for c in range(0xD800, 0xE000)})


def clean(text: str) -> str:
    """``text`` with every control character made visible (or dropped, for CR)."""
    if text.isprintable():
        return text
    return text.translate(_TABLE)


def one_line(text: str, width: int = 80) -> str:
    flat = clean(text).replace("\n", " ").replace("\t", " ")
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# A span longer than this is a clock (or a server) gone wrong, not a real wait.
_LONGEST_SPAN = 365 * 24 * 3600.0


def duration(seconds: float | None) -> str:
    """``12s``, ``1m03s``, ``2h05m``; a negative span is ``0s``.

    A span that is not a number (None, NaN, an infinity, a value the server sent that
    no clock could produce) is shown as the localized "unknown", never a crash.
    """
    try:
        known = seconds is not None and math.isfinite(seconds) and seconds <= _LONGEST_SPAN
    except (TypeError, ValueError, OverflowError):
        known = False
    if not known:
        return t("time.unknown")
    s = max(0, int(seconds))  # type: ignore[arg-type]
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"
