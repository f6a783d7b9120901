"""Start the app from the command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import platformdirs

from t3tui.i18n import choose_language


def run_app(args: argparse.Namespace) -> int:
    from t3tui.app.app import T3App
    from t3tui.client import OpencodeClient

    url = args.url or os.environ.get("T3TUI_URL")
    if not url:
        print("error: no server URL. Start `opencode serve` and pass --url http://127.0.0.1:4096", file=sys.stderr)
        return 2
    try:
        client = OpencodeClient(url, password=args.password, username=args.username)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    directory = str(Path(args.directory or os.getcwd()).resolve())
    state_dir = Path(platformdirs.user_state_dir("t3tui"))
    app = T3App(client, directory=directory, lang=choose_language(args.lang), state_dir=state_dir)
    app.run()
    return 0
