"""Install and run the real opencode server (npm ``opencode-ai``, pinned) for live tests.

- ``ensure_opencode() -> Path`` installs ``opencode-ai@OPENCODE_VERSION`` with
  ``npm install --prefix <cache>`` once (cache dir: ``$T3TUI_OPENCODE_CACHE``, default
  ``~/.cache/t3tui-tests/opencode-<version>``), under a file lock, and returns the platform
  package's own binary (``node_modules/opencode-linux-x64/bin/opencode`` and the like).
  The install talks to the npm registry only: the platform binaries are optional dependencies
  of ``opencode-ai``; its postinstall just links one of them (and would only fall back to
  another ``npm install`` if none fits).  We run with ``--ignore-scripts`` and pick the binary
  ourselves, the same way the postinstall does (AVX2 / musl / baseline).
- ``OpencodeServer`` runs ``opencode serve --hostname 127.0.0.1 --port N --pure`` with an
  isolated HOME/XDG tree under a temp dir that survives ``restart()``.  Its config dir is
  pre-seeded so opencode skips its background ``npm install @opencode-ai/plugin`` (~95 MB per
  HOME); with that, the server talks to nothing but 127.0.0.1 (checked with strace).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import fcntl
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path

OPENCODE_VERSION = "1.18.33"
PASSWORD_USER = "opencode"

MOCK_MODELS = (
    "fast",
    "slow",
    "bench",
    "tool",
    "toolread",
    "question",
    "error500",
    "error500ra",
    "error400",
    "reasoning",
    "priced",
)
# The one mock model that costs something and has a context window (the work panel's
# tests): dollars per million tokens, and a window small enough that the share in use
# shows. Its usable window (1,000 less the 100 it may write) is far above what the mock
# reports (10 tokens in per request), so opencode never compacts a thread of it.
PRICED = {"cost": {"input": 1000, "output": 2000}, "limit": {"context": 1000, "output": 100}}

OFFLINE_ENV = {
    "OPENCODE_DISABLE_MODELS_FETCH": "true",
    "OPENCODE_DISABLE_AUTOUPDATE": "true",
    "OPENCODE_DISABLE_SHARE": "true",
    "OPENCODE_DISABLE_LSP_DOWNLOAD": "true",
    "OPENCODE_DISABLE_CLAUDE_CODE": "true",
    "OPENCODE_DISABLE_EXTERNAL_SKILLS": "true",
}


# ---------------------------------------------------------------------------------------
# install
# ---------------------------------------------------------------------------------------


def cache_dir() -> Path:
    env = os.environ.get("T3TUI_OPENCODE_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "t3tui-tests" / f"opencode-{OPENCODE_VERSION}"


def _has_avx2() -> bool:
    if platform.system() != "Linux":
        return True  # darwin: the postinstall's sysctl probe; plain build first is fine for tests
    try:
        return re.search(r"(^|\s)avx2(\s|$)", Path("/proc/cpuinfo").read_text(), re.I | re.M) is not None
    except OSError:
        return False


def _is_musl() -> bool:
    if Path("/etc/alpine-release").exists():
        return True
    try:
        r = subprocess.run(["ldd", "--version"], capture_output=True, text=True, timeout=5)
        return "musl" in (r.stdout + r.stderr).lower()
    except (OSError, subprocess.SubprocessError):
        return False


def _candidate_packages() -> list[str]:
    """Platform package names in the order opencode-ai's postinstall.mjs tries them."""
    sysname = {"Linux": "linux", "Darwin": "darwin", "Windows": "windows"}.get(
        platform.system(), platform.system().lower()
    )
    mach = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(mach, mach)
    base = f"opencode-{sysname}-{arch}"
    if arch != "x64":
        return [base, f"{base}-musl"] if sysname == "linux" else [base]
    plain = [base, f"{base}-baseline"]
    if not _has_avx2():
        plain.reverse()
    if sysname != "linux":
        return plain
    musl = [f"{p}-musl" if not p.endswith("-baseline") else f"{base}-baseline-musl" for p in plain]
    return musl + plain if _is_musl() else plain + musl


