"""Settings: a TOML file in the platformdirs config dir, overridden by the environment.

The file is ``$T3TUI_CONFIG`` when that is set (any path; it need not exist), else
``config.toml`` in the platformdirs config directory (``~/.config/t3tui`` on Linux).
Bad config never stops t3tui: each problem becomes a sentence that names the key and
its line, and that key falls back to its default. Each setting remembers where its
value came from (``Settings.source``), so that a message about it names that place.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

APP = "t3tui"
KNOWN = {
    "url": str,
    "username": str,
    "language": str,
    "theme": str,
    "opencode_path": str,
    "keys": dict,
    "bell": bool,
    "notify": str,
    "attention_first": bool,
}
KIND_NAMES = {str: "a string", dict: "a table", bool: "true or false"}
# How a thread that needs the user is announced (app/controllers/attention.py): an OSC 9
# or OSC 777 desktop notification, whichever the terminal speaks ("auto"), or none.
NOTIFY = ("auto", "osc9", "osc777", "off")
ENV = {
    "url": "T3TUI_URL",
    "username": "T3TUI_USERNAME",
    "language": "T3TUI_LANG",
    "theme": "T3TUI_THEME",
    "opencode_path": "T3TUI_OPENCODE_PATH",
}
EXAMPLE = """\
# t3tui settings. Every key is optional.
# url = "http://127.0.0.1:4096"    # connect to this server instead of starting one
# username = "opencode"
# language = "zh"                  # en, zh
# theme = "textual-dark"
# opencode_path = "/usr/local/bin/opencode"
# bell = true                      # ring when a thread not on screen finishes, fails or asks
# notify = "auto"                  # desktop notification then: auto, osc9, osc777, off
# attention_first = false          # threads that need you first in the sidebar
#
# [keys]                           # remap keys by binding id
# new_thread = "ctrl+t"
"""


def config_path() -> Path:
    override = os.environ.get("T3TUI_CONFIG")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP))


@dataclass
class Settings:
    url: str | None = None
    username: str | None = None
    language: str | None = None
    theme: str | None = None
    opencode_path: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    bell: bool = True
    notify: str = "auto"
    attention_first: bool | None = None  # None: as last toggled in the app
    path: Path | None = None
    problems: list[str] = field(default_factory=list)
    # Where each setting that has a value got it: "FILE:LINE" or "$VARIABLE".
    sources: dict[str, str] = field(default_factory=dict)

    def source(self, key: str) -> str:
        """Where ``key``'s value came from, for a message: the config file and its line, or
        the environment variable (``$T3TUI_OPENCODE_PATH``); "the default" if unset."""
        return self.sources.get(key, "the default")


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^[ \t]*(?:\"{re.escape(key)}\"|{re.escape(key)})[ \t]*=", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _where(path: Path, text: str, key: str) -> str:
    line = _line_of(text, key)
    return f"{path}:{line}" if line else str(path)


def parse(text: str, path: Path) -> Settings:
    settings = Settings(path=path)
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        settings.problems.append(f"{path}: not valid TOML ({exc}); using the defaults")
        return settings
    for key, value in data.items():
        kind = KNOWN.get(key)
        where = _where(path, text, key)
        if kind is None:
            settings.problems.append(
                f"{where}: unknown key '{key}' ignored (known: {', '.join(sorted(KNOWN))})"
            )
            continue
        if not isinstance(value, kind):
            settings.problems.append(
                f"{where}: '{key}' must be {KIND_NAMES[kind]}, not {type(value).__name__}; using the default"
            )
            continue
        if kind is bool:
            setattr(settings, key, value)
            settings.sources[key] = where
            continue
        if key == "keys":
            for binding, keys in value.items():
                if isinstance(keys, str) and keys.strip():
                    settings.keys[str(binding)] = keys.strip()
                else:
                    line = _where(path, text, str(binding))
                    settings.problems.append(f'{line}: keys.{binding} must be a key name such as "ctrl+t"')
            continue
        setattr(settings, key, value.strip() or None)
        if value.strip():
            settings.sources[key] = where
    if settings.url and not re.match(r"^https?://", settings.url):
        settings.problems.append(
            f"{_where(path, text, 'url')}: 'url' must start with http:// or https://; ignored"
        )
        settings.url = None
        settings.sources.pop("url", None)
    notify = (settings.notify or "auto").lower()
    if notify not in NOTIFY:
        settings.problems.append(
            f"{_where(path, text, 'notify')}: 'notify' must be one of {', '.join(NOTIFY)}, "
            f"not {settings.notify!r}; using auto"
        )
        notify = "auto"
        settings.sources.pop("notify", None)
    settings.notify = notify
    return settings


def load(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    path = path or config_path()
    env = os.environ if env is None else env
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        settings = Settings(path=path)
    except (OSError, UnicodeDecodeError) as exc:
        settings = Settings(path=path, problems=[f"{path}: cannot be read ({exc}); using the defaults"])
    else:
        settings = parse(text, path)
    for key, var in ENV.items():
        value = env.get(var)
        if value:
            setattr(settings, key, value)
            settings.sources[key] = f"${var}"
    if not settings.username and env.get("OPENCODE_SERVER_USERNAME"):
        settings.username = env["OPENCODE_SERVER_USERNAME"]
        settings.sources["username"] = "$OPENCODE_SERVER_USERNAME"
    return settings
