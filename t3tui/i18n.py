"""Localization: every user-visible string comes from a catalog in ``locales/``.

Catalogs are flat JSON objects (``key -> text``) with ``{name}`` placeholders. They ship
inside the wheel as ``t3tui/locales``; in a source checkout they are read from the
top-level ``locales/`` folder.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

DEFAULT = "en"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def locale_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent
    return [here / "locales", here.parent / "locales"]


def available() -> list[str]:
    names: set[str] = set()
    for d in locale_dirs():
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.json"))
    return sorted(names)


@cache
def catalog(lang: str) -> dict[str, str]:
    for d in locale_dirs():
        path = d / f"{lang}.json"
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            return {str(k): str(v) for k, v in data.items()}
    return {}


def normalize(tag: str | None) -> str | None:
    """``zh_CN.UTF-8`` -> ``zh``; ``C``/``POSIX`` and unknown languages -> None."""
    if not tag:
        return None
    base = re.split(r"[_.@-]", tag.strip(), maxsplit=1)[0].lower()
    if base in ("", "c", "posix"):
        return None
    return base if base in available() else None


def choose_language(
    cli: str | None = None, config: str | None = None, env: Mapping[str, str] | None = None
) -> str:
    """``--lang``, then config, then ``LC_ALL``/``LC_MESSAGES``/``LANG``, then English."""
    env = os.environ if env is None else env
    for candidate in (cli, config, env.get("LC_ALL"), env.get("LC_MESSAGES"), env.get("LANG")):
        lang = normalize(candidate)
        if lang:
            return lang
    return DEFAULT


class _Keep(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Translator:
    def __init__(self, lang: str = DEFAULT) -> None:
        self.lang = lang

    def set_language(self, lang: str) -> None:
        self.lang = normalize(lang) or DEFAULT

    def __call__(self, key: str, /, **values: object) -> str:
        text = catalog(self.lang).get(key)
        if text is None:
            text = catalog(DEFAULT).get(key, key)
        if values:
            return PLACEHOLDER.sub(lambda m: str(_Keep(values)[m[1]]), text)
        return text


# The process-wide translator; the app switches its language at runtime.
t = Translator()
