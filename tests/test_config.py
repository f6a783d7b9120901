"""Config parsing: bad input names the key and line, then falls back; env overrides."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from t3tui import logs
from t3tui.config import load, parse

P = Path("/home/dev/.config/t3tui/config.toml")


def test_valid_config() -> None:
    s = parse(
        'url = "http://127.0.0.1:4096"\nlanguage = "zh"\ntheme = "nord"\n[keys]\nnew_thread = "ctrl+t"\n', P
    )
    assert s.problems == []
    assert (s.url, s.language, s.theme, s.keys) == (
        "http://127.0.0.1:4096",
        "zh",
        "nord",
        {"new_thread": "ctrl+t"},
    )


def test_wrong_type_names_key_and_line() -> None:
    s = parse('# comment\nlanguage = "en"\ntheme = 42\n', P)
    assert s.theme is None and s.language == "en"
    assert s.problems == [f"{P}:3: 'theme' must be a string, not int; using the default"]


def test_unknown_key_names_line() -> None:
    s = parse('\n\ncolour = "red"\n', P)
    assert len(s.problems) == 1 and s.problems[0].startswith(f"{P}:3: unknown key 'colour'")


def test_broken_toml_falls_back_to_defaults() -> None:
    s = parse('url = "http://x\nlanguage = zh\n', P)
    assert s.url is None and s.language is None
    assert "not valid TOML" in s.problems[0] and "line 1" in s.problems[0]


def test_bad_url_and_bad_key_binding() -> None:
    s = parse('url = "localhost:4096"\n[keys]\nquit = 5\n', P)
    assert s.url is None
    assert any("'url' must start with http" in p and ":1:" in p for p in s.problems)
    assert any("keys.quit" in p and ":3:" in p for p in s.problems)


def test_env_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('url = "http://127.0.0.1:1"\nlanguage = "en"\n', encoding="utf-8")
    s = load(
        path, env={"T3TUI_URL": "http://127.0.0.1:2", "T3TUI_LANG": "zh", "OPENCODE_SERVER_USERNAME": "me"}
    )
    assert (s.url, s.language, s.username) == ("http://127.0.0.1:2", "zh", "me")
    assert load(tmp_path / "missing.toml", env={}).problems == []


def test_unreadable_config_is_a_message(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe garbage")
    s = load(path, env={})
    assert s.problems and "cannot be read" in s.problems[0]


def test_config_path_flag(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "t3tui", "--config-path"],
        capture_output=True,
        text=True,
        env={"T3TUI_CONFIG": str(tmp_path / "c.toml"), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert out.stdout.strip() == str(tmp_path / "c.toml")


def test_invalid_config_never_tracebacks(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("theme = [1, 2\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "t3tui", "--url", "not a url"],
        capture_output=True,
        text=True,
        env={"T3TUI_CONFIG": str(cfg), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=60,
    )
    assert "Traceback" not in out.stderr
    assert "not valid TOML" in out.stderr
    assert out.returncode == 2 and "http://127.0.0.1:4096" in out.stderr


def test_log_redaction() -> None:
    logs.add_secret("hunter2-password")
    line = (
        "Authorization: Basic b3BlbmNvZGU6aHVudGVy password=hunter2-password "
        '{"apiKey": "sk-abcdefghijkl"} http://opencode:pw123@127.0.0.1:4096/x'
    )
    red = logs.redact_text(line)
    for secret in ("b3BlbmNvZGU6aHVudGVy", "hunter2-password", "sk-abcdefghijkl", "pw123"):
        assert secret not in red
    assert "127.0.0.1:4096/x" in red


def test_each_setting_knows_where_it_came_from(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('# mine\nurl = "http://127.0.0.1:1"\n\nopencode_path = "/opt/oc"\n', encoding="utf-8")
    s = load(path, env={"T3TUI_LANG": "zh", "OPENCODE_SERVER_USERNAME": "me"})
    assert s.source("url") == f"{path}:2"
    assert s.source("opencode_path") == f"{path}:4"
    assert s.source("language") == "$T3TUI_LANG"
    assert s.source("username") == "$OPENCODE_SERVER_USERNAME"
    assert s.source("theme") == "the default"
    s = load(path, env={"T3TUI_OPENCODE_PATH": "/nope"})
    assert (s.opencode_path, s.source("opencode_path")) == ("/nope", "$T3TUI_OPENCODE_PATH")
    assert parse('url = "localhost:1"\n', P).source("url") == "the default"  # ignored


def run_without_opencode(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``t3tui`` with no opencode anywhere (an empty PATH, a Python outside any venv that
    has one): it says what it looked for and exits 1 before any screen."""
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    base = {
        "PATH": str(empty),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    return subprocess.run(
        [sys.executable, "-m", "t3tui"],
        capture_output=True,
        text=True,
        env={**base, **env},
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_missing_opencode_path_names_the_variable_that_set_it(tmp_path: Path) -> None:
    config = tmp_path / "config" / "t3tui" / "config.toml"  # the default place; it does not exist
    out = run_without_opencode(tmp_path, T3TUI_OPENCODE_PATH="/nope")
    assert out.returncode == 1, out.stderr
    assert "opencode_path /nope (set by $T3TUI_OPENCODE_PATH) is not an executable file" in out.stderr
    assert str(config) not in out.stderr and "config.toml" not in out.stderr
    assert "npm install -g opencode-ai" in out.stderr


def test_missing_opencode_path_names_the_config_line_that_set_it(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('theme = "nord"\nopencode_path = "/nope"\n', encoding="utf-8")
    out = run_without_opencode(tmp_path, T3TUI_CONFIG=str(cfg))
    assert out.returncode == 1, out.stderr
    assert f"opencode_path /nope (set by {cfg}:2)" in out.stderr


@pytest.mark.skipif(
    (Path(sys.executable).parent / "opencode").exists(), reason="opencode is installed beside this Python"
)
def test_no_opencode_at_all_says_where_it_looked(tmp_path: Path) -> None:
    out = run_without_opencode(tmp_path, T3TUI_CONFIG=str(tmp_path / "none.toml"))
    assert out.returncode == 1, out.stderr
    assert "no opencode on PATH" in out.stderr and "npm install -g opencode-ai" in out.stderr
