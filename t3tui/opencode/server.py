"""Start ``opencode serve`` for the user when no URL is given, and never leave it behind.

The server listens on 127.0.0.1 on a free port, with a password generated for this run
and passed through the environment (never on the command line, never on disk): opencode
reads its password from ``OPENCODE_SERVER_PASSWORD`` only. So that the shell commands and
tools opencode runs do not inherit it (a bash tool running ``env`` would hand it to the
model provider), t3tui gives opencode a tiny plugin, a file in t3tui's log directory
named by ``OPENCODE_CONFIG_CONTENT``, that deletes the variable from opencode's
``process.env`` once the server has read it (see :func:`write_scrub_plugin`). It gets
its own process group (so its children go with it) and, on Linux, is told to die with
t3tui even when t3tui is killed outright (``PR_SET_PDEATHSIG``). opencode runs shell
commands (the bash tool, ``/session/:id/shell``) detached, in sessions of their own, so
``stop()`` also signals the process group of every descendant it finds in /proc.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from t3tui import logs
from t3tui.text import clean

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "opencode is not installed. Install it with:\n"
    "    npm install -g opencode-ai\n"
    "(without root: npm install -g --prefix ~/.local opencode-ai, with ~/.local/bin on PATH,\n"
    "or next to t3tui: npm install -g --prefix <your venv> opencode-ai)\n"
    "or connect to a server that is already running with:\n"
    "    t3tui --url http://127.0.0.1:4096"
)


class ServerError(Exception):
    """The embedded server could not be started. The message says what to do."""


def find_opencode(configured: str | None = None) -> str | None:
    """The configured path, else ``opencode`` on PATH, else next to t3tui's own Python
    (``npm install -g --prefix .venv opencode-ai`` puts it in the venv's ``bin``)."""
    if configured:
        path = Path(configured).expanduser()
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    found = shutil.which("opencode")
    if found:
        return found
    beside = Path(sys.executable).parent / "opencode"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def not_found_message(configured: str | None, source: str) -> str:
    """What to say when :func:`find_opencode` found nothing: the configured path and the
    place that set it (``source``: the config file's line or the environment variable),
    else where t3tui looked; then how to install opencode."""
    if configured:
        return (
            f"error: opencode_path {configured} (set by {source}) is not an executable file.\n" + INSTALL_HINT
        )
    return (
        f"error: no opencode on PATH nor in {Path(sys.executable).parent}, and no opencode_path "
        f"set (config file or $T3TUI_OPENCODE_PATH).\n" + INSTALL_HINT
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    if _PRCTL is not None:
        _PRCTL(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG


# Held back while the server's process is created (see EmbeddedServer.start).
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def _child_setup(mask: set[signal.Signals]) -> Callable[[], None]:
    """The new process's setup: t3tui's signal mask back, then die with t3tui."""

    def setup() -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        _die_with_parent()

    return setup


def _descendant_groups(pid: int) -> set[int]:
    """Process groups of ``pid``'s descendants (Linux /proc; empty elsewhere), never our own."""
    children: dict[int, list[int]] = {}
    pgids: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return set()
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                raw = f.read().decode(errors="replace")
            fields = raw[raw.rindex(")") + 2 :].split()
            ppid, pgid = int(fields[1]), int(fields[2])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        pgids[int(entry)] = pgid
    groups: set[int] = set()
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        groups.add(pgids[child])
        todo.extend(children.get(child, []))
    groups.discard(os.getpgrp())
    return groups


SCRUB_PLUGIN = """\
// Written by t3tui for the opencode servers it starts (each start writes it again).
// opencode reads its server password from OPENCODE_SERVER_PASSWORD when it starts; this
// forgets it, so that the shell commands and tools opencode runs (they get a copy of
// process.env) do not inherit it.
export const T3tuiForgetServerPassword = async () => {
  delete process.env.OPENCODE_SERVER_PASSWORD;
  return {};
};
"""


PLUGIN_NAME = "t3tui-forget-server-password.js"


def write_scrub_plugin(directory: Path) -> str:
    """Write the plugin (mode 0600) into ``directory`` and return its spec.

    The file is replaced whole, so that a server starting meanwhile never reads half of
    it. It holds no secret and stays for the next start: nothing is left behind in /tmp
    when t3tui is killed outright.
    """
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / PLUGIN_NAME
    tmp = directory / f".{PLUGIN_NAME}.{os.getpid()}.tmp"
    try:
        with os.fdopen(logs.open_private(tmp), "w", encoding="utf-8") as fh:
            fh.write(SCRUB_PLUGIN)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return path.as_uri()


def with_plugin(config_content: str | None, spec: str) -> str | None:
    """``OPENCODE_CONFIG_CONTENT`` with ``spec`` added to its ``plugin`` list; None when
    the user's own content is not a JSON object t3tui can extend."""
    if not config_content or not config_content.strip():
        return json.dumps({"plugin": [spec]})
    try:
        config = json.loads(config_content)
    except ValueError:
        return None
    if not isinstance(config, dict):
        return None
    plugins = config.get("plugin", [])
    if not isinstance(plugins, list):
        return None
    config["plugin"] = [*plugins, spec]
    return json.dumps(config)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true")


class EmbeddedServer:
    def __init__(
        self,
        binary: str,
        *,
        log_dir: Path,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.password = secrets.token_urlsafe(24)
        logs.add_secret(self.password)
        self.username = "opencode"
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"opencode-{self.port}.log"
        self.cwd = cwd
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self._stopped = False
        self._groups: set[int] | None = None
        # Whether the tools opencode runs are kept from inheriting the password.
        self.password_hidden_from_tools = False

    def start(self, timeout: float = 60.0, progress: Callable[[float], None] | None = None) -> None:
        """Start and wait until ``/global/health`` answers; raise ServerError if not."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = dict(os.environ)
        env.update(self.extra_env)
        env["OPENCODE_SERVER_PASSWORD"] = self.password
        env.pop("OPENCODE_SERVER_USERNAME", None)
        # The server's log holds whole conversations: private to the user.
        try:
            log_fd = logs.open_private(self.log_path)
        except OSError as exc:
            raise ServerError(
                f"cannot write the server's log {self.log_path}: {exc.strerror or exc}"
            ) from exc
        self._hide_password(env)
        # Ctrl+C or SIGTERM while Popen runs would leave a server that self.proc does not
        # hold yet, so that nothing stops it: in the main thread (where Python handles
        # signals) they wait until it does. The child gets the old mask back.
        main = threading.current_thread() is threading.main_thread()
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS) if main else None
        try:
            with os.fdopen(log_fd, "wb") as log:
                self.proc = subprocess.Popen(
                    [self.binary, "serve", "--hostname", "127.0.0.1", "--port", str(self.port)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.cwd,
                    env=env,
                    start_new_session=True,
                    preexec_fn=_child_setup(mask) if mask is not None else None,
                )
        except OSError as exc:
            raise ServerError(f"cannot start {self.binary}: {exc.strerror or exc}") from exc
        finally:
            if mask is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a held signal is raised here
        started = time.monotonic()
        auth = (self.username, self.password)
        while True:
            elapsed = time.monotonic() - started
            if progress is not None:
                progress(elapsed)
            code = self.proc.poll()
            if code is not None:
                raise ServerError(
                    f"opencode exited with code {code} before it was ready.\n"
                    f"Its log is {self.log_path}:\n{self.log_tail()}"
                )
            try:
                resp = httpx.get(f"{self.url}/global/health", auth=auth, timeout=2.0)
                if resp.is_success:
                    return
            except httpx.HTTPError:
                pass
            if elapsed > timeout:
                self.stop()
                raise ServerError(
                    f"opencode did not answer within {timeout:.0f}s.\n"
                    f"Its log is {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.2)

    def _hide_password(self, env: dict[str, str]) -> None:
        """Arrange for opencode to forget its password once read (see the module doc)."""
        if _truthy(env.get("OPENCODE_PURE")):
            log.warning("OPENCODE_PURE is set: opencode loads no plugin, its tools inherit its password")
            return
        try:
            spec = write_scrub_plugin(self.log_path.parent)
        except OSError as exc:
            log.warning("cannot write the plugin that hides the password from tools: %s", exc)
            return
        content = with_plugin(env.get("OPENCODE_CONFIG_CONTENT"), spec)
        if content is None:
            log.warning("OPENCODE_CONFIG_CONTENT is not a JSON object: opencode's tools inherit its password")
            return
        env["OPENCODE_CONFIG_CONTENT"] = content
        self.password_hidden_from_tools = True

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        tail = text.strip().splitlines()[-lines:]
        # Shown on the terminal: without secrets, and without escape codes.
        return "\n".join("    " + clean(logs.redact_text(line)) for line in tail) or "    (empty)"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM to the server's process group and its descendants' groups, SIGKILL if they linger."""
        proc = self.proc
        if proc is None or self._stopped:
            return
        # Before the server goes: its detached shell commands are reparented once it exits.
        # Kept, so that a stop cut short (a signal) can be done again (atexit) in full.
        if self._groups is None:
            self._groups = {proc.pid} | (_descendant_groups(proc.pid) if proc.poll() is None else set())
        groups = self._groups

        def signal_all(sig: int) -> None:
            for pgid in groups:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pgid, sig)

        signal_all(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            signal_all(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
        signal_all(signal.SIGKILL)  # children that outlived the leader
        self._stopped = True
