"""Passwords and keys: never shown, never printed, never written by t3tui.

One registry of secret values (``t3tui.logs.add_secret``) feeds the log formatter, the
event-log writer and the error screens; every way a password reaches t3tui registers it.
Files that hold conversations are created private (0600).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sse_server import Script, SSEServer, envelope
from test_capture_replay import DIR, PY, ROOT, has_line, info_event, run_capture

from t3tui import cli, logs, observations
from t3tui.eventlog import EventLogWriter, replay
from t3tui.opencode import server as embedded
from t3tui.opencode.client import OpencodeClient
from t3tui.opencode.server import EmbeddedServer, ServerError


def new_secret(prefix: str = "pw") -> str:
    return f"{prefix}-{secrets.token_urlsafe(12)}"


@pytest.fixture
def umask022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# -- 12. a password in the URL ------------------------------------------------------------------


def test_url_password_leaves_the_url_and_becomes_basic_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENCODE_SERVER_PASSWORD", raising=False)
    monkeypatch.delenv("OPENCODE_SERVER_USERNAME", raising=False)
    pw = new_secret()
    client = OpencodeClient(f"http://opencode:{pw}@127.0.0.1:4096")
    assert client.base_url == "http://127.0.0.1:4096"
    assert client._auth == ("opencode", pw)
    assert str(client.http.base_url).rstrip("/") == "http://127.0.0.1:4096"
    # Percent-encoded userinfo is decoded; a username from the URL is used.
    client = OpencodeClient("https://bob:p%40ss%3Aword@example.invalid/base")
    assert client.base_url == "https://example.invalid/base" and client._auth == ("bob", "p@ss:word")
    assert logs.redact_text("p@ss:word and p%40ss%3Aword") == "*** and ***"
    # An explicit password wins over the URL's; the URL's is still a secret.
    other = new_secret()
    client = OpencodeClient(f"http://opencode:{pw}@127.0.0.1:4096", password=other, username="amy")
    assert client._auth == ("amy", other) and pw not in client.base_url
    # The URL's password wins over the environment's.
    monkeypatch.setenv("OPENCODE_SERVER_PASSWORD", new_secret())
    assert OpencodeClient(f"http://x:{pw}@127.0.0.1:1")._auth == ("x", pw)


@pytest.mark.parametrize(
    "url", ["ftp://opencode:{pw}@host", "http://opencode:{pw}@", "opencode:{pw}@host:4096"]
)
def test_a_bad_url_error_hides_its_password(url: str) -> None:
    pw = new_secret()
    with pytest.raises(ValueError) as info:
        OpencodeClient(url.format(pw=pw))
    assert pw not in str(info.value)


def test_every_password_source_is_registered(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    values = {name: new_secret(name) for name in ("flag", "file", "env", "url", "server", "key", "code")}
    monkeypatch.setenv("OPENCODE_SERVER_PASSWORD", values["env"])
    args = cli.build_parser().parse_args(["--password", values["flag"]])
    assert cli.resolve_password(args) == values["flag"]
    pwfile = tmp_path / "pw"
    pwfile.write_text(values["file"] + "\n")
    assert (
        cli.resolve_password(cli.build_parser().parse_args(["--password-file", str(pwfile)]))
        == values["file"]
    )
    OpencodeClient(f"http://opencode:{values['url']}@127.0.0.1:1")
    server = EmbeddedServer("/nonexistent/opencode", log_dir=tmp_path, port=1)
    values["server"] = server.password

    class Stop(Exception):
        pass

    async def refuse(*_a: Any, **_k: Any) -> Any:
        raise Stop

    import asyncio

    client = OpencodeClient("http://127.0.0.1:1")
    monkeypatch.setattr(client, "request", refuse)
    for call in (client.set_api_key("openai", values["key"]), client.oauth_callback("x", 0, values["code"])):
        with pytest.raises(Stop):
            asyncio.run(call)
    for name, value in values.items():
        assert logs.redact_text(f"[{value}]") == "[***]", name


# -- 13. --password-file ---------------------------------------------------------------------------


def test_help_warns_that_password_is_visible() -> None:
    for argv in (["--help"], ["capture", "--help"]):
        r = subprocess.run([PY, "-m", "t3tui", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60)
        text = " ".join(r.stdout.split())
        assert "--password-file" in text
        assert "visible" in text or "can read it" in text, text
        assert "OPENCODE_SERVER_PASSWORD" in text


def test_password_file_reads_the_first_line(tmp_path: Path) -> None:
    f = tmp_path / "pw"
    f.write_text("first line\r\nsecond\n")
    assert cli.read_password_file(str(f)) == "first line"
    f.write_text("no newline")
    assert cli.read_password_file(str(f)) == "no newline"
    f.write_text("\nsecond\n")
    with pytest.raises(cli.PasswordFileError, match="empty"):
        cli.read_password_file(str(f))
    with pytest.raises(cli.PasswordFileError, match="cannot read"):
        cli.read_password_file(str(tmp_path / "missing"))
    with pytest.raises(cli.PasswordFileError, match="not both"):
        cli.resolve_password(cli.build_parser().parse_args(["--password", "x", "--password-file", str(f)]))


def test_password_file_errors_exit_2_without_a_traceback(tmp_path: Path) -> None:
    for argv in (
        ["--password-file", str(tmp_path / "missing")],
        [
            "capture",
            "--url",
            "http://127.0.0.1:1",
            "-o",
            str(tmp_path / "x"),
            "--password-file",
            str(tmp_path),
        ],
    ):
        r = subprocess.run([PY, "-m", "t3tui", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and "password-file" in r.stderr and "Traceback" not in r.stderr, r.stderr


async def test_capture_with_password_file_and_stdin(tmp_path: Path) -> None:
    pw = new_secret()
    pwfile = tmp_path / "pw"
    pwfile.write_text(pw + "\n")
    for args, stdin in (
        (["--password-file", str(pwfile)], None),
        (["--password-file", "-"], (pw + "\n").encode()),
    ):
        async with SSEServer([Script(events=[info_event("hello")], ending="stall")]) as server:
            server.auth = ("opencode", pw)
            out = tmp_path / f"cap-{len(args[-1])}.jsonl"
            code, err = await run_capture(
                server, out, *args, until=has_line(lambda o: "event" in o), stdin=stdin
            )
            assert code == 0, err
            assert replay(out).threads, err
            assert pw not in err and pw not in out.read_text()


# -- 12. capture never prints or writes a password --------------------------------------------------


async def test_capture_hides_a_url_password(tmp_path: Path) -> None:
    pw = new_secret()
    leak = envelope(
        "message.part.updated",
        {
            "part": {
                "id": "prt_1",
                "sessionID": "ses_1",
                "messageID": "msg_1",
                "type": "text",
                "text": f"env says OPENCODE_SERVER_PASSWORD={pw}",
            }
        },
        DIR,
    )
    scripts = [Script(events=[info_event("t"), leak], ending="reset"), Script(ending="stall")]
    async with SSEServer(scripts) as server:
        server.auth = ("opencode", pw)
        out = tmp_path / "cap.jsonl"
        url = f"http://opencode:{pw}@127.0.0.1:{server.port}"
        code, err = await run_capture(
            server,
            out,
            url=url,
            until=lambda p: (
                has_line(lambda o: o.get("stream") == "closed")(p) and server.event_connections >= 2
            ),
        )
        authorizations = {r.authorization for r in server.requests}
    assert code == 0, err
    assert authorizations == {"Basic " + base64.b64encode(f"opencode:{pw}".encode()).decode()}
    text = out.read_text(encoding="utf-8")
    assert pw not in err, err
    assert pw not in text
    assert f"127.0.0.1:{server.port}" in err  # the URL is named, without its password
    assert "OPENCODE_SERVER_PASSWORD=***" in text  # the event is kept, the value cut
    reasons = [json.loads(line).get("reason") for line in text.splitlines() if '"closed"' in line]
    assert reasons and all(isinstance(r, str) for r in reasons)


def test_writer_cuts_registered_values_from_every_line(tmp_path: Path) -> None:
    pw = 'p"w\\-' + secrets.token_hex(6) + "-密码"
    key = new_secret("sk-plain")
    logs.add_secret(pw)
    logs.add_secret(key)
    path = tmp_path / "w.jsonl"
    with EventLogWriter(path) as w:
        w.write(observations.stream_closed(f"cannot connect to http://opencode:{pw}@host: refused"))
        w.write(
            observations.event(
                {"payload": {"type": "message.part.delta", "properties": {"delta": f"a {pw} b"}}}
            )
        )
        w.write(observations.event({"payload": {"type": "x", "properties": {pw: 1, "list": [[key]]}}}))
        w.write(observations.snapshot("providers", None, {"note": f"key {key}"}))
        w.write(observations.action("refresh", error=f"refused {key}", apiKey="short"))
    text = path.read_text(encoding="utf-8")
    for value in (pw, key, json.dumps(pw)[1:-1], json.dumps(pw, ensure_ascii=False)[1:-1], "short"):
        assert value not in text, value
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 5 and text.count("***") >= 6
    assert lines[1]["event"]["payload"]["properties"]["delta"] == "a *** b"


# -- 13. files that hold conversations are private ---------------------------------------------------


def test_log_file_is_private(tmp_path: Path, umask022: None) -> None:
    import logging

    before = list(logging.getLogger().handlers)
    try:
        path = logs.setup(tmp_path / "log")
        assert path is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
        path.chmod(0o644)
        logs.setup(tmp_path / "log")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        # Straight to t3tui's file handler: pytest's own capture (and xdist, which sends it
        # between processes as UTF-8) is not what is tested here.
        record = logging.LogRecord("t3tui.test", logging.WARNING, __file__, 1, "lone \udc80 here", None, None)
        for h in logging.getLogger().handlers:
            if h not in before:
                h.handle(record)
                h.flush()
        assert "lone" in path.read_text(errors="replace")
    finally:
        for h in logging.getLogger().handlers:
            if h not in before:
                h.close()
        logging.getLogger().handlers = before


def fake_opencode(tmp_path: Path, body: str = "") -> Path:
    """A stand-in that records its environment and the plugin it was given, then fails."""
    fake = tmp_path / "fake-opencode"
    fake.write_text(
        "#!/bin/sh\n"
        f'env > "{tmp_path}/env.txt"\n'
        f"{body}\n"
        'echo "opencode: cannot open the database" >&2\n'
        "exit 3\n"
    )
    fake.chmod(0o755)
    return fake


def test_embedded_server_log_is_private(tmp_path: Path, umask022: None) -> None:
    server = EmbeddedServer(str(fake_opencode(tmp_path)), log_dir=tmp_path / "log")
    server.log_path.parent.mkdir()
    server.log_path.write_text("an older run")
    server.log_path.chmod(0o644)
    with pytest.raises(ServerError, match="exited with code 3"):
        server.start(timeout=10)
    assert stat.S_IMODE(server.log_path.stat().st_mode) == 0o600
    assert "cannot open the database" in server.log_path.read_text()


# -- 14. the embedded server's password does not reach its tools ----------------------------------------


def read_env(tmp_path: Path) -> dict[str, str]:
    env = {}
    for line in (tmp_path / "env.txt").read_text().splitlines():
        k, sep, v = line.partition("=")
        if sep:
            env[k] = v
    return env


def test_embedded_server_gets_the_plugin_that_hides_its_password(tmp_path: Path, umask022: None) -> None:
    server = EmbeddedServer(str(fake_opencode(tmp_path)), log_dir=tmp_path / "log", env={"OPENCODE_PURE": ""})
    with pytest.raises(ServerError):
        server.start(timeout=10)
    env = read_env(tmp_path)
    assert env["OPENCODE_SERVER_PASSWORD"] == server.password  # opencode reads it from nowhere else
    assert server.password not in env["OPENCODE_CONFIG_CONTENT"]
    (spec,) = json.loads(env["OPENCODE_CONFIG_CONTENT"])["plugin"]
    assert spec.startswith("file:///") and server.password_hidden_from_tools
    plugin = Path(spec[len("file://") :])
    # Beside the logs, not in /tmp: a t3tui killed outright leaves nothing behind.
    assert plugin.parent == server.log_path.parent and plugin.is_file()
    assert server.password not in plugin.read_text()
    # Started again (or by a second t3tui): the same file, written whole again.
    server2 = EmbeddedServer(
        str(fake_opencode(tmp_path)), log_dir=tmp_path / "log", env={"OPENCODE_PURE": ""}
    )
    with pytest.raises(ServerError):
        server2.start(timeout=10)
    assert json.loads(read_env(tmp_path)["OPENCODE_CONFIG_CONTENT"])["plugin"] == [spec]
    assert sorted(p.name for p in plugin.parent.iterdir() if p.suffix == ".js" or ".tmp" in p.name) == [
        plugin.name
    ]


def test_plugin_file_is_private_and_forgets_the_password(tmp_path: Path, umask022: None) -> None:
    probe = (
        'p=$(python3 -c "import json,os; '
        "print(json.loads(os.environ['OPENCODE_CONFIG_CONTENT'])['plugin'][-1][7:])\")\n"
        f'stat -c %a "$p" > "{tmp_path}/mode.txt"; stat -c %a "$(dirname "$p")" >> "{tmp_path}/mode.txt"\n'
        f'cp "$p" "{tmp_path}/plugin.js"'
    )
    server = EmbeddedServer(str(fake_opencode(tmp_path, probe)), log_dir=tmp_path / "log")
    with pytest.raises(ServerError):
        server.start(timeout=10)
    assert (tmp_path / "mode.txt").read_text().split() == ["600", "700"]  # a new log dir is 0700
    assert (tmp_path / "plugin.js").read_text() == embedded.SCRUB_PLUGIN
    assert "delete process.env.OPENCODE_SERVER_PASSWORD" in embedded.SCRUB_PLUGIN


def test_users_own_config_content_is_kept() -> None:
    spec = "file:///tmp/x/p.js"
    assert json.loads(embedded.with_plugin(None, spec) or "") == {"plugin": [spec]}
    mine = json.dumps({"model": "a/b", "plugin": ["their-plugin"]})
    assert json.loads(embedded.with_plugin(mine, spec) or "") == {
        "model": "a/b",
        "plugin": ["their-plugin", spec],
    }
    assert embedded.with_plugin("{ // jsonc\n}", spec) is None
    assert embedded.with_plugin("[1]", spec) is None


def test_pure_opencode_loads_no_plugin_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    server = EmbeddedServer(
        str(fake_opencode(tmp_path)), log_dir=tmp_path / "log", env={"OPENCODE_PURE": "1"}
    )
    with pytest.raises(ServerError):
        server.start(timeout=10)
    assert not server.password_hidden_from_tools
    assert "OPENCODE_CONFIG_CONTENT" not in read_env(tmp_path)
    assert "inherit" in caplog.text


def test_capture_dump_has_no_env_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENCODE_SERVER_PASSWORD from the environment is a secret for the writer too."""
    pw = new_secret()
    r = subprocess.run(
        [
            PY,
            "-c",
            "import sys; from t3tui import cli; from t3tui.eventlog import EventLogWriter;"
            "cli.resolve_password(cli.build_parser().parse_args([]));"
            "w = EventLogWriter(sys.argv[1]);"
            "w.write({'stream': 'closed', 'reason': 'x ' + sys.argv[2]}); w.close()",
            str(tmp_path / "e.jsonl"),
            pw,
        ],
        cwd=ROOT,
        env={**os.environ, "OPENCODE_SERVER_PASSWORD": pw},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert pw not in (tmp_path / "e.jsonl").read_text()


def test_failed_server_log_tail_hides_its_password(tmp_path: Path) -> None:
    """The log's tail is printed when opencode fails to start; it may echo its env."""
    fake = fake_opencode(tmp_path, 'echo "env: OPENCODE_SERVER_PASSWORD=$OPENCODE_SERVER_PASSWORD \033[2J"')
    server = EmbeddedServer(str(fake), log_dir=tmp_path / "log")
    with pytest.raises(ServerError) as info:
        server.start(timeout=10)
    assert server.password in server.log_path.read_text()  # opencode's own log, 0600
    assert server.password not in str(info.value) and "\033" not in str(info.value)
    assert "OPENCODE_SERVER_PASSWORD=***" in str(info.value)
