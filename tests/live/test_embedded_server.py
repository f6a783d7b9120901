"""The embedded server: ``t3tui`` without ``--url`` starts ``opencode serve`` and never leaves it behind.

The app tests run the real CLI (``python -m t3tui``) in a pseudo-terminal, with HOME and the
XDG dirs isolated and pre-seeded the way the harness does it (offline, no plugin npm install,
the mock model as the only provider), and find the server as the t3tui process's child in
/proc. Every test kills whatever it started in ``finally``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from t3tui.opencode.server import EmbeddedServer, ServerError

from .mockmodel import MockModel
from .opencode_server import OpencodeServer

PY = sys.executable
BOOT = 60.0  # the first boot of a fresh HOME (database migration) can be slow on a busy machine
GONE = 5.0  # PR_SET_PDEATHSIG / stop(): the server is gone within this


# -- /proc ------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, pgrp) of ``pid``, or None if there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2])


def _pids() -> Iterator[int]:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            yield int(entry)


def alive(pid: int) -> bool:
    """Running (a zombie counts as gone: PID 1 in a container may never reap it)."""
    st = _stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def group(pgid: int) -> list[int]:
    """Live members of process group ``pgid``."""
    out = []
    for pid in _pids():
        st = _stat(pid)
        if st is not None and st[2] == pgid and st[0] not in ("Z", "X"):
            out.append(pid)
    return out


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    env = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.decode(errors="replace").partition("=")
        if sep:
            env[key] = value
    return env


def find_server(parent: int) -> tuple[int, int] | None:
    """(pid, port) of the ``opencode serve --hostname 127.0.0.1`` child of ``parent``."""
    for pid in _pids():
        st = _stat(pid)
        if st is None or st[1] != parent or st[0] in ("Z", "X"):
            continue
        argv = cmdline(pid)
        if (
            "serve" in argv
            and "--port" in argv
            and "--hostname" in argv
            and argv[argv.index("--hostname") + 1] == "127.0.0.1"
        ):
            return pid, int(argv[argv.index("--port") + 1])
    return None


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str | Callable[[], str]) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout:g}s waiting for {what() if callable(what) else what}"
            )
        time.sleep(0.05)


def health(port: int, auth: tuple[str, str] | None = None) -> int | None:
    """Status of GET /global/health (None while nothing answers)."""
    try:
        with httpx.Client(trust_env=False, timeout=2.0) as client:  # no proxies: loopback only
            return client.get(f"http://127.0.0.1:{port}/global/health", auth=auth).status_code
    except httpx.HTTPError:
        return None


# -- environment ------------------------------------------------------------------------


def isolated_env(root: Path, mock: MockModel | None, path: str) -> tuple[dict[str, str], Path]:
    """An env with HOME/XDG under ``root``, prepared like the harness's (offline, plugin deps
    pre-seeded, the mock model as provider), ``T3TUI_CONFIG`` in ``root`` and this ``PATH``.
    Returns the env and a project directory (a git repository) to run t3tui in."""
    harness = OpencodeServer(home=root, model_base_url=mock.base_url if mock else "http://127.0.0.1:9/v1")
    harness._write_config()
    env = {k: v for k, v in harness.env.items() if not k.startswith("T3TUI_")}
    env.update(
        PATH=path,
        TERM="xterm-256color",
        T3TUI_CONFIG=str(root / "t3tui.toml"),
        PYTHONUNBUFFERED="1",
    )
    for k in ("COLUMNS", "LINES", "NO_COLOR", "TEXTUAL", "TEXTUAL_DRIVER"):
        env.pop(k, None)
    return env, harness.project_dir("a")


def t3tui_log_dir(env: dict[str, str]) -> Path:
    return Path(env["XDG_STATE_HOME"]) / "t3tui" / "log"  # platformdirs.user_log_dir on Linux


# -- the app in a pseudo-terminal -------------------------------------------------------


class PtyApp:
    """``argv`` with a pty as its controlling terminal (stdin, stdout and stderr), in its own session."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, size: tuple[int, int] = (110, 32)):
        self.master, self.slave = os.openpty()
        cols, rows = size
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.proc = subprocess.Popen(
            argv,
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=self._as_from_a_terminal,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @staticmethod
    def _as_from_a_terminal() -> None:
        """In the child: the pty is its controlling terminal, and Ctrl+C's SIGINT is not
        ignored even when pytest was started with it ignored (``cmd &`` in a script)."""
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        # The slave stays open here (for tcgetattr), so the master never reads EOF: poll.
        while not self._done.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            with self._lock:
                self._buf.extend(data)

    @property
    def output(self) -> str:
        with self._lock:
            return self._buf.decode(errors="replace")

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def raw_mode(self) -> bool:
        return not termios.tcgetattr(self.slave)[3] & termios.ICANON

    def cooked(self) -> bool:
        lflag = termios.tcgetattr(self.slave)[3]
        return bool(lflag & termios.ICANON and lflag & termios.ECHO)

    def wait_ui(self, timeout: float = BOOT) -> None:
        """Until the app is in the alternate screen and raw mode (before that, the line
        discipline would eat ctrl+q as XON)."""
        wait_for(
            lambda: self.proc.poll() is not None or ("\x1b[?1049h" in self.output and self.raw_mode()),
            timeout,
            lambda: f"the app's screen; output so far:\n{self.output[-3000:]!r}",
        )
        assert self.proc.poll() is None, f"t3tui exited with {self.proc.returncode}:\n{self.output[-3000:]}"
        time.sleep(0.5)  # the first frame, the bindings

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"t3tui did not exit within {timeout:g}s:\n{self.output[-3000:]!r}"
            ) from None

    def close(self) -> None:
        if self.proc.poll() is None:
            kill_group(self.proc.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        self._done.set()
        self._reader.join(5)
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def started(
    tmp_path: Path, mock_model: MockModel, opencode_binary: Path
) -> Iterator[tuple[PtyApp, int, int, dict]]:
    """t3tui started without --url in a pty, its server up: (app, server pid, port, env)."""
    env, project = isolated_env(tmp_path / "iso", mock_model, f"{opencode_binary.parent}:/usr/bin:/bin")
    app = PtyApp([PY, "-m", "t3tui"], env, project)
    server: tuple[int, int] | None = None
    try:
        server = wait_for(
            lambda: app.proc.poll() is not None or find_server(app.pid),
            BOOT,
            lambda: f"an opencode serve child of t3tui ({app.pid}); output:\n{app.output[-3000:]!r}",
        )
        assert server is not True and app.proc.poll() is None, f"t3tui exited early:\n{app.output[-3000:]}"
        pid, port = server
        wait_for(
            lambda: health(port) == 401 or not alive(pid),
            BOOT,
            lambda: f"401 from the server on port {port}; output:\n{app.output[-3000:]!r}",
        )
        assert alive(pid), f"the server died during startup:\n{app.output[-3000:]}"
        yield app, pid, port, env
    finally:
        app.close()
        if isinstance(server, tuple):
            kill_group(server[0])


def assert_gone(pid: int, timeout: float = GONE) -> None:
    wait_for(
        lambda: not alive(pid) and not group(pid),
        timeout,
        lambda: f"server {pid} and its group to go (left: {group(pid)} {cmdline(pid)})",
    )


# -- 1. starts and stops with the app ----------------------------------------------------


def test_server_starts_with_the_app_and_stops_with_it(started: tuple[PtyApp, int, int, dict]) -> None:
    app, pid, port, env = started
    argv = cmdline(pid)
    password = environ(pid).get("OPENCODE_SERVER_PASSWORD", "")
    assert len(password) >= 16, "the server got no generated password in its environment"
    assert not any(password in a for a in argv), f"the password is on the command line: {argv}"
    assert argv[argv.index("--hostname") + 1] == "127.0.0.1"
    assert health(port) == 401  # a password is set
    assert health(port, ("opencode", password)) == 200
    assert _stat(pid)[2] == pid, "the server should lead its own process group"  # type: ignore[index]
    assert f"127.0.0.1:{port}" in app.output  # "Starting opencode (...) on http://127.0.0.1:PORT"

    app.wait_ui()
    deadline = time.monotonic() + 20
    while app.proc.poll() is None and time.monotonic() < deadline:
        app.send(b"\x11")  # ctrl+q
        with contextlib.suppress(subprocess.TimeoutExpired):
            app.proc.wait(3)
    assert app.wait_exit(1) == 0, app.output[-3000:]
    assert_gone(pid)
    assert app.cooked(), "the terminal was left in raw mode"
    assert app.output.rfind("\x1b[?1049l") > app.output.rfind("\x1b[?1049h"), "still in the alternate screen"

    log_dir = t3tui_log_dir(env)
    assert (log_dir / f"opencode-{port}.log").is_file()
    for f in log_dir.iterdir():
        assert password not in f.read_text(errors="replace"), f"the password is in {f}"


# -- 2. a killed app leaves nothing behind -------------------------------------------------


def test_sigkill_of_the_app_takes_the_server_down(started: tuple[PtyApp, int, int, dict]) -> None:
    app, pid, _port, _env = started
    app.wait_ui()
    os.kill(app.pid, signal.SIGKILL)
    assert app.wait_exit(5) == -signal.SIGKILL
    assert_gone(pid)


def test_sigterm_stops_the_app_the_server_and_restores_the_terminal(
    started: tuple[PtyApp, int, int, dict],
) -> None:
    app, pid, _port, _env = started
    app.wait_ui()
    os.kill(app.pid, signal.SIGTERM)
    assert app.wait_exit(15) == 128 + signal.SIGTERM, app.output[-3000:]
    assert_gone(pid)
    assert app.cooked(), "the terminal was left in raw mode"
    assert app.output.rfind("\x1b[?1049l") > app.output.rfind("\x1b[?1049h"), "still in the alternate screen"


def booting_opencode(directory: Path) -> Path:
    """An opencode that is still booting for as long as the test needs (it never answers):
    however fast the machine, t3tui is waiting for it when the test stops t3tui. Its
    command line is the one t3tui gives opencode, so ``find_server`` finds it."""
    fake = directory / "booting-opencode"
    fake.write_text("#!/bin/sh\necho booting\nwhile :; do sleep 0.1; done\n")
    fake.chmod(0o755)
    return fake


@pytest.mark.parametrize("how", ["sigterm", "ctrl+c"])
def test_interrupted_while_the_server_boots(how: str, tmp_path: Path) -> None:
    """Stopped before the UI is up (during "waiting for the server"): the server goes, no traceback."""
    env, project = isolated_env(tmp_path / "iso", None, "/usr/bin:/bin")
    env["T3TUI_OPENCODE_PATH"] = str(booting_opencode(tmp_path))
    app = PtyApp([PY, "-m", "t3tui"], env, project)
    server = None
    try:
        server = wait_for(lambda: find_server(app.pid), BOOT, lambda: f"a server child:\n{app.output!r}")
        # Printed once t3tui holds the server's process and waits for it to answer.
        wait_for(
            lambda: "waiting for the server" in app.output, BOOT, lambda: f"t3tui waiting:\n{app.output!r}"
        )
        assert not app.raw_mode(), "the app's screen is up before the server answered"
        if how == "sigterm":
            os.kill(app.pid, signal.SIGTERM)
        else:
            app.send(b"\x03")  # the terminal is still cooked: SIGINT to t3tui's process group
        code = app.wait_exit(15)
        if how == "sigterm":
            assert code == 128 + signal.SIGTERM, app.output
        else:
            # 130, or death by SIGINT: CPython 3.11 exits so when the KeyboardInterrupt went
            # through exec() of a string (a lazy import), even though t3tui caught it; a
            # shell shows 130 for both.
            assert code in (130, -signal.SIGINT), app.output
        assert "interrupted; the server was stopped." in app.output
        assert "Traceback" not in app.output, app.output
        assert_gone(server[0])
    finally:
        app.close()
        if server:
            kill_group(server[0])


# -- shell commands that opencode runs detached (in sessions of their own) ------------------


class ShellCommand:
    """``sleep <unique>`` run by the server through ``POST /session/:id/shell`` (it answers when
    the command ends, so the request runs in a thread). Finds the sleep in /proc; kills it by pid."""

    def __init__(self, port: int, password: str, directory: Path) -> None:
        self.arg = f"299.{random.randrange(10**8):08d}"
        self.client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", auth=("opencode", password), trust_env=False, timeout=30
        )
        params = {"directory": str(directory)}
        session = self.client.post("/session", params=params, json={})
        session.raise_for_status()
        sid = session.json()["id"]
        body = {"agent": "build", "command": f"sleep {self.arg}"}

        def run() -> None:
            with contextlib.suppress(httpx.HTTPError):
                self.client.post(f"/session/{sid}/shell", params=params, json=body, timeout=None)

        threading.Thread(target=run, daemon=True).start()
        wait_for(self.pids, 20, f"the server's shell command 'sleep {self.arg}'")

    def pids(self) -> list[int]:
        return [p for p in _pids() if alive(p) and cmdline(p) == ["sleep", self.arg]]

    def close(self) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.client.close()


