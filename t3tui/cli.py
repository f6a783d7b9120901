"""Command line: ``t3tui`` (the app), ``t3tui capture`` and ``t3tui replay``.

``replay`` must stay free of Textual imports, so the app is imported only when it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path

from t3tui import __version__

PASSWORD_HELP = (
    "server password. Every local user can read it in the process list (/proc/PID/cmdline): "
    "prefer $OPENCODE_SERVER_PASSWORD or --password-file"
)
PASSWORD_FILE_HELP = "read the server password from the first line of this file ('-': standard input)"


class PasswordFileError(Exception):
    pass


def read_password_file(spec: str) -> str:
    """The first line of ``spec`` without its line ending; ``-`` reads standard input
    (asking without echo when it is a terminal)."""
    try:
        if spec == "-":
            if sys.stdin is None:
                raise PasswordFileError("--password-file -: there is no standard input")
            if sys.stdin.isatty():
                import getpass

                line = getpass.getpass("server password: ")
            else:
                line = sys.stdin.readline()
        else:
            with open(Path(spec).expanduser(), encoding="utf-8") as fh:
                line = fh.readline()
    except OSError as exc:
        raise PasswordFileError(f"cannot read --password-file {spec}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, EOFError) as exc:
        raise PasswordFileError(f"cannot read --password-file {spec}: {exc}") from None
    password = line.rstrip("\r\n")
    if not password:
        raise PasswordFileError(f"--password-file {spec}: the first line is empty")
    return password


def resolve_password(args: argparse.Namespace) -> str | None:
    """``--password`` or the password from ``--password-file``, registered as a secret
    together with ``$OPENCODE_SERVER_PASSWORD`` so that nothing t3tui writes shows them."""
    from t3tui import logs

    password = getattr(args, "password", None)
    spec = getattr(args, "password_file", None)
    if spec is not None:
        if password is not None:
            raise PasswordFileError("give --password or --password-file, not both")
        password = read_password_file(spec)
    logs.add_secret(password)
    logs.add_secret(os.environ.get("OPENCODE_SERVER_PASSWORD"))
    return password


def _out(text: str) -> None:
    """Print ``text`` whatever the terminal's encoding; a closed pipe ends it quietly."""
    try:
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            sys.stdout.write(text)
        else:
            sys.stdout.flush()
            buffer.write(text.encode(sys.stdout.encoding or "utf-8", errors="backslashreplace"))
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null so that it can.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _replay(args: argparse.Namespace) -> int:
    from t3tui.eventlog import ReplayStats, dump, json_for_terminal, replay, summary
    from t3tui.text import clean

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such log file: {path}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    stats = ReplayStats()
    try:
        store = replay(path, stats=stats)
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if args.json:
        # Escaped where a terminal would act on it (C1 controls) or cannot print it
        # (lone surrogates); C0 controls are escaped by json.dumps.
        _out(json_for_terminal(json.dumps(dump(store), ensure_ascii=False, indent=2)) + "\n")
    else:
        # Server text is data: no escape code in it reaches the terminal.
        text = "\n".join(clean(line) for line in summary(store).split("\n"))
        _out(f"{text}\n\n({store.events} events in {time.perf_counter() - started:.3f}s)\n")
    if stats.skipped:
        print(
            f"skipped {stats.skipped} of {stats.lines} lines (not JSON, of no known kind, "
            "or not what the state can take)",
            file=sys.stderr,
        )
    return 0


def _capture(args: argparse.Namespace) -> int:
    from t3tui.capture import capture
    from t3tui.logs import redact_text

    try:
        password = resolve_password(args)
    except PasswordFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(
            capture(
                args.url,
                Path(args.output),
                password=password,
                username=args.username,
                directories=args.directory or [],
                quiet=args.quiet,
            )
        )
    except ValueError as exc:
        print(f"error: {redact_text(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="t3tui", description="A terminal client for coding-agent threads on opencode servers."
    )
    parser.add_argument("--version", action="version", version=f"t3tui {__version__}")
    parser.add_argument("--url", help="opencode server URL (default: start one)")
    parser.add_argument("--password", help=PASSWORD_HELP)
    parser.add_argument("--password-file", metavar="PATH", help=PASSWORD_FILE_HELP)
    parser.add_argument("--username", help="server username (default: $OPENCODE_SERVER_USERNAME or opencode)")
    parser.add_argument("--directory", help="project directory (default: the current directory)")
    parser.add_argument("--lang", help="interface language (en, zh)")
    parser.add_argument("--session", help="open this thread (a session id, ses_…) at start")
    parser.add_argument("--debug", action="store_true", help="log more")
    parser.add_argument("--config-path", action="store_true", help="print where the config file is, and exit")
    sub = parser.add_subparsers(dest="command")

    cap = sub.add_parser("capture", help="record a server's event stream into an event log")
    cap.add_argument("--url", required=True, help="opencode server URL")
    cap.add_argument("--output", "-o", required=True, help="event log file to write")
    cap.add_argument("--password", help=PASSWORD_HELP)
    cap.add_argument("--password-file", metavar="PATH", help=PASSWORD_FILE_HELP)
    cap.add_argument("--username", help="server username")
    cap.add_argument("--directory", action="append", help="also resync this directory (repeatable)")
    cap.add_argument("--quiet", "-q", action="store_true", help="print nothing")
    cap.set_defaults(func=_capture)

    rep = sub.add_parser(
        "replay",
        help="replay an event log and print the resulting state",
        description="Replay an event log and print the state t3tui had after it. The log and "
        "state dump formats are in docs/STATE.md of t3tui's source (the rules t3tui adds: "
        "docs/state-rules.md).",
    )
    rep.add_argument("file", help='event log (JSON lines, docs/STATE.md "Event log")')
    rep.add_argument("--json", action="store_true", help='print the state dump (docs/STATE.md, "State dump")')
    rep.set_defaults(func=_replay)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is not None:
        return int(func(args))
    if args.config_path:
        from t3tui.config import EXAMPLE, config_path

        path = config_path()
        print(path)
        if not path.exists():
            print(f"(not created yet; an example:)\n{EXAMPLE}", file=sys.stderr)
        return 0
    try:
        args.password = resolve_password(args)
    except PasswordFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from t3tui.launch import run_app

    return run_app(args)