def _works(binary: Path) -> bool:
    try:
        r = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0 and r.stdout.strip() == OPENCODE_VERSION


def _find_binary(root: Path) -> Path | None:
    exe = "opencode.exe" if platform.system() == "Windows" else "opencode"
    for name in _candidate_packages():
        p = root / "node_modules" / name / "bin" / exe
        if p.is_file() and _works(p):
            return p
    # Last resort: what the postinstall linked (a real binary in 1.18.x, not a node wrapper).
    p = root / "node_modules" / "opencode-ai" / "bin" / "opencode.exe"
    if p.is_file() and _works(p):
        return p
    return None


def _npm_install(root: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not on PATH; it is needed to install opencode for the live tests")
    # --ignore-scripts: the postinstall only links a platform binary, which we pick ourselves
    # (it would run `npm install <platform package>` only if no optional dependency fitted).
    cmd = [
        npm,
        "install",
        "--prefix",
        str(root),
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--ignore-scripts",
        "--loglevel=error",
        f"opencode-ai@{OPENCODE_VERSION}",
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError(f"npm install of opencode-ai failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")


def ensure_opencode() -> Path:
    """Install opencode-ai@OPENCODE_VERSION into the cache dir if needed; return the binary path."""
    root = cache_dir()
    marker = root / "binary-path.txt"
    if marker.is_file():
        p = Path(marker.read_text().strip())
        if p.is_file():
            return p
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel runs wait here for the first install
        try:
            if marker.is_file() and Path(marker.read_text().strip()).is_file():
                return Path(marker.read_text().strip())
            found = _find_binary(root)
            if found is None:
                _npm_install(root)
                found = _find_binary(root)
            if found is None:
                # A broken earlier install (interrupted download...): start over once.
                shutil.rmtree(root / "node_modules", ignore_errors=True)
                _npm_install(root)
                found = _find_binary(root)
            if found is None:
                raise RuntimeError(
                    f"opencode-ai@{OPENCODE_VERSION} installed into {root}, but no platform binary "
                    f"(tried {_candidate_packages()}) runs here"
                )
            tmp = marker.with_suffix(".tmp")
            tmp.write_text(str(found))
            tmp.replace(marker)
            return found
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------------
# server
# ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mock_provider_config(model_base_url: str) -> dict:
    models = {}
    for m in MOCK_MODELS:
        spec: dict = {"name": f"Mock {m}", "tool_call": True}
        if m == "reasoning":
            spec["reasoning"] = True
        if m == "priced":
            spec.update(PRICED)
        models[m] = spec
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            "mock": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Mock OpenAI-compatible",
                "options": {"baseURL": model_base_url, "apiKey": "mock-key"},
                "models": models,
            }
        },
        "model": "mock/fast",
        "small_model": "mock/fast",
        "autoupdate": False,
        "share": "disabled",
    }


_live: weakref.WeakSet[OpencodeServer] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for s in list(_live):
        with contextlib.suppress(Exception):
            s.stop(cleanup=True)