def test_quit_stops_the_servers_running_shell_commands(started: tuple[PtyApp, int, int, dict]) -> None:
    app, pid, port, _env = started
    shell = ShellCommand(
        port, environ(pid)["OPENCODE_SERVER_PASSWORD"], Path(os.readlink(f"/proc/{app.pid}/cwd"))
    )
    try:
        sleep_pid = shell.pids()[0]
        assert _stat(sleep_pid)[2] != pid, "opencode no longer detaches its shell commands"  # type: ignore[index]
        app.wait_ui()
        app.send(b"\x11")  # ctrl+q
        assert app.wait_exit(15) == 0, app.output[-3000:]
        assert_gone(pid)
        wait_for(lambda: not shell.pids(), GONE, "the shell command to be stopped with the server")
    finally:
        shell.close()


@pytest.mark.xfail(
    strict=True,
    reason="known gap: when t3tui is SIGKILLed, PR_SET_PDEATHSIG stops opencode only; the shell "
    "commands it runs detached (own session) are orphaned. Needs a subreaper supervisor.",
)
def test_sigkill_of_the_app_stops_the_servers_running_shell_commands(
    started: tuple[PtyApp, int, int, dict],
) -> None:
    app, pid, port, _env = started
    shell = ShellCommand(
        port, environ(pid)["OPENCODE_SERVER_PASSWORD"], Path(os.readlink(f"/proc/{app.pid}/cwd"))
    )
    try:
        app.wait_ui()
        os.kill(app.pid, signal.SIGKILL)
        app.wait_exit(5)
        assert_gone(pid)
        wait_for(lambda: not shell.pids(), GONE, "the shell command to be stopped with the server")
    finally:
        shell.close()


