"""Command line: ``t3tui`` (the app), ``t3tui capture`` and ``t3tui replay``.

``replay`` must stay free of Textual imports, so the app is imported only when it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from t3tui import __version__


def _replay(args: argparse.Namespace) -> int:
    from t3tui.eventlog import dump, replay, summary

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such log file: {path}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    store = replay(path)
    if args.json:
        json.dump(dump(store), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(summary(store))
        print(f"\n({store.events} events in {time.perf_counter() - started:.3f}s)")
    return 0


def _capture(args: argparse.Namespace) -> int:
    from t3tui.capture import capture

    try:
        return asyncio.run(
            capture(
                args.url,
                Path(args.output),
                password=args.password,
                username=args.username,
                directories=args.directory or [],
                quiet=args.quiet,
            )
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="t3tui", description="A terminal client for coding-agent threads on opencode servers."
    )
    parser.add_argument("--version", action="version", version=f"t3tui {__version__}")
    parser.add_argument("--url", help="opencode server URL (default: start one)")
    parser.add_argument("--password", help="server password (default: $OPENCODE_SERVER_PASSWORD)")
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
    cap.add_argument("--password", help="server password (default: $OPENCODE_SERVER_PASSWORD)")
    cap.add_argument("--username", help="server username")
    cap.add_argument("--directory", action="append", help="also resync this directory (repeatable)")
    cap.add_argument("--quiet", "-q", action="store_true", help="print nothing")
    cap.set_defaults(func=_capture)

    rep = sub.add_parser("replay", help="replay an event log and print the resulting state")
    rep.add_argument("file", help="event log (JSON lines)")
    rep.add_argument("--json", action="store_true", help="print the state dump of STATE.md")
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
    from t3tui.app.main import run_app

    return run_app(args)
