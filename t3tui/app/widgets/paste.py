"""What a paste into the prompt becomes: the text, a ``[Pasted ~N lines]`` token, or a file part.

As opencode 1.18.33's own prompt does (docs/dev/opencode-prompt-1.18.33.md, sections 7
and 8): a paste is normalised (``\\r\\n`` and ``\\r`` become ``\\n``) and trimmed; a pasted
path to an image or a PDF is attached as a ``file`` part (a ``data:`` URL) with an
``[Image N]`` / ``[PDF N]`` token in the text; a paste of 3 lines or more, or of more than
150 characters, is shown as a token and sent in full. No Textual here: the prompt widget
calls it, and it is tested alone. The only I/O is reading the file to attach.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

SUMMARY_LINES = 3  # a paste of this many lines or more becomes a token
SUMMARY_CHARS = 150  # so does one longer than this
MAX_FILE_BYTES = 10 * 1024 * 1024  # a larger file is refused, not attached
MAX_PATH_CHARS = 4096

MIME_TYPES = {
    ".avif": "image/avif",
    ".gif": "image/gif",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}
SVG = "image/svg+xml"


class TooLarge(Exception):
    """The file is larger than the limit: attaching it would send megabytes per prompt."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes (limit {limit})")
        self.size = size
        self.limit = limit


def normalize(text: str) -> str:
    """Line ends as ``\\n``, as the prompt holds them."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def summary_label(content: str) -> str | None:
    """The token for a trimmed paste that is too long to show, or None to insert it as is.

    Always "lines", even ``[Pasted ~1 lines]`` for one long line (as opencode writes it).
    """
    lines = content.count("\n") + 1
    if lines >= SUMMARY_LINES or len(content) > SUMMARY_CHARS:
        return f"[Pasted ~{lines} lines]"
    return None


def numbered(base: str, n: int) -> str:
    """``[Pasted ~3 lines]`` -> ``[Pasted ~3 lines #2]``: the same label, told apart."""
    return base if n <= 1 else f"{base[:-1]} #{n}]"


def parse_path(text: str) -> str | None:
    """The path a paste names, as opencode reads it (quotes stripped, ``file://`` URLs and
    backslash escapes undone), or None when it cannot be one (several lines, a web URL)."""
    text = text.strip()
    if not text or "\n" in text or "\x00" in text or len(text) > MAX_PATH_CHARS:
        return None
    text = text.strip("'\"")
    if re.match(r"^https?://", text):
        return None
    if text.startswith("file://"):
        url = urlparse(text)
        if url.netloc not in ("", "localhost"):
            return None
        return unquote(url.path) or None
    return re.sub(r"\\(.)", r"\1", text) or None


def mime_of(path: str) -> str | None:
    """The mime type by extension, for the files a paste attaches; None for any other."""
    return MIME_TYPES.get(os.path.splitext(path)[1].lower())


def attachable(text: str, cwd: str | None = None) -> tuple[str, str] | None:
    """``(absolute path, mime)`` when the paste names an existing image, PDF or SVG file."""
    path = parse_path(text)
    if path is None:
        return None
    mime = mime_of(path)
    if mime is None:
        return None
    path = os.path.abspath(os.path.join(cwd or os.getcwd(), os.path.expanduser(path)))
    try:
        return (path, mime) if os.path.isfile(path) else None
    except (OSError, ValueError):
        return None


def read_file(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes; raises TooLarge past ``limit`` (checked before and while reading)."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise TooLarge(size, limit)
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(len(data), limit)
    return data


@dataclass(frozen=True)
class FileAttachment:
    """An attached image or PDF: sent as a ``file`` part, its token stays in the text."""

    token: str
    mime: str
    path: str
    data: str  # base64

    def part(self, start: int) -> dict[str, Any]:
        return {
            "type": "file",
            "mime": self.mime,
            "filename": os.path.basename(self.path),
            "url": f"data:{self.mime};base64,{self.data}",
            "source": {
                "type": "file",
                "path": self.path,
                "text": {"start": start, "end": start + len(self.token), "value": self.token},
            },
        }


class Attachments:
    """What the prompt's tokens stand for: pasted texts and attached files, by token.

    A token the user deleted simply stops counting (``expand`` and ``file_parts`` only
    look at tokens still in the text); its entry stays until ``clear`` so that an undo
    brings it back whole. A new token is never one already in the text, in another
    entry, or in a pasted text: expanding never touches text that was pasted.
    """

    def __init__(self) -> None:
        self.pastes: dict[str, str] = {}
        self.files: dict[str, FileAttachment] = {}

    def _taken(self, token: str, text: str, extra: str = "") -> bool:
        return (
            token in self.pastes
            or token in self.files
            or token in text
            or token in extra
            or any(token in content for content in self.pastes.values())
        )

    def add_text(self, content: str, label: str, text: str) -> str:
        """Keep ``content`` behind a token made from ``label``; returns the token."""
        n = 1
        while self._taken(numbered(label, n), text, content):
            n += 1
        token = numbered(label, n)
        self.pastes[token] = content
        return token

    def add_file(self, path: str, mime: str, data: bytes, text: str) -> str:
        """Attach a file; its token is ``[Image N]`` (``[PDF N]``), N after those in ``text``."""
        pdf = mime == "application/pdf"
        kind = "PDF" if pdf else "Image"
        n = 1 + sum(
            1 for tok, f in self.files.items() if tok in text and (f.mime == "application/pdf") == pdf
        )
        while self._taken(f"[{kind} {n}]", text):
            n += 1
        token = f"[{kind} {n}]"
        self.files[token] = FileAttachment(token, mime, path, base64.b64encode(data).decode("ascii"))
        return token

    def expand(self, text: str) -> str:
        """``text`` with the first occurrence of each paste token replaced by its text, in
        one pass (a pasted text that looks like a token stays as it was pasted)."""
        present = [tok for tok in self.pastes if tok in text]
        if not present:
            return text
        pattern = re.compile("|".join(re.escape(tok) for tok in sorted(present, key=len, reverse=True)))
        done: set[str] = set()

        def swap(match: re.Match[str]) -> str:
            token = match.group(0)
            if token in done:
                return token
            done.add(token)
            return self.pastes[token]

        return pattern.sub(swap, text)

    def file_parts(self, text: str) -> list[dict[str, Any]]:
        """The parts of the files whose token is in ``text``, placed where it is, in order."""
        found = [(text.find(tok), f) for tok, f in self.files.items()]
        return [f.part(start) for start, f in sorted(found, key=lambda x: x[0]) if start >= 0]

    def restore(self, parts: Iterable[Mapping[str, Any]]) -> None:
        """Take back the file parts of a prompt that was not sent (its text goes back into
        the input, tokens included). Other parts (``file://`` mentions) are not ours."""
        for part in parts:
            source = part.get("source") or {}
            token = (source.get("text") or {}).get("value")
            url = str(part.get("url", ""))
            prefix = f"data:{part.get('mime')};base64,"
            if part.get("type") == "file" and token and url.startswith(prefix):
                path = str(source.get("path") or part.get("filename") or "")
                self.files[token] = FileAttachment(token, str(part["mime"]), path, url[len(prefix) :])

    def drop_pastes(self) -> None:
        self.pastes.clear()

    def clear(self) -> None:
        self.pastes.clear()
        self.files.clear()
