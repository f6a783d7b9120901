"""Run the test suite several times in a row on a busy machine; stop at the first failure.

    .venv/bin/python tests/under_load.py              # 5 runs, one busy loop per core
    .venv/bin/python tests/under_load.py --runs 2 --busy 4 -- -m "not live"

While the suite runs, ``--busy`` processes (default: one per core) spin in a loop, so the
tests' waits meet a machine where every process gets less CPU than it asks for. A test
that passes alone and fails here waits on wall-clock luck, not on a condition. Each run's
output goes to a file in ``--log-dir``; one summary line per run is printed, and the log
of a failed run is named. The busy loops are stopped at the end, on failure, on Ctrl+C,
and stop themselves if this script is killed outright (they watch their parent).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Spins until its parent (this script) is gone: nothing is left behind even after SIGKILL.
BUSY = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass\n"


def start_busy(count: int) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen([sys.executable, "-c", BUSY], stdin=subprocess.DEVNULL, start_new_session=True)
        for _ in range(count)
    ]


def stop_busy(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
    for proc in procs:
        proc.wait()


def interrupt(_signum: int, _frame: object) -> None:
    """SIGTERM ends this script like Ctrl+C: the busy loops and the running suite are stopped."""
    raise KeyboardInterrupt


def outcome(log: Path) -> str:
    """pytest's last summary line ("250 passed, 1 xfailed in 380.12s"), or the log's last line."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    for line in reversed(lines):
        if re.fullmatch(r"=+ .* in [0-9.]+s( \([0-9:]+\))? =+", line):
            return line.strip("= ")
    return lines[-1] if lines else "(no output)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="how many runs in a row (default 5)")
    parser.add_argument(
        "--busy", type=int, default=os.cpu_count() or 2, help="busy loops beside the tests (default: cores)"
    )
    parser.add_argument("--log-dir", type=Path, help="where each run's output goes (default: a temp dir)")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args(argv)

    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="t3tui-under-load-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    # The README's test command (no cache directory written into the working tree).
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args.pytest_args]
    print(f"{args.runs} runs of {' '.join(command[1:])} beside {args.busy} busy loops; logs in {log_dir}")
    sys.stdout.flush()

    signal.signal(signal.SIGTERM, interrupt)
    # Started in the background by a script (``under_load.py &``), SIGINT is ignored and
    # every process started from here would inherit that: the suite runs as from a terminal.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    busy = start_busy(args.busy)
    started_all = time.monotonic()
    passed = 0
    code = 0
    suite: subprocess.Popen[bytes] | None = None
    try:
        for run in range(1, args.runs + 1):
            log = log_dir / f"run-{run}.log"
            started = time.monotonic()
            with open(log, "wb") as out:
                suite = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
                code = suite.wait()
            suite = None
            took = time.monotonic() - started
            print(
                f"run {run}/{args.runs}: {'passed' if code == 0 else f'FAILED (exit {code})'} "
                f"in {took / 60:.1f} min: {outcome(log)}"
            )
            sys.stdout.flush()
            if code != 0:
                print(f"stopped at the first failure; its output: {log}")
                break
            passed += 1
    except KeyboardInterrupt:
        print("interrupted")
        code = 130
    finally:
        if suite is not None and suite.poll() is None:
            suite.send_signal(signal.SIGINT)
            try:
                suite.wait(30)
            except subprocess.TimeoutExpired:
                suite.kill()
                suite.wait()
        stop_busy(busy)
    total = (time.monotonic() - started_all) / 60
    print(f"{passed} of {args.runs} runs passed under load ({total:.1f} min in all)")
    return code


if __name__ == "__main__":
    sys.exit(main())
