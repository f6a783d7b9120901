"""Contract test: every request t3tui's client makes fits the real server's OpenAPI spec.

The real ``OpencodeClient`` (and the ``EventStream`` on top of it) is driven through every
public method that talks to the server, against a real ``opencode serve`` of this module's
own (``global_dispose`` and the auth calls stay off the shared server). A recording httpx
transport keeps each request: method, path, query and JSON body. Each one is then checked
against ``GET /doc`` (tests/live/openapi.py): the path is a route of the spec with that
method, every query parameter is declared (and the required ones sent), and the body fits
``requestBody.content["application/json"].schema``. The server itself strips keys it does
not know rather than refusing them, so only the spec can catch a misspelt key.

Two completeness checks keep the contract honest as the client grows: every
``(method, route)`` the source of ``t3tui/`` names (read with ``ast``) must be exercised
here ("not covered: METHOD /path"), and so must every public coroutine of the client.

The OAuth calls are not sent: a transport-level canned answer stands in for the server
(a real authorize could start a sign-in flow), but the request the client built is
checked like every other.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import re
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from t3tui.opencode.client import OpencodeClient, ascending_id
from t3tui.state.prompt import Mention, mention_parts

from .helpers import LiveClient
from .mockmodel import MockModel
from .openapi import NO_BODY, Spec, show, template_key
from .opencode_server import OpencodeServer

PACKAGE = Path(__file__).resolve().parents[2] / "t3tui"
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
FAKE_PROVIDER = "t3tui-contract-fake"
FAKE_KEY = "sk-t3tui-contract-not-a-key"
WAIT = 60.0  # for a turn to end, a permission or question to show up
SLOW_ANSWER = 120.0  # read timeout of the client under test

# Requests answered by the transport itself, never sent: (method, path regex) -> (status, JSON).
CANNED: dict[tuple[str, str], tuple[int, Any]] = {
    ("POST", r"/provider/[^/]+/oauth/authorize"): (
        200,
        {"url": "http://127.0.0.1:9/never", "method": "code", "instructions": "canned by the contract test"},
    ),
    ("POST", r"/provider/[^/]+/oauth/callback"): (200, True),
}


# ---------------------------------------------------------------------------------------
# recording
# ---------------------------------------------------------------------------------------


@dataclass
class Sent:
    """One request as it left the client."""

    method: str
    path: str
    query: list[tuple[str, str]]
    body: Any  # the decoded JSON, or NO_BODY
    content_type: str
    canned: bool

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        body = "" if self.body is NO_BODY else f" {show(self.body, 200)}"
        return f"{self.method} {self.path}{'?' + query if query else ''}{body}"


class RecordingTransport(httpx.AsyncBaseTransport):
    """A real transport that records every request; ``CANNED`` routes get a made-up answer."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[Sent] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        body: Any = NO_BODY
        if content:
            try:
                body = json.loads(content)
            except ValueError:
                body = f"<not JSON: {content[:80]!r}>"
        method, path = request.method, request.url.path
        canned = next((a for (m, p), a in CANNED.items() if m == method and re.fullmatch(p, path)), None)
        self.sent.append(
            Sent(
                method,
                path,
                list(request.url.params.multi_items()),
                body,
                request.headers.get("content-type", ""),
                canned is not None,
            )
        )
        if canned is not None:
            status, answer = canned
            return httpx.Response(status, json=answer, request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Exchange:
    """What the drive sent and called, and how it ended (``error``: None if it got through)."""

    recorder: RecordingTransport = field(default_factory=RecordingTransport)
    called: set[str] = field(default_factory=set)
    error: str | None = None

    @property
    def sent(self) -> list[Sent]:
        return self.recorder.sent


class Tracked:
    """Wraps the client; remembers the name of every method called through it."""

    def __init__(self, client: OpencodeClient, called: set[str]) -> None:
        self._client = client
        self.called = called

    def __getattr__(self, name: str) -> Any:
        self.called.add(name)
        return getattr(self._client, name)


def client_coroutines() -> set[str]:
    """The public coroutine methods of ``OpencodeClient`` that make a request."""
    plumbing = {"request", "aclose"}
    return {
        name
        for name, fn in inspect.getmembers(OpencodeClient, inspect.iscoroutinefunction)
        if not name.startswith("_") and name not in plumbing
    }


# ---------------------------------------------------------------------------------------
# the routes the source names
# ---------------------------------------------------------------------------------------


def _route_text(node: ast.expr) -> str | None:
    """A path argument as a route shape (``f"/session/{sid}"`` → ``/session/{}``); an
    f-string that starts with a base URL (``f"{self.url}/global/health"``) loses it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        pieces = list(node.values)
        if pieces and isinstance(pieces[0], ast.FormattedValue):
            pieces = pieces[1:]  # the base URL: a route always starts with "/"
        text = "".join(
            p.value if isinstance(p, ast.Constant) and isinstance(p.value, str) else "{}" for p in pieces
        )
    else:
        return None
    return text.split("?", 1)[0] if text.startswith("/") else None


def routes_in_source(package: Path = PACKAGE) -> tuple[dict[tuple[str, str], list[str]], list[str]]:
    """``{(METHOD, shape): ["file.py:line", ...]}`` for every request call in the package:
    ``x.request("GET", "/path", ...)``, ``x.stream("GET", ...)`` and ``x.get("/path")``-style
    calls; and the calls whose method is literal but whose path cannot be read."""
    routes: dict[tuple[str, str], list[str]] = {}
    unreadable: list[str] = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            where = f"{path.relative_to(package.parent)}:{node.lineno}"
            attr, args = node.func.attr, node.args
            first = args[0] if args else None
            if (
                attr in ("request", "stream", "_send")
                and isinstance(first, ast.Constant)
                and first.value in HTTP_METHODS
            ):
                method = str(first.value)
                shape = _route_text(args[1]) if len(args) > 1 else None
                if shape is None:
                    unreadable.append(f"{where}: {ast.unparse(node)[:100]}")
                    continue
            elif attr.upper() in HTTP_METHODS and first is not None and (shape := _route_text(first)):
                method = attr.upper()
            else:
                continue
            routes.setdefault((method, shape), []).append(where)
    return routes, unreadable


# ---------------------------------------------------------------------------------------
# driving the client
# ---------------------------------------------------------------------------------------


async def poll(fetch: Callable[[], Awaitable[Any]], pred: Callable[[Any], Any], what: str) -> Any:
    """Fetch until ``pred`` holds for the answer; return what ``pred`` returned."""
    deadline = time.monotonic() + WAIT
    while True:
        answer = await fetch()
        found = pred(answer)
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {WAIT:g}s waiting for {what}; last: {show(answer, 400)}")
        await asyncio.sleep(0.05)


async def settled(c: Tracked, sid: str, directory: str, mid: str) -> None:
    """Wait until the turn of user message ``mid`` is over: its replies are complete (so
    it did start) and the session is idle (so no further step is coming)."""

    def done(messages: list[dict[str, Any]]) -> bool:
        replies = [m["info"] for m in messages if m["info"].get("parentID") == mid]
        return bool(replies) and all((r.get("time") or {}).get("completed") for r in replies)

    await poll(lambda: c.raw_messages(sid, directory), done, f"the turn of {mid} to end")
    await poll(
        lambda: c.raw_status(directory),
        lambda status: (status.get(sid) or {}).get("type", "idle") == "idle",
        f"{sid} idle",
    )


def pending(sid: str) -> Callable[[list[dict[str, Any]]], dict[str, Any] | None]:
    return lambda requests: next((r for r in requests if r.get("sessionID") == sid), None)


async def drive(server: OpencodeServer, exchange: Exchange) -> None:
    """Every request-making client method once (some twice, to cover optional keys).
    What is sent lands in ``exchange`` as it goes, so a failure halfway keeps it."""
    project = server.project_dir("contract")
    (project / "src").mkdir(exist_ok=True)
    (project / "src" / "main.py").write_text("print('one')\nprint('two')\n")
    directory = str(project)
    # LiveClient runs the EventStream: GET /global/event and its resync go through the recorder.
    async with LiveClient(server.url, [directory], transport=exchange.recorder) as lc:
        # A loaded machine makes some first answers slow (/find/file, /provider: 10-15 s
        # with two busy loops on 2 cores); how fast the server answers is not the point here.
        lc.client.http.timeout = httpx.Timeout(SLOW_ANSWER, connect=5.0)
        c = Tracked(lc.client, exchange.called)
        assert (await c.health()).healthy is True

        parent = await c.create_session(directory, title="contract parent")
        child = await c.create_session(directory, title="contract child", parent_id=parent.id)
        assert child.parentID == parent.id
        assert (await c.get_session(child.id, directory)).title == "contract child"
        assert parent.id in {s.id for s in await c.list_sessions(directory)}
        assert child.id in {s["id"] for s in await c.raw_sessions(directory)}
        assert isinstance(await c.raw_status(directory), dict)
        agents = await c.raw_agents(directory)
        assert "build" in {a["name"] for a in agents}
        commands = await c.raw_commands(directory)
        assert "init" in {cmd["name"] for cmd in commands}
        assert "src/main.py" in await c.find_files("main", directory, limit=5)
        sid = parent.id

        # A prompt with everything the app can put in it: @file with a range, @dir/, @agent.
        text = "look at @src/main.py#1-2 and @src/ then ask @general"
        # Built by the app's own code, so the contract covers what t3tui really sends.
        picked = [Mention.parse("@src/main.py#1-2"), Mention.parse("@src/")]
        parts = mention_parts(text, directory, picked, ["general"])
        assert [p["type"] for p in parts] == ["file", "file", "agent"]
        mid = ascending_id("msg")
        await c.prompt_async(
            sid,
            directory,
            text,
            model=("mock", "fast"),
            message_id=mid,
            agent="build",
            variant="high",
            parts=parts,
        )
        await settled(c, sid, directory, mid)
        message = await c.raw_message(sid, mid, directory)
        assert [p["filename"] for p in message["parts"] if p["type"] == "file"] == ["src/main.py#1-2", "src/"]

        # The work panel's: the thread's todo list and what it changed (all of it, one turn).
        assert isinstance(await c.todos(sid, directory), list)
        assert isinstance(await c.session_diff(sid, directory), list)
        assert isinstance(await c.session_diff(sid, directory, mid), list)

        renamed = await c.rename_session(sid, directory, "contract renamed")
        assert renamed.title == "contract renamed"

        # Undo that prompt, then bring it back (/undo, /redo).
        reverted = await c.revert(sid, directory, mid)
        assert reverted.revert is not None and reverted.revert.messageID == mid
        assert (await c.unrevert(sid, directory)).revert is None

        # The sidebar's listings: a page, a search, a whole project; every project.
        assert len(await c.list_sessions(directory, limit=1)) == 1
        assert [s.id for s in await c.list_sessions(directory, search="contract renamed")] == [sid]
        assert child.id in {s["id"] for s in await c.raw_sessions(directory, project=True, limit=50)}
        assert str(project) in {p["worktree"] for p in await c.raw_projects()}
        first, after = await c.raw_session_page(limit=1)
        assert len(first) == 1 and after is not None
        second, _ = await c.raw_session_page(limit=1, cursor=after)
        assert second and second[0]["id"] != first[0]["id"]
        found, _ = await c.raw_session_page(limit=5, search="contract renamed")
        assert [s["id"] for s in found] == [sid]

        # Fork before the prompt (an empty thread), fork all of it, compact it, delete a fork.
        early = await c.fork_session(sid, directory, mid)
        whole = await c.fork_session(sid, directory, None)
        assert early.id != whole.id and early.directory == directory
        assert await c.summarize(whole.id, directory, ("mock", "fast")) is True
        assert await c.delete_session(early.id, directory) is True

        # A command with a file part, then a shell run: both answer when the turn ends.
        args = "focus on @src/main.py"
        file_parts = mention_parts(args, directory, [Mention("src/main.py")])
        cmd_mid = ascending_id("msg")
        await c.run_command(
            sid,
            directory,
            "init",
            args,
            model=("mock", "fast"),
            message_id=cmd_mid,
            agent="build",
            variant="high",
            parts=file_parts,
        )
        await settled(c, sid, directory, cmd_mid)
        shell = await c.run_shell(
            sid,
            directory,
            "echo contract-shell",
            agent="build",
            model=("mock", "fast"),
            message_id=ascending_id("msg"),
        )
        assert isinstance(shell, dict) and shell.get("info", {}).get("role") == "assistant"
        assert await c.abort(sid, directory) is True

        # A permission (rejected with a reason), a question answered, one rejected.
        perm_mid = ascending_id("msg")
        await c.prompt_async(sid, directory, "read a file", model=("mock", "toolread"), message_id=perm_mid)
        perm = await poll(lambda: c.raw_permissions(directory), pending(sid), "a permission request")
        assert await c.reply_permission(perm["id"], directory, "reject", "not in the contract test") is True
        await settled(c, sid, directory, perm_mid)
        for answer in ([["Blue"]], None):
            q_mid = ascending_id("msg")
            await c.prompt_async(sid, directory, "ask me", model=("mock", "question"), message_id=q_mid)
            question = await poll(lambda: c.raw_questions(directory), pending(sid), "a question")
            if answer is not None:
                assert await c.reply_question(question["id"], directory, answer) is True
            else:
                assert await c.reject_question(question["id"], directory) is True
            await settled(c, sid, directory, q_mid)

        # Configuration and providers; an API key for a provider that does not exist, removed.
        assert isinstance(await c.raw_config(directory), dict)
        assert "mock" in {p["id"] for p in (await c.raw_config_providers(directory))["providers"]}
        assert "mock" in {p["id"] for p in (await c.raw_providers(directory))["all"]}
        assert isinstance(await c.provider_auth_methods(directory), dict)
        assert await c.set_api_key(FAKE_PROVIDER, FAKE_KEY) is True
        assert await c.remove_auth(FAKE_PROVIDER) is True
        assert (await c.oauth_authorize(FAKE_PROVIDER, 0, directory))["method"] == "code"
        assert await c.oauth_callback(FAKE_PROVIDER, 0, "contract-code", directory) is True

        # Last: it disposes every instance of this module's own server.
        assert (await c.global_dispose()).status == "completed"


# ---------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(mock_model: MockModel, opencode_binary: Path) -> Iterator[OpencodeServer]:
    """A server of this module's own: the contract disposes instances and writes auth."""
    s = OpencodeServer(model_base_url=mock_model.base_url, binary=opencode_binary)
    s.start()
    try:
        yield s
    finally:
        s.stop(cleanup=True)


@pytest.fixture(scope="module")
def spec(server: OpencodeServer) -> Spec:
    resp = httpx.get(f"{server.url}/doc", timeout=SLOW_ANSWER)  # 13 s seen under load
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
    return Spec(resp.json())


@pytest.fixture(scope="module")
def exchange(server: OpencodeServer, spec: Spec) -> Exchange:
    exchange = Exchange()
    try:
        asyncio.run(drive(server, exchange))
    except Exception:
        # Kept for test_the_drive_ran_to_the_end: the requests sent up to the failure are
        # still checked against the spec, which says better than the server what is wrong.
        exchange.error = traceback.format_exc()
    return exchange


def exercised(spec: Spec, sent: list[Sent]) -> set[tuple[str, str]]:
    """The ``(METHOD, template)`` of every request sent on a path the spec has."""
    return {(s.method, found[0]) for s in sent if (found := spec.match(s.path)) is not None}


# ---------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------


def test_every_request_fits_the_spec(spec: Spec, exchange: Exchange) -> None:
    assert exchange.sent, "the client sent nothing"
    wrong: dict[tuple[str, ...], Sent] = {}  # the same mistake repeats on every poll: once
    for sent in exchange.sent:
        found = spec.check_request(sent.method, sent.path, sent.query, sent.body)
        if sent.body is not NO_BODY and not sent.content_type.startswith("application/json"):
            found.append(f"{sent.method} {sent.path}: body sent as {sent.content_type!r}, not JSON")
        if found:
            wrong.setdefault(tuple(found), sent)
    report = [f"{chr(10).join(found)}\n    request: {sent}" for found, sent in wrong.items()]
    assert not report, f"{len(report)} request(s) do not fit the server's OpenAPI spec:\n" + "\n".join(report)


def test_the_drive_ran_to_the_end(exchange: Exchange) -> None:
    """Every call was answered as the client expects (a refusal would show here, after
    the spec's own account of the request above)."""
    assert exchange.error is None, exchange.error


def test_every_route_in_the_source_is_exercised(spec: Spec, exchange: Exchange) -> None:
    source, unreadable = routes_in_source()
    assert not unreadable, "request calls whose route cannot be read from the source:\n" + "\n".join(
        unreadable
    )
    assert ("GET", "/global/event") in source, "the event stream's route was not found in the source"
    shapes = {(method, template_key(template)) for method, template in exercised(spec, exchange.sent)}
    lines = []
    for method, shape in sorted(set(source) - shapes):
        route = spec.template_for(shape) or shape
        lines.append(f"not covered: {method} {route} (called at {', '.join(source[(method, shape)])})")
    for method, shape in sorted(shapes - set(source)):
        lines.append(f"exercised but named nowhere in t3tui/: {method} {spec.template_for(shape) or shape}")
    assert not lines, "\n".join(lines)


def test_every_client_method_is_exercised(exchange: Exchange) -> None:
    missing = sorted(client_coroutines() - exchange.called)
    assert not missing, "client methods the contract test never calls: " + ", ".join(missing)


def test_doc_is_an_openapi_3_1_spec_this_checker_understands(spec: Spec, exchange: Exchange) -> None:
    assert spec.doc["openapi"].startswith("3.1")
    assert len(spec.paths) > 100 and "/doc" not in spec.paths
    # A keyword the checker does not know would be a constraint silently left unchecked.
    unknown: dict[str, set[str]] = {}
    for method, template in exercised(spec, exchange.sent):
        schemas = [p.get("schema", {}) for p in spec.parameters(method, template)]
        schemas.append(spec.body_schema(method, template) or {})
        found = set().union(*(spec.unknown_keywords(s) for s in schemas))
        if found:
            unknown[f"{method} {template}"] = found
    assert unknown == {}, f"schema keywords openapi.py does not check: {unknown}"


def test_the_checker_names_what_is_wrong(spec: Spec) -> None:
    """The checker against the real spec, on requests that are wrong in known ways."""
    sid, cmd = "ses_contract", "/session/ses_contract/command"

    def problems(method: str, path: str, query: dict[str, str] | None = None, body: Any = NO_BODY) -> str:
        return "\n".join(spec.check_request(method, path, list((query or {}).items()), body))

    assert problems("POST", cmd, body={"command": "init", "arguments": ""}) == ""
    renamed = problems("POST", cmd, body={"command": "init", "args": ""})
    assert "POST /session/{sessionID}/command: body: required key 'arguments' is missing" in renamed
    assert "key 'args' is not in the schema" in renamed
    assert "body.model: expected string" in problems(
        "POST", cmd, body={"command": "c", "arguments": "", "model": {"providerID": "p", "modelID": "m"}}
    )
    assert "body.model: required key 'modelID' is missing" in problems(
        "POST",
        f"/session/{sid}/shell",
        body={"agent": "build", "command": "ls", "model": {"providerID": "p"}},
    )
    part = problems(
        "POST", f"/session/{sid}/prompt_async", body={"parts": [{"type": "file", "url": "file:///x"}]}
    )
    assert "nearest is FilePartInput" in part and "body.parts[0]: required key 'mime' is missing" in part
    assert 'body.reply: "maybe" is not one of' in problems(
        "POST", "/permission/per_1/reply", body={"reply": "maybe"}
    )
    assert 'path parameter sessionID: "nope" does not match' in problems("GET", "/session/nope/message")
    assert "required query parameter 'query' is missing" in problems("GET", "/find/file")
    assert "query limit: 500 is above the maximum 200" in problems(
        "GET", "/find/file", {"query": "a", "limit": "500"}
    )
    assert "query parameter 'dirctory' is not declared" in problems("GET", "/session", {"dirctory": "/x"})
    assert problems("GET", "/session/status") == ""  # a literal segment, not {sessionID}
    assert "no path in the spec matches" in problems("GET", "/sessions")
    assert "the spec has no PATCH on /global/health" in problems("PATCH", "/global/health")
    assert "sends a body" in problems("GET", "/agent", body={})
