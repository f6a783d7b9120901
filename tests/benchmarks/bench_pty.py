# ruff: noqa: E501
"""Time to screen, measured from outside: the last delta on t3tui's socket -> the last token on its terminal.

``t3tui --url`` runs in a real pseudo-terminal (120x40) with a thread open, attached to the
real opencode (installed by the test harness) through a byte-for-byte TCP proxy. Each
burst is 2,000 chunks from the scripted model whose last word is a token made for that
burst. Two clocks, both ``time.perf_counter`` (CLOCK_MONOTONIC, one for the machine):

- *arrival*: the proxy has handed t3tui's socket the bytes of the frame that holds the
  token (the last ``message.part.delta`` of the burst; taken after ``sendall``);
- *screen*: the bytes that hold the token were read from the pty's master (written by
  t3tui to its terminal).

A burst not on screen within ``WAIT`` seconds counts as NaN. The CPU t3tui used for a
burst is counted until it is done drawing it (its CPU settles), so a client far behind
is not credited with the work it had yet to do.

The first burst is reported apart (warm-up: first Markdown render, imports), then
``--bursts`` more, quiet, and again with one busy loop per core beside (``--busy``; the
loops run at this script's own niceness, like ``tests/under_load.py`` runs them beside
the tests). Also the CPU seconds t3tui used per burst. Goal: <= 50 ms, every burst.

    nice -n 10 .venv/bin/python tests/benchmarks/bench_pty.py [--bursts 5] [--busy N] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import secrets
import signal
import socket
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchjson import Report, load1, spread  # noqa: E402
from live.mockmodel import MockModel  # noqa: E402
from live.opencode_server import OpencodeServer, ensure_opencode  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")
CHUNKS = 2000
WAIT = 180.0  # seconds a burst may take to reach the screen before it counts as lost (NaN)
BUSY = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass\n"


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLK


class Watch:
    """Tokens to look for in a byte stream; the perf_counter of each one's first sight."""

    def __init__(self) -> None:
        self.wanted: set[bytes] = set()
        self.seen: dict[bytes, float] = {}
        self._tail = b""
        self._lock = threading.Lock()

    def want(self, token: bytes) -> None:
        with self._lock:
            self.wanted.add(token)

    def feed(self, data: bytes, t: float) -> None:
        if not self.wanted:
            self._tail = data[-64:]
            return
        hay = self._tail + data
        with self._lock:
            for token in [tok for tok in self.wanted if tok in hay]:
                self.seen[token] = t
                self.wanted.discard(token)
        self._tail = data[-64:]


class StampProxy:
    """A TCP proxy on loopback: forwards bytes as they come, and stamps the tokens
    it hands to the client (server -> client direction)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.watch = Watch()
        self._socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._socks += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, self.watch), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, watch: Watch | None) -> None:
        try:
            while True:
                data = src.recv(262144)
                if not data:
                    break
                dst.sendall(data)
                if watch is not None:
                    watch.feed(data, time.perf_counter())
        except OSError:
            pass
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.sock.close()
        for s in self._socks:
            with contextlib.suppress(OSError):
                s.close()


def stop_in_pty(proc: subprocess.Popen[bytes], master: int) -> None:
    """SIGTERM to the process group (SIGKILL after 5 s), then close the pty's master."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    with contextlib.suppress(OSError):
        os.close(master)


