"""Per-thread drafts and the prompt history, kept on disk so that nothing typed is lost across restarts."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

HISTORY_MAX = 500


class Drafts:
    """Per-thread drafts and the prompt history, in the platformdirs state directory.

    Writes go to a temporary file that replaces the old one, so a crash mid-write
    never loses the previous drafts. They hold conversation text, so, like the logs,
    the file is private: mode 0600 whatever the umask (``mkstemp`` creates it so, and
    ``os.replace`` keeps it), in a directory t3tui creates 0700.
    """

    def __init__(self, state_dir: Path | None) -> None:
        self.path = state_dir / "drafts.json" if state_dir is not None else None
        self.drafts: dict[str, str] = {}
        self.prompt_history: list[str] = []
        self.error: str | None = None
        if self.path is not None and self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self.drafts = {str(k): str(v) for k, v in (data.get("drafts") or {}).items()}
                self.prompt_history = [str(h) for h in (data.get("history") or [])][-HISTORY_MAX:]
            except (OSError, ValueError, AttributeError) as exc:
                self.error = str(exc)

    def get(self, key: str) -> str:
        return self.drafts.get(key, "")

    def set(self, key: str, text: str) -> None:
        if text:
            self.drafts[key] = text
        else:
            self.drafts.pop(key, None)

    def remember(self, text: str) -> None:
        if text.strip() and (not self.prompt_history or self.prompt_history[-1] != text):
            self.prompt_history.append(text)
            del self.prompt_history[:-HISTORY_MAX]

    def save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".drafts-", suffix=".json")  # 0600
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"drafts": self.drafts, "history": self.prompt_history}, fh, ensure_ascii=False)
            os.replace(tmp, self.path)
            self.error = None
        except OSError as exc:
            self.error = str(exc)
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)
