"""Start the app: settings, logging, an embedded server when no URL is given, then the UI."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import signal
import sys
from pathlib import Path
from typing import Any

from t3tui import config, logs
from t3tui.i18n import choose_language


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP while the app is not running: unwinds like Ctrl+C.

    A subclass, because CPython 3.11 marks a plain KeyboardInterrupt that leaves code run
    by ``exec()`` of a string (dataclasses and namedtuples do that while a lazy import
    runs) as unhandled even when t3tui catches it later, and then kills itself with
    SIGINT at exit instead of returning 128+signal.
    """


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_app(args: argparse.Namespace) -> int:
    settings = config.load()
    for problem in settings.problems:
        _say(f"t3tui: config: {problem}")
    log_path = logs.setup(config.log_dir(), debug=args.debug)
    directory = str(Path(args.directory or os.getcwd()).expanduser().resolve())
    if not Path(directory).is_dir():
        _say(f"error: --directory {directory} is not a directory")
        return 2
    lang = choose_language(args.lang, settings.language)
    url = args.url or settings.url
    password = args.password
    username = args.username or settings.username
    if password:
        logs.add_secret(password)
    env_password = os.environ.get("OPENCODE_SERVER_PASSWORD")
    if env_password:
        logs.add_secret(env_password)

    received: list[int] = []
    running: list[Any] = []  # the app, once it runs

    def stop(signum: int, _frame: object) -> None:
        received.append(signum)
        loop = asyncio._get_running_loop()
        if running and loop is not None:
            # Inside the app's event loop an exception would skip Textual's shutdown (the
            # terminal stays raw) and hang asyncio's cancellation of the app's tasks: ask
            # the app to quit instead, as Ctrl+Q does.
            loop.call_soon_threadsafe(running[0].exit, None, 128 + signum)
            return
        raise Stopped

    def interrupted() -> int:
        return 128 + received[-1] if received else 130

    # Before the server starts, so that SIGTERM or SIGHUP while it boots stops it too.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)

    server = None
    if not url:
        from t3tui.opencode.server import EmbeddedServer, ServerError, find_opencode, not_found_message

        binary = find_opencode(settings.opencode_path)
        if binary is None:
            _say(not_found_message(settings.opencode_path, settings.source("opencode_path")))
            return 1
        server = EmbeddedServer(binary, log_dir=config.log_dir(), cwd=directory)
        logs.add_secret(server.password)
        atexit.register(server.stop)
        _say(f"Starting opencode ({binary}) on {server.url}…")
        try:
            server.start(
                progress=lambda s: print(f"\r  waiting for the server: {s:4.1f}s", end="", file=sys.stderr)
            )
        except ServerError as exc:
            _say(f"\nerror: {exc}")
            return 1
        except KeyboardInterrupt:
            server.stop()
            _say("\ninterrupted; the server was stopped.")
            return interrupted()
        _say("\r  the server is ready.            ")
        url, password, username = server.url, server.password, "opencode"

    try:
        from t3tui.app.app import T3App
        from t3tui.app.controllers.attention import AttentionSettings
        from t3tui.opencode.client import OpencodeClient

        try:
            client = OpencodeClient(url, password=password, username=username)
        except ValueError as exc:
            _say(f"error: {exc}. A server URL looks like http://127.0.0.1:4096")
            return 2
        app = T3App(
            client,
            directory=directory,
            lang=lang,
            state_dir=config.state_dir(),
            notices=settings.problems,
            keymap=settings.keys,
            theme=settings.theme,
            server_log=server.log_path if server is not None else None,
            initial_thread=args.session,
            attention=AttentionSettings(settings.bell, settings.notify, settings.attention_first),
        )
        running.append(app)
        app.run()
        code = app.return_code or 0
    except KeyboardInterrupt:
        code = interrupted()
    finally:
        if server is not None:
            died = not server.running
            server.stop()
            if died:
                _say(f"The opencode server stopped during the session. Its log is {server.log_path}")
    if log_path is not None and args.debug:
        _say(f"t3tui log: {log_path}")
    return int(code or 0)