def wait_idle(server: OpencodeServer, directory: str, sid: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = httpx.get(
            f"{server.url}/session/status", params={"directory": directory}, auth=server.auth, timeout=30
        ).json()
        if sid not in status:
            return
        time.sleep(0.1)
    raise TimeoutError("the session did not go idle")


def burst(server: OpencodeServer, directory: str, sid: str) -> None:
    """The scripted model's 2,000-token burst, asked for in the session."""
    httpx.post(
        f"{server.url}/session/{sid}/prompt_async",
        params={"directory": directory},
        json={
            "parts": [{"type": "text", "text": "burst"}],
            "model": {"providerID": "mock", "modelID": "bench"},
        },
        auth=server.auth,
        timeout=30,
    ).raise_for_status()


class Terminal:
    """A program in a pseudo-terminal; its output is read (and watched) by a thread."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.watch = Watch()
        self.bytes = 0
        self.log: bytearray | None = None
        self.marks: list[tuple[float, int]] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.bytes += len(data)
            if self.log is not None:
                self.log += data
                self.marks.append((time.perf_counter(), len(self.log)))
            self.watch.feed(data, time.perf_counter())

    def stop(self) -> None:
        stop_in_pty(self.proc, self.master)


def settle(pid: int, quiet: float = 0.05, cap: float = 240.0) -> None:
    """Wait until ``pid`` used at most ``quiet`` CPU seconds in the last second."""
    deadline = time.perf_counter() + cap
    last = cpu_seconds(pid)
    while time.perf_counter() < deadline:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - last <= quiet:
            return
        last = now


def one_burst(
    model: MockModel,
    server: OpencodeServer,
    directory: str,
    sid: str,
    proxy: StampProxy,
    term: Terminal,
    pid: int,
) -> dict[str, float]:
    token = f"zq{secrets.token_hex(4)}end"
    text = " ".join(f"tok{i}" for i in range(CHUNKS - 1)) + " " + token
    model.set_mode("script", count=1, steps=[{"text": text}])
    tok = token.encode()
    proxy.watch.want(tok)
    term.watch.want(tok)
    load = load1()
    c0 = cpu_seconds(pid)
    posted = time.perf_counter()
    burst(server, directory, sid)
    deadline = time.perf_counter() + WAIT
    while tok not in term.watch.seen and time.perf_counter() < deadline:
        time.sleep(0.01)
    wait_idle(server, directory, sid)
    settle(pid)  # t3tui done drawing the burst (it may be far behind on a busy machine)
    arrival, screen = proxy.watch.seen.get(tok), term.watch.seen.get(tok)
    latency = (screen - arrival) * 1000 if arrival is not None and screen is not None else float("nan")
    print(
        f"  burst: {latency:.1f} ms (posted {posted:.3f}, arrival {arrival}, screen {screen}, load {load1():.1f})",
        file=sys.stderr,
        flush=True,
    )
    return {"latency_ms": latency, "cpu_s": cpu_seconds(pid) - c0, "load": max(load, load1())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bursts", type=int, default=5, help="measured bursts per condition (after one warm-up)")
    ap.add_argument(
        "--busy", type=int, default=os.cpu_count() or 2, help="busy loops for the loaded part (0: skip it)"
    )
    ap.add_argument("--dump", help="write what t3tui wrote to its terminal to this file")
    report = Report.from_argv()
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the server and t3tui on the way out
    ensure_opencode()
    model = MockModel()
    model.start()
    server = OpencodeServer(model_base_url=model.base_url)
    server.start()
    proxy = StampProxy(server.port)  # type: ignore[arg-type]
    term: Terminal | None = None
    busy: list[subprocess.Popen[bytes]] = []
    results: dict[str, list[dict[str, float]]] = {}
    try:
        directory = str(server.project_dir("bench"))
        sid = httpx.post(
            f"{server.url}/session", params={"directory": directory}, json={}, auth=server.auth, timeout=30
        ).json()["id"]
        env = {
            **server.env,
            "TERM": "xterm-256color",
            "T3TUI_CONFIG": "/nonexistent/t3tui.toml",
            "PYTHONPATH": str(ROOT),  # the t3tui of this tree, whatever the venv has installed
        }
        argv = [sys.executable, "-m", "t3tui", "--url", proxy.url, "--directory", directory, "--session", sid]
        term = Terminal(argv, env)
        if args.dump:
            term.log = bytearray()
        deadline = time.perf_counter() + 30
        while term.bytes < 2000 and time.perf_counter() < deadline:
            time.sleep(0.05)
        time.sleep(3)  # connected, the thread open, start-up work done
        pid = term.proc.pid
        run = lambda: one_burst(model, server, directory, sid, proxy, term, pid)  # noqa: E731
        results["first"] = [run()]
        results["quiet"] = [run() for _ in range(args.bursts)]
        if args.busy:
            busy = [
                subprocess.Popen(
                    [sys.executable, "-c", BUSY], stdin=subprocess.DEVNULL, start_new_session=True
                )
                for _ in range(args.busy)
            ]
            time.sleep(1)
            results["loaded"] = [run() for _ in range(args.bursts)]
        alive = term.proc.poll() is None
        if args.dump and term.log is not None:
            Path(args.dump).write_bytes(term.log)
            Path(args.dump + ".marks").write_text("\n".join(f"{t:.4f} {n}" for t, n in term.marks))
    finally:
        for p in busy:
            p.kill()
            p.wait()
        if term is not None:
            term.stop()
        proxy.close()
        server.stop(cleanup=True)
        model.stop()

    print(f"time to screen in a pty (real opencode, 2,000-chunk bursts; t3tui alive at the end: {alive})")
    print("  last delta on t3tui's socket -> last token read from its terminal (goal <= 50 ms)")
    for cond, rows in results.items():
        lat = [r["latency_ms"] for r in rows]
        cpu = [r["cpu_s"] for r in rows]
        loads = [r["load"] for r in rows]
        label = {"first": "first burst", "quiet": "quiet", "loaded": f"{args.busy} busy loops"}[cond]
        print(
            f"  {label:14}: min/median/max {spread(lat)} ms  ({', '.join(f'{v:.0f}' for v in lat)}); "
            f"t3tui CPU per burst {statistics.median(cpu):.2f} s; load average {min(loads):.1f}-{max(loads):.1f}"
        )
        report.figure(
            f"pty: last delta on the socket -> last token on the terminal, {label}", lat, goal="<= 50"
        )
        report.figure(f"pty: t3tui CPU per burst, {label}", [c * 1000 for c in cpu], goal="")
    report.done()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
