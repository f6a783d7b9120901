"""Logging to the platformdirs log dir, with secrets redacted before anything is written.

This module also keeps t3tui's one registry of secret values (:func:`add_secret`): the
server password (from ``--password``, ``--password-file``, the URL, the environment or
the embedded server) and the provider API keys typed in the app. Everything t3tui
writes or shows goes through it: log lines (:func:`redact_text`), event logs
(``t3tui.eventlog``), error screens. Files that may hold conversations are created
private to the user (:func:`open_private`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import stat
from pathlib import Path
from urllib.parse import quote

_PATTERNS = [
    re.compile(r"(?i)(authorization\s*[:=]\s*)(basic|bearer)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:api[_-]?key|password|token|secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
    re.compile(r"\b(sk-)[A-Za-z0-9_-]{6,}"),
    re.compile(r"(https?://[^/\s:@]+:)[^@\s/]+(@)"),
]
_secrets: set[str] = set()
_forms: tuple[str, ...] = ()

# Shorter values are not redacted: replacing every "abc" would garble the text and a
# password that short protects nothing anyway.
MIN_SECRET = 4


def add_secret(value: str | None) -> None:
    """Remember a secret (a password, a key) so that nothing t3tui writes ever shows it.

    The forms it takes in JSON text and in URLs are remembered with it.
    """
    global _forms
    if not value or len(value) < MIN_SECRET or value in _secrets:
        return
    _secrets.add(value)
    forms = set(_forms)
    forms.add(value)
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    forms.add(json.dumps(value)[1:-1])
    forms.add(quote(value, safe=""))
    # Longest first, so that a secret that contains another is replaced whole.
    _forms = tuple(sorted((f for f in forms if len(f) >= MIN_SECRET), key=len, reverse=True))


def secret_forms() -> tuple[str, ...]:
    """Every registered secret in every form it is looked for, longest first."""
    return _forms


def scrub(text: str, forms: tuple[str, ...] | None = None) -> str:
    """``text`` with every registered secret value replaced by ``***``."""
    for form in _forms if forms is None else forms:
        if form in text:
            text = text.replace(form, "***")
    return text


def redact_text(text: str) -> str:
    """``text`` without registered secrets, basic-auth headers, keys or URL passwords."""
    text = scrub(text)
    text = _PATTERNS[0].sub(r"\1\2 ***", text)
    text = _PATTERNS[1].sub(r"\1***", text)
    text = _PATTERNS[2].sub(r"\1***", text)
    return _PATTERNS[3].sub(r"\1***\2", text)


def open_private(path: str | os.PathLike[str], *, append: bool = False) -> int:
    """Open ``path`` for writing as a file only its owner can read (mode 0600).

    A new file is created 0600 whatever the umask; an existing regular file is chmod-ed
    to 0600 (a device such as /dev/null is left alone). Returns the descriptor.
    """
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_APPEND if append else os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o077:
            with contextlib.suppress(OSError):  # not ours to change: write it anyway
                os.fchmod(fd, 0o600)
    except OSError:
        os.close(fd)
        raise
    return fd


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


def setup(log_dir: Path, debug: bool = False) -> Path | None:
    """Log to ``log_dir/t3tui.log`` (mode 0600); returns the path, or None if it cannot be written."""
    try:
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = log_dir / "t3tui.log"
        os.close(open_private(path, append=True))
        handler = logging.FileHandler(path, encoding="utf-8", errors="backslashreplace")
    except OSError:
        return None
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, logging.FileHandler)]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)
    return path
