"""Recently picked models and each model's reasoning-effort variant, kept on disk as opencode keeps them.

opencode keeps both in ``$XDG_STATE_HOME/opencode/model.json``: ``recent`` (newest first,
no duplicates, at most 10) and ``variant`` (``"provider/model"`` -> a variant name, or
``"default"`` for none). t3tui keeps the same shape in its own state directory, so a
user moving between the two finds the same habits; while t3tui has no file of its own
it starts from opencode's (read, never written).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

RECENT_MAX = 10
DEFAULT = "default"  # the stored value for "no variant", as opencode stores it

Model = tuple[str, str]  # (provider id, model id)


def opencode_state_file() -> Path:
    """opencode's own ``model.json`` (its recents and variants)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "opencode" / "model.json"


def key(model: Model) -> str:
    return f"{model[0]}/{model[1]}"


class ModelMemory:
    """Recent models and the variant picked per model, in ``models.json`` in the state directory.

    A file that cannot be read or is not what t3tui wrote is ignored (``error`` says
    why): it must never keep the picker from opening. Writes replace the file through a
    temporary one, so a crash mid-write keeps the previous file.
    """

    def __init__(self, state_dir: Path | None, seed: Path | None = None) -> None:
        """``seed``: a file of the same shape (opencode's) to start from while
        ``state_dir`` holds none; None reads nothing else."""
        self.path = state_dir / "models.json" if state_dir is not None else None
        self.recent: list[Model] = []
        self.variants: dict[str, str] = {}
        self.error: str | None = None
        if self.path is not None and self.path.exists():
            self.error = self._read(self.path)
        elif self.path is not None and seed is not None and seed.is_file():
            self._read(seed)  # someone else's file: a problem with it is not t3tui's to report

    def _read(self, path: Path) -> str | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return str(exc)
        if not isinstance(data, dict):
            return "not a JSON object"
        recent: list[Model] = []
        for item in data.get("recent") or []:
            if not isinstance(item, dict):
                continue
            pid, mid = item.get("providerID"), item.get("modelID")
            if isinstance(pid, str) and isinstance(mid, str) and pid and mid and (pid, mid) not in recent:
                recent.append((pid, mid))
        self.recent = recent[:RECENT_MAX]
        variants = data.get("variant")
        if isinstance(variants, dict):
            self.variants = {k: v for k, v in variants.items() if isinstance(k, str) and isinstance(v, str)}
        return None

    def remember(self, model: Model) -> None:
        """``model`` was picked: it goes first."""
        self.recent = [model, *(m for m in self.recent if m != model)][:RECENT_MAX]
        self.save()

    def variant(self, model: Model) -> str | None:
        """The variant stored for ``model``: a name, ``"default"`` (picked none) or None (never asked)."""
        return self.variants.get(key(model))

    def set_variant(self, model: Model, variant: str | None) -> None:
        self.variants[key(model)] = variant or DEFAULT
        self.save()

    def save(self) -> None:
        if self.path is None:
            return
        data: dict[str, Any] = {
            "recent": [{"providerID": p, "modelID": m} for p, m in self.recent],
            "variant": self.variants,
        }
        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".models-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False, indent=2)
            os.replace(tmp, self.path)
            self.error = None
        except OSError as exc:
            self.error = str(exc)
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
