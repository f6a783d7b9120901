"""Start ``opencode serve`` for the user when no URL is given, and never leave it behind.

The server listens on 127.0.0.1 on a free port, with a password generated for this run
and passed through the environment (never on the command line, never on disk). It gets
its own process group (so its children go with it) and, on Linux, is told to die with
t3tui even when t3tui is killed outright (``PR_SET_PDEATHSIG``). opencode runs shell
commands (the bash tool, ``/session/:id/shell``) detached, in sessions of their own, so
``stop()`` also signals the process group of every descendant it finds in /proc.
"""

from __future__ import annotations

import contextlib
import ctypes
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
        self.username = "opencode"
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"opencode-{self.port}.log"
        self.cwd = cwd
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self._stopped = False

    def start(self, timeout: float = 60.0, progress: Callable[[float], None] | None = None) -> None:
        """Start and wait until ``/global/health`` answers; raise ServerError if not."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(self.extra_env)
        env["OPENCODE_SERVER_PASSWORD"] = self.password
        env.pop("OPENCODE_SERVER_USERNAME", None)
        with open(self.log_path, "wb") as log:
            try:
                self.proc = subprocess.Popen(
                    [self.binary, "serve", "--hostname", "127.0.0.1", "--port", str(self.port)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.cwd,
                    env=env,
                    start_new_session=True,
                    preexec_fn=_die_with_parent
                    if threading.current_thread() is threading.main_thread()
                    else None,
                )
            except OSError as exc:
                raise ServerError(f"cannot start {self.binary}: {exc.strerror or exc}") from exc
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

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        tail = text.strip().splitlines()[-lines:]
        return "\n".join("    " + line for line in tail) or "    (empty)"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM to the server's process group and its descendants' groups, SIGKILL if they linger."""
        proc = self.proc
        if proc is None or self._stopped:
            return
        self._stopped = True
        # Before the server goes: its detached shell commands are reparented once it exits.
        groups = {proc.pid} | (_descendant_groups(proc.pid) if proc.poll() is None else set())

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