class OpencodeServer:
    """One ``opencode serve`` process with an isolated HOME.

    ``home`` is the root of the isolated tree (``home/``, ``config/``, ``data/``, ``cache/``,
    ``state/``, ``projects/``, ``opencode.log``); by default a fresh temp dir, removed by
    ``stop(cleanup=True)`` unless ``T3TUI_KEEP_OPENCODE_HOME`` is set.  A given ``home`` is never
    removed.  ``restart()`` keeps the tree and the port, so sessions persist.

    Attributes: ``port``, ``url`` ("http://127.0.0.1:<port>"), ``pid``, ``password``, ``auth``
    (an ``(user, password)`` tuple or None, usable as httpx ``auth=``), ``auth_headers()``,
    ``root``, ``home`` (the HOME inside it), ``log_path``, ``binary``, ``model_base_url``,
    ``env``, ``running``, ``starts``; ``project_dir(name)``, ``log_tail(n)``.
    """

    def __init__(
        self,
        port: int | None = None,
        password: str | None = None,
        home: str | os.PathLike | None = None,
        model_base_url: str = "http://127.0.0.1:4150/v1",
        binary: Path | None = None,
        extra_env: dict[str, str] | None = None,
        config: dict | None = None,
    ) -> None:
        self.port = port
        self.password = password
        self.model_base_url = model_base_url
        self.binary = binary
        self.extra_env = dict(extra_env or {})
        self._own_root = home is None
        self.root = Path(home) if home is not None else Path(tempfile.mkdtemp(prefix="t3tui-opencode-"))
        self.home = self.root / "home"
        self.config_home = self.root / "config"
        self.data_home = self.root / "data"
        self.cache_home = self.root / "cache"
        self.state_home = self.root / "state"
        self.projects = self.root / "projects"
        self.log_path = self.root / "opencode.log"
        self.config = config if config is not None else mock_provider_config(model_base_url)
        self._proc: subprocess.Popen | None = None
        self._reaped = False
        self._log = None
        self.starts = 0

    # ---- paths -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("OpencodeServer is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def auth(self) -> tuple[str, str] | None:
        return (PASSWORD_USER, self.password) if self.password else None

    def auth_headers(self) -> dict[str, str]:
        if not self.password:
            return {}
        token = base64.b64encode(f"{PASSWORD_USER}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def project_dir(self, name: str = "a", git: bool = True) -> Path:
        """A project directory ``<root>/projects/<name>`` (created on first use, kept across restarts).

        With ``git`` (and git on PATH) it is a repository with one commit, like a real project:
        opencode then gives it its own ``projectID`` (the root commit) and ``vcs: "git"``.  A plain
        directory works too but lands in the shared ``projectID: "global"``.
        """
        p = self.projects / name
        if not p.is_dir():
            p.mkdir(parents=True)
            (p / "README.md").write_text(f"# project {name}\n")
            if git and shutil.which("git"):
                genv = {**self.env, "GIT_CONFIG_NOSYSTEM": "1"}
                ident = [
                    "-c",
                    "user.name=t3tui tests",
                    "-c",
                    "user.email=tests@t3tui.invalid",
                    "-c",
                    "commit.gpgsign=false",
                ]
                for args in (
                    ["init", "-q"],
                    ["add", "README.md"],
                    [*ident, "commit", "-q", "-m", f"init {name}"],
                ):
                    subprocess.run(
                        ["git", *args], cwd=p, env=genv, check=True, capture_output=True, timeout=30
                    )
        return p.resolve()

    @property
    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("OPENCODE") and not k.startswith("XDG_") and k not in ("HOME",)
        }
        env.update(
            {
                "HOME": str(self.home),
                "XDG_CONFIG_HOME": str(self.config_home),
                "XDG_DATA_HOME": str(self.data_home),
                "XDG_CACHE_HOME": str(self.cache_home),
                "XDG_STATE_HOME": str(self.state_home),
                **OFFLINE_ENV,
            }
        )
        # No proxies: everything is on loopback.
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            env.pop(k, None)
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        if self.password:
            env["OPENCODE_SERVER_PASSWORD"] = self.password
        env.update(self.extra_env)
        return env

    def _write_config(self) -> None:
        for d in (
            self.home,
            self.config_home,
            self.data_home,
            self.cache_home,
            self.state_home,
            self.projects,
        ):
            d.mkdir(parents=True, exist_ok=True)
        cfg = self.config_home / "opencode" / "opencode.json"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text(json.dumps(self.config, indent=2))
        _seed_plugin_deps(cfg.parent)

    # ---- lifecycle ---------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> OpencodeServer:
        if self.running:
            return self
        if self.binary is None:
            self.binary = ensure_opencode()
        if self.port is None:
            self.port = free_port()
        self._write_config()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - held open for the process's life
        self._log.write(
            f"\n===== start #{self.starts + 1} port {self.port} at {time.ctime()} =====\n".encode()
        )
        self._log.flush()
        cmd = [
            str(self.binary),
            "serve",
            "--hostname",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--pure",
            "--print-logs",
        ]
        self._proc = subprocess.Popen(
            cmd,
            cwd=str(self.project_dir("a")),
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so we can kill every child
            preexec_fn=_die_with_parent
            if _PRCTL is not None and threading.current_thread() is threading.main_thread()
            else None,
        )
        self._reaped = False
        self.starts += 1
        _live.add(self)
        try:
            self._wait_healthy(timeout)
        except Exception:
            self.stop()
            raise
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        req = urllib.request.Request(self.url + "/global/health", headers=self.auth_headers())
        last: object = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(
                    f"opencode exited with {self._proc.returncode} during startup; log:\n{self.log_tail()}"
                )
            try:
                with _opener.open(req, timeout=2) as r:
                    if r.status == 200:
                        return
                    last = r.status
            except urllib.error.HTTPError as e:
                last = e.code
            except (OSError, urllib.error.URLError) as e:
                last = e
            time.sleep(0.1)
        raise TimeoutError(
            f"opencode not healthy on {self.url} after {timeout}s ({last!r}); log:\n{self.log_tail()}"
        )

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the server; wait for it to exit (SIGKILL after 15 s); clear its process group."""
        if self._proc is None:
            return
        self._signal(sig)
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self._proc.wait(timeout=10)
        self._reap_group()
        self._close_log()

    def stop(self, timeout: float = 10.0, cleanup: bool = False) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; waits.  ``cleanup`` also removes an owned temp dir."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._signal(signal.SIGTERM)
                try:
                    self._proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self._signal(signal.SIGKILL)
                    self._proc.wait(timeout=10)
            self._reap_group()
            self._close_log()
        _live.discard(self)
        if cleanup and self._own_root and not os.environ.get("T3TUI_KEEP_OPENCODE_HOME"):
            shutil.rmtree(self.root, ignore_errors=True)

    def restart(self, timeout: float = 30.0) -> OpencodeServer:
        """Stop (SIGTERM) if running, then start again on the same port with the same HOME."""
        self.stop()
        deadline = time.monotonic() + 10
        while not _port_free(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.start(timeout)

    def _signal(self, sig: int) -> None:
        """``sig`` to the server process only (as a user's ``kill PID`` would)."""
        assert self._proc is not None
        with contextlib.suppress(ProcessLookupError):
            self._proc.send_signal(sig)

    def _reap_group(self) -> None:
        """Once the server has exited: SIGKILL whatever is left in its process group (tool shells...)."""
        if self._proc is None or self._reaped:
            return
        self._reaped = True
        # The server led its own group (start_new_session).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> OpencodeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(cleanup=True)

    def __repr__(self) -> str:
        url = self.url if self.port else None
        return f"OpencodeServer(url={url!r}, pid={self.pid}, root={str(self.root)!r})"


def _seed_plugin_deps(config_dir: Path) -> None:
    """Stop opencode from running ``npm install @opencode-ai/plugin`` in its config dir.

    At every instance boot opencode (Npm.install in the binary) installs ``@opencode-ai/plugin``
    into each config dir in the background, for local plugins: ~95 MB from the npm registry
    per HOME, with CPU to match.  It skips the install when ``node_modules`` exists and
    ``package-lock.json`` already lists every dependency, so we write exactly that.
    """
    dep = {"@opencode-ai/plugin": OPENCODE_VERSION}
    (config_dir / "node_modules").mkdir(exist_ok=True)
    pkg = config_dir / "package.json"
    if not pkg.exists():
        pkg.write_text(json.dumps({"dependencies": dep}, indent=2))
    lock = config_dir / "package-lock.json"
    if not lock.exists():
        lock.write_text(json.dumps({"lockfileVersion": 3, "packages": {"": {"dependencies": dep}}}, indent=2))


def _load_prctl():  # resolved in the parent: the child of a threaded process should not dlopen
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except Exception:
        return None


_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL it when the (main thread of the) test process dies.

    Only used when started from the main thread: PR_SET_PDEATHSIG fires when the *thread* that
    forked exits, so a server started from a worker thread would die with that thread.
    """
    if _PRCTL is not None:
        _PRCTL(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG


def _port_free(port: int | None) -> bool:
    if port is None:
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# urllib without any proxy, so health checks never leave loopback.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