# -- 3. opencode missing ---------------------------------------------------------------------


def run_cli(env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "t3tui"],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_opencode_missing_says_how_to_install_it(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env, project = isolated_env(tmp_path / "iso", None, str(empty))
    r = run_cli(env, project)
    assert r.returncode == 1, r.stderr
    assert "npm install -g opencode-ai" in r.stderr
    assert "--url" in r.stderr


def test_opencode_path_that_does_not_exist_is_named(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env, project = isolated_env(tmp_path / "iso", None, str(empty))
    missing = tmp_path / "nowhere" / "opencode"
    Path(env["T3TUI_CONFIG"]).write_text(f'opencode_path = "{missing}"\n')
    r = run_cli(env, project)
    assert r.returncode == 1, r.stderr
    assert str(missing) in r.stderr
    assert env["T3TUI_CONFIG"] in r.stderr  # where that setting came from
    assert "npm install -g opencode-ai" in r.stderr


# -- 4. the server fails to start --------------------------------------------------------------


def test_server_that_fails_to_start_shows_its_log(tmp_path: Path) -> None:
    fake = tmp_path / "fake-opencode"
    fake.write_text('#!/bin/sh\necho "opencode: cannot open the database: disk full" >&2\nexit 3\n')
    fake.chmod(0o755)
    env, project = isolated_env(tmp_path / "iso", None, "/usr/bin:/bin")
    env["T3TUI_OPENCODE_PATH"] = str(fake)
    r = run_cli(env, project)
    assert r.returncode == 1, r.stderr
    assert "exited with code 3" in r.stderr
    match = re.search(r"Its log is (\S+\.log):", r.stderr)
    assert match, r.stderr
    log = Path(match.group(1))
    assert log.is_file() and log.parent == t3tui_log_dir(env)
    assert "cannot open the database: disk full" in r.stderr  # the log's tail


# -- 5. EmbeddedServer with the real binary ----------------------------------------------------


def test_embedded_server_start_and_stop(tmp_path: Path, mock_model: MockModel, opencode_binary: Path) -> None:
    env, project = isolated_env(tmp_path / "iso", mock_model, "/usr/bin:/bin")
    seen: list[float] = []
    server = EmbeddedServer(str(opencode_binary), log_dir=tmp_path / "log", cwd=str(project), env=env)
    try:
        server.start(timeout=BOOT, progress=seen.append)
        assert server.running and seen
        pid = server.proc.pid  # type: ignore[union-attr]
        assert server.password not in " ".join(cmdline(pid))
        assert health(server.port) == 401
        assert health(server.port, (server.username, server.password)) == 200
        assert group(pid), "the server should lead its own process group"
        server.stop()
        assert not server.running
        assert not group(pid)
        assert health(server.port) is None
        server.stop()  # twice is fine
    finally:
        if server.proc is not None:
            kill_group(server.proc.pid)


def test_embedded_server_timeout_stops_the_process(tmp_path: Path) -> None:
    """A binary that never answers: start() gives up, raises ServerError and leaves nothing."""
    fake = tmp_path / "silent-opencode"
    fake.write_text("#!/bin/sh\necho starting\nsleep 60 &\nexec sleep 60\n")
    fake.chmod(0o755)
    server = EmbeddedServer(str(fake), log_dir=tmp_path / "log")
    try:
        with pytest.raises(ServerError, match="did not answer within 1s") as info:
            server.start(timeout=1.0)
        assert str(server.log_path) in str(info.value) and "starting" in str(info.value)
        assert not server.running
        pid = server.proc.pid  # type: ignore[union-attr]
        wait_for(lambda: not group(pid), GONE, lambda: f"the group to go: {group(pid)}")
    finally:
        if server.proc is not None:
            kill_group(server.proc.pid)


def test_embedded_server_stop_cut_short_can_be_done_again(tmp_path: Path) -> None:
    """A signal in the middle of stop() (then atexit calls it again): the second call
    finishes the job, the groups found by the first included."""
    fake = tmp_path / "stubborn-opencode"
    fake.write_text("#!/bin/sh\ntrap '' TERM\necho starting\nwhile :; do sleep 0.1; done\n")
    fake.chmod(0o755)
    server = EmbeddedServer(str(fake), log_dir=tmp_path / "log")
    try:
        server.proc = subprocess.Popen([str(fake)], start_new_session=True, stdout=subprocess.DEVNULL)
        pid = server.proc.pid
        wait_for(lambda: len(group(pid)) > 1, GONE, "its sleep")

        def interrupted(timeout: float | None = None) -> int:
            raise KeyboardInterrupt

        real_wait = server.proc.wait
        server.proc.wait = interrupted  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            server.stop()
        assert alive(pid), "the shell ignores SIGTERM: only SIGKILL, after the wait, stops it"
        server.proc.wait = real_wait  # type: ignore[method-assign]
        server.stop(timeout=0.5)
        wait_for(lambda: not group(pid), GONE, lambda: f"the group to go: {group(pid)}")
        server.stop()  # and then it is done
    finally:
        if server.proc is not None:
            kill_group(server.proc.pid)


# -- 6. the password does not reach the agent's tools (issue 11, item 14) ------------------------


def _messages(client: httpx.Client, sid: str, directory: Path) -> list[dict[str, Any]]:
    resp = client.get(f"/session/{sid}/message", params={"directory": str(directory)})
    resp.raise_for_status()
    return resp.json()


def test_embedded_servers_tools_do_not_inherit_its_password(
    tmp_path: Path, mock_model: MockModel, opencode_binary: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model asks for a bash tool call running ``env``: its output (which goes back to
    the model provider) has no password, and neither has a shell command's; the server
    still wants the password, before and after a dispose (which re-runs the plugins)."""
    import asyncio

    from t3tui.opencode.client import OpencodeClient

    from . import mockmodel as mm

    monkeypatch.setattr(mm, "TOOL_ARGS", {"command": "env", "description": "Print the environment"})
    env, project = isolated_env(tmp_path / "iso", mock_model, "/usr/bin:/bin")
    server = EmbeddedServer(str(opencode_binary), log_dir=tmp_path / "log", cwd=str(project), env=env)
    try:
        server.start(timeout=BOOT)
        assert server.password_hidden_from_tools
        pw = server.password
        # opencode read it from its environment (the only place it reads it from).
        assert environ(server.proc.pid)["OPENCODE_SERVER_PASSWORD"] == pw  # type: ignore[union-attr]
        params = {"directory": str(project)}
        with httpx.Client(base_url=server.url, auth=("opencode", pw), trust_env=False, timeout=60) as http:
            sid = http.post("/session", params=params, json={}).json()["id"]
            body = {
                "parts": [{"type": "text", "text": "print the environment"}],
                "model": {"providerID": "mock", "modelID": "tool"},
            }
            http.post(f"/session/{sid}/prompt_async", params=params, json=body).raise_for_status()

            def tool_outputs() -> list[str] | None:
                msgs = _messages(http, sid, project)
                texts = [p.get("text", "") for m in msgs for p in m["parts"] if p["type"] == "text"]
                if mm.TOOL_DONE_TEXT not in " ".join(texts):
                    return None
                return [
                    str(p["state"].get("output", ""))
                    for m in msgs
                    for p in m["parts"]
                    if p["type"] == "tool" and p["state"].get("status") == "completed"
                ]

            (output,) = wait_for(tool_outputs, 60, "the bash tool call and the model's answer")
            assert "PATH=" in output and "HOME=" in output, output  # env ran
            assert pw not in output and "OPENCODE_SERVER_PASSWORD" not in output, output
            assert pw not in json.dumps(_messages(http, sid, project))
            sent = json.dumps([r["messages"] for r in mock_model.requests])
            assert "PATH=" in sent and pw not in sent, "the password went to the model provider"

            # A shell command (POST /session/:id/shell), in a session of its own.
            other = http.post("/session", params=params, json={}).json()["id"]
            shell = http.post(
                f"/session/{other}/shell", params=params, json={"agent": "build", "command": "env"}
            )
            shell.raise_for_status()
            assert "PATH=" in json.dumps(_messages(http, other, project))
            assert pw not in shell.text and pw not in json.dumps(_messages(http, other, project))

        async def t3tui_still_authenticates() -> None:
            async with OpencodeClient(server.url, password=pw) as client:
                await client.health()
                await client.global_dispose()
                await client.list_sessions(str(project))
            async with OpencodeClient(server.url, password="wrong-password") as client:
                with pytest.raises(Exception, match="401|password"):
                    await client.health()

        asyncio.run(t3tui_still_authenticates())
        assert health(server.port) == 401
        assert health(server.port, ("opencode", pw)) == 200
    finally:
        server.stop()
        if server.proc is not None:
            kill_group(server.proc.pid)
