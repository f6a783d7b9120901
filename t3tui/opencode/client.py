"""An async client of the opencode HTTP API (the part t3tui uses).

Every session call carries that session's own directory as ``?directory=``: opencode
routes a request to an instance by directory, and a session belongs to one (PROTOCOL.md
§3.3). Failures become :class:`OpencodeError` subclasses that carry the server's own
message, so the UI can show it as it is.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import string
import time
from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import TypeAdapter, ValidationError

from t3tui import logs
from t3tui.opencode import jsonsafe
from t3tui.opencode.client_requests import RequestCalls
from t3tui.opencode.sse import TooLarge, read_body
from t3tui.opencode.wire import (
    DisposeResult,
    Health,
    ProviderAuthAdapter,
    ProviderAuthMethod,
    Session,
    SessionListAdapter,
)

DEFAULT_USERNAME = "opencode"


class OpencodeError(Exception):
    """A request to the server failed. ``message`` is what the server said."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body


class ConnectError(OpencodeError):
    """The request never reached the server (refused, DNS, TLS, connect timeout)."""


class UncertainError(ConnectError):
    """The request was sent but no answer came (a read timeout, a dropped connection):
    the server may have acted on it. A prompt is then neither "sent" nor "not sent"
    until the client finds out."""


class ProtocolError(OpencodeError):
    """The server answered, but not with what its API promises (``[]`` for a session,
    a body too large to hold, JSON that is not JSON)."""


class AuthError(OpencodeError):
    """The server wants a (different) password: HTTP 401."""


class NotFoundError(OpencodeError):
    pass


class BadRequestError(OpencodeError):
    pass


class ServerError(OpencodeError):
    pass


def error_message(body: Any, fallback: str) -> str:
    """The human part of an error body: ``data.message``, ``message``, ``_tag``…"""
    if isinstance(body, dict):
        data = body.get("data")
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return data["message"]
        for key in ("message", "error", "name", "_tag"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict):
                inner = error_message(value, "")
                if inner:
                    return inner
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return fallback


def credentials(password: str | None = None, username: str | None = None) -> tuple[str, str] | None:
    """Basic-auth credentials from arguments, else ``OPENCODE_SERVER_PASSWORD``/``_USERNAME``.

    The password (and the header made from it) is registered with ``logs.add_secret``:
    nothing t3tui writes or shows will hold it.
    """
    password = password if password is not None else os.environ.get("OPENCODE_SERVER_PASSWORD")
    if not password:
        return None
    username = username or os.environ.get("OPENCODE_SERVER_USERNAME") or DEFAULT_USERNAME
    logs.add_secret(password)
    logs.add_secret(base64.b64encode(f"{username}:{password}".encode()).decode())
    return (username, password)


_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:/*)[^/?#]*@")


def without_userinfo(url: str) -> str:
    """``url`` as text with its ``user:password@`` (if any) replaced by ``***@``."""
    return _USERINFO.sub(r"\1***@", url)


_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_last_ms = 0
_counter = 0


def ascending_id(prefix: str) -> str:
    """An id in opencode's ascending format (``msg_`` + 12 hex + 14 base62).

    Creating the user message id on the client lets t3tui show the turn before the
    server answers, and match it when the server's copy arrives.
    """
    global _last_ms, _counter
    now = int(time.time() * 1000)
    if now != _last_ms:
        _last_ms, _counter = now, 0
    _counter += 1
    value = now * 0x1000 + _counter
    tail = "".join(secrets.choice(_BASE62) for _ in range(14))
    return f"{prefix}_{value & 0xFFFFFFFFFFFF:012x}{tail}"


class OpencodeClient(RequestCalls):
    """One object per server; inject it into the app (tests hand in a real server)."""

    def __init__(
        self,
        base_url: str,
        *,
        password: str | None = None,
        username: str | None = None,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        try:
            url = httpx.URL(base_url)
        except (httpx.InvalidURL, TypeError):
            raise ValueError(f"not a valid URL: {without_userinfo(str(base_url))!r}") from None
        if url.userinfo:
            # http://user:pw@host: the password leaves the URL (the URL is shown and
            # logged) and becomes the basic-auth password, unless one was given.
            raw = url.userinfo.decode("ascii", errors="replace")
            logs.add_secret(raw.partition(":")[2])
            logs.add_secret(url.password)
            if password is None and url.password:
                password = url.password
            if username is None and url.username:
                username = url.username
            url = url.copy_with(username=None, password=None)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"not an http(s) URL: {without_userinfo(str(base_url))!r}")
        self.base_url = str(url).rstrip("/")
        # A server on this machine sees the same files (a typed directory can be checked).
        self.local = url.host in ("127.0.0.1", "localhost", "::1", "[::1]")
        self._auth = credentials(password, username)
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=self._auth,
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
            headers={"accept": "application/json"},
        )

    @property
    def has_password(self) -> bool:
        return self._auth is not None

    def set_password(self, password: str | None, username: str | None = None) -> None:
        self._auth = credentials(password or "", username) if password else None
        self.http.auth = self._auth  # type: ignore[assignment]

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> OpencodeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- plumbing ---------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        directory: str | None = None,
        body: Any = None,
        params: dict[str, Any] | None = None,
        wait: bool = False,
    ) -> Any:
        """``wait``: the server answers only once the turn it starts is over (a command, a
        shell run), so no read timeout applies; the event stream shows the progress."""
        resp, content = await self._send(method, path, directory, body, params, wait)
        return self.decode(resp, content, f"{method} {path}")

    async def _send(
        self,
        method: str,
        path: str,
        directory: str | None,
        body: Any,
        params: dict[str, Any] | None,
        wait: bool,
    ) -> tuple[httpx.Response, bytes]:
        """The answer and its body, read within the size limit."""
        query = dict(params or {})
        if directory is not None:
            query["directory"] = directory
        extra: dict[str, Any] = {}
        if wait:
            extra["timeout"] = httpx.Timeout(None, connect=5.0)
        try:
            async with self.http.stream(
                method, path, params=query or None, json=body if body is not None else None, **extra
            ) as resp:
                content = await read_body(resp)
        except TooLarge as exc:
            raise ProtocolError(f"{method} {path}: {exc}") from exc
        except httpx.HTTPError as exc:
            message = describe_transport_error(exc, self.base_url)
            if method != "GET" and not _never_sent(exc):
                raise UncertainError(message) from exc
            raise ConnectError(message) from exc
        return resp, content

    def decode(self, resp: httpx.Response, content: bytes, what: str = "") -> Any:
        """The JSON of an answer, or the :class:`OpencodeError` its status means."""
        data: Any = None
        if content:
            try:
                data = jsonsafe.loads(content)
            except ValueError:
                data = content.decode("utf-8", errors="replace")
                if resp.is_success:
                    raise ProtocolError(
                        f"{what}: the server's answer is not JSON", resp.status_code, data
                    ) from None
        if resp.is_success:
            return data
        status = resp.status_code
        msg = error_message(data, f"HTTP {status} {resp.reason_phrase}".strip())
        cls: type[OpencodeError]
        if status == 401:
            cls = AuthError
            if not isinstance(data, dict):
                msg = (
                    "the server refused the password (HTTP 401)"
                    if self._auth is not None
                    else "the server needs a password (HTTP 401)"
                )
        elif status == 404:
            cls = NotFoundError
        elif 400 <= status < 500:
            cls = BadRequestError
        else:
            cls = ServerError
        raise cls(msg, status, data)

    # -- server ------------------------------------------------------------------------

    async def health(self) -> Health:
        return typed(Health, await self.request("GET", "/global/health"))

    async def global_dispose(self) -> DisposeResult:
        data = await self.request("POST", "/global/dispose")
        try:
            return DisposeResult.from_wire(data)
        except ValueError as exc:
            raise ProtocolError(f"the server's answer to a refresh is not one t3tui knows: {exc}") from None

    # -- sessions ----------------------------------------------------------------------

    async def list_sessions(
        self, directory: str, *, limit: int | None = None, search: str | None = None, project: bool = False
    ) -> list[Session]:
        data = await self.raw_sessions(directory, limit=limit, search=search, project=project)
        return typed(SessionListAdapter, data)

    async def raw_sessions(
        self, directory: str, *, limit: int | None = None, search: str | None = None, project: bool = False
    ) -> Any:
        """``directory``'s threads, newest first (100 unless ``limit``); with ``project``,
        every directory of its project's; ``search`` matches titles."""
        params = _given(limit=limit, search=search, scope="project" if project else None)
        return await self.request("GET", "/session", directory=directory, params=params or None)

    async def raw_session_page(
        self, *, limit: int, cursor: int | None = None, search: str | None = None
    ) -> tuple[Any, int | None]:
        """A page of every project's threads, newest first, and the next page's cursor
        (None: the last). Unlike ``GET /session?directory=`` it starts no instance."""
        params = _given(limit=limit, cursor=cursor, search=search)
        resp, content = await self._send("GET", "/experimental/session", None, None, params, False)
        data = self.decode(resp, content, "GET /experimental/session")
        raw = resp.headers.get("x-next-cursor", "")
        return data, int(raw) if raw.isdigit() else None

    async def raw_projects(self) -> Any:
        """Every project the server knows (worktree ``/``: the directories without git)."""
        return await self.request("GET", "/project")

    async def get_session(self, session_id: str, directory: str | None = None) -> Session:
        return typed(Session, await self.request("GET", f"/session/{session_id}", directory=directory))

    async def create_session(
        self, directory: str, *, title: str | None = None, parent_id: str | None = None
    ) -> Session:
        body: dict[str, Any] = {}
        if title:
            body["title"] = title
        if parent_id:
            body["parentID"] = parent_id
        return typed(Session, await self.request("POST", "/session", directory=directory, body=body))

    async def raw_status(self, directory: str) -> Any:
        return await self.request("GET", "/session/status", directory=directory)

    async def raw_messages(self, session_id: str, directory: str | None) -> Any:
        return await self.request("GET", f"/session/{session_id}/message", directory=directory)

    async def raw_message(self, session_id: str, message_id: str, directory: str | None) -> Any:
        """One message with its parts; :class:`NotFoundError` if the server has none."""
        return await self.request("GET", f"/session/{session_id}/message/{message_id}", directory=directory)

    async def todos(self, session_id: str, directory: str | None) -> Any:
        """The thread's todo list, as its agent last wrote it (``[{content, status, priority}]``)."""
        return await self.request("GET", f"/session/{session_id}/todo", directory=directory)

    async def session_diff(
        self, session_id: str, directory: str | None, message_id: str | None = None
    ) -> Any:
        """What the thread changed in its files (``[{file, patch, additions, deletions,
        status}]``); with ``message_id``, what that turn changed."""
        params = _given(messageID=message_id)
        return await self.request(
            "GET", f"/session/{session_id}/diff", directory=directory, params=params or None
        )

    async def prompt_async(
        self,
        session_id: str,
        directory: str | None,
        text: str,
        *,
        model: tuple[str, str] | None = None,
        message_id: str | None = None,
        agent: str | None = None,
        variant: str | None = None,
        parts: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Send a prompt; the turn runs after the answer (204). ``parts`` follow the text
        part: files (``@path``, images) as opencode's TUI sends them."""
        body: dict[str, Any] = {
            "parts": [{"type": "text", "text": text}, *parts],
            **_given(model=_model_ref(model), messageID=message_id, agent=agent, variant=variant),
        }
        await self.request("POST", f"/session/{session_id}/prompt_async", directory=directory, body=body)

    async def run_command(
        self,
        session_id: str,
        directory: str | None,
        command: str,
        arguments: str,
        *,
        model: tuple[str, str] | None = None,
        message_id: str | None = None,
        agent: str | None = None,
        variant: str | None = None,
        parts: Sequence[dict[str, Any]] = (),
    ) -> Any:
        """Run one of the server's commands (``/init``, ``/review``, the user's own); the
        answer comes when the turn ends. ``parts``: file parts only, as the server expects."""
        model_name = (
            f"{model[0]}/{model[1]}" if model is not None else None
        )  # a string here, unlike a prompt's
        body: dict[str, Any] = {
            "command": command,
            "arguments": arguments,
            **_given(model=model_name, messageID=message_id, agent=agent, variant=variant),
        }
        if parts:
            body["parts"] = list(parts)
        return await self.request(
            "POST", f"/session/{session_id}/command", directory=directory, body=body, wait=True
        )

    async def run_shell(
        self,
        session_id: str,
        directory: str | None,
        command: str,
        *,
        agent: str,
        model: tuple[str, str] | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Run ``command`` in the thread's shell (``!cmd``); the answer comes when it ends."""
        body = {"agent": agent, "command": command, **_given(model=_model_ref(model), messageID=message_id)}
        return await self.request(
            "POST", f"/session/{session_id}/shell", directory=directory, body=body, wait=True
        )

    async def find_files(self, query: str, directory: str | None, *, limit: int = 20) -> list[str]:
        """Paths (relative to the project; directories end in ``/``) that match ``query``
        fuzzily, best first."""
        data = await self.request(
            "GET", "/find/file", directory=directory, params={"query": query, "limit": str(limit)}
        )
        if not isinstance(data, list):
            raise ProtocolError("the server's file search did not answer with a list")
        return [p for p in data if isinstance(p, str)]

    async def raw_commands(self, directory: str | None = None) -> Any:
        """The server's commands: ``init``, ``review``, the user's own, skills, MCP prompts."""
        return await self.request("GET", "/command", directory=directory)

    async def raw_agents(self, directory: str | None = None) -> Any:
        return await self.request("GET", "/agent", directory=directory)

    async def rename_session(self, session_id: str, directory: str | None, title: str) -> Session:
        body = {"title": title}
        return typed(
            Session, await self.request("PATCH", f"/session/{session_id}", directory=directory, body=body)
        )

    async def revert(self, session_id: str, directory: str | None, message_id: str) -> Session:
        """Undo: the thread from ``message_id`` on is reverted (its file changes too)."""
        body = {"messageID": message_id}
        data = await self.request("POST", f"/session/{session_id}/revert", directory=directory, body=body)
        return typed(Session, data)

    async def unrevert(self, session_id: str, directory: str | None) -> Session:
        """Redo everything undone: the reverted messages come back."""
        return typed(
            Session, await self.request("POST", f"/session/{session_id}/unrevert", directory=directory)
        )

    async def fork_session(self, session_id: str, directory: str | None, message_id: str | None) -> Session:
        """A new thread with the turns before ``message_id`` (all of them without it)."""
        body = _given(messageID=message_id)
        data = await self.request("POST", f"/session/{session_id}/fork", directory=directory, body=body)
        return typed(Session, data)

    async def delete_session(self, session_id: str, directory: str | None) -> bool:
        return bool(await self.request("DELETE", f"/session/{session_id}", directory=directory))

    async def summarize(self, session_id: str, directory: str | None, model: tuple[str, str]) -> bool:
        """Compact the thread with ``model``; the answer comes when the summary is written."""
        body = {"providerID": model[0], "modelID": model[1]}
        return bool(
            await self.request(
                "POST", f"/session/{session_id}/summarize", directory=directory, body=body, wait=True
            )
        )

    async def abort(self, session_id: str, directory: str | None) -> bool:
        return bool(await self.request("POST", f"/session/{session_id}/abort", directory=directory))

    # -- configuration ------------------------------------------------------------------

    async def raw_config(self, directory: str | None = None) -> Any:
        return await self.request("GET", "/config", directory=directory)

    async def raw_config_providers(self, directory: str | None = None) -> Any:
        """The providers that can run (``providers``) and each one's ``default`` model."""
        return await self.request("GET", "/config/providers", directory=directory)

    # -- providers ---------------------------------------------------------------------

    async def raw_providers(self, directory: str | None = None) -> Any:
        return await self.request("GET", "/provider", directory=directory)

    async def provider_auth_methods(
        self, directory: str | None = None
    ) -> dict[str, list[ProviderAuthMethod]]:
        return typed(ProviderAuthAdapter, await self.request("GET", "/provider/auth", directory=directory))

    async def set_api_key(self, provider_id: str, key: str) -> bool:
        if not key:
            raise ValueError("an API key is required")
        logs.add_secret(key)  # never written or shown by t3tui from now on
        return bool(await self.request("PUT", f"/auth/{provider_id}", body={"type": "api", "key": key}))

    async def remove_auth(self, provider_id: str) -> bool:
        return bool(await self.request("DELETE", f"/auth/{provider_id}"))

    async def oauth_authorize(self, provider_id: str, method: int, directory: str | None = None) -> Any:
        return await self.request(
            "POST", f"/provider/{provider_id}/oauth/authorize", directory=directory, body={"method": method}
        )

    async def oauth_callback(
        self, provider_id: str, method: int, code: str | None = None, directory: str | None = None
    ) -> Any:
        body: dict[str, Any] = {"method": method}
        if code:
            logs.add_secret(code)
            body["code"] = code
        return await self.request(
            "POST", f"/provider/{provider_id}/oauth/callback", directory=directory, body=body
        )


def project_directories(projects: Any) -> list[str]:
    """The worktrees of a ``GET /project`` answer, without ``/`` (the project of the
    directories without git: a request there starts an instance at the filesystem root)."""
    if not isinstance(projects, list):
        return []
    trees = (p.get("worktree") for p in projects if isinstance(p, dict))
    return [w for w in trees if isinstance(w, str) and w not in ("", "/")]


def _given(**keys: Any) -> dict[str, Any]:
    """The optional keys of a request body that have a value (the server wants the
    others left out, not null)."""
    return {k: v for k, v in keys.items() if v is not None}


def _model_ref(model: tuple[str, str] | None) -> dict[str, str] | None:
    return {"providerID": model[0], "modelID": model[1]} if model is not None else None


def typed(schema: Any, data: Any) -> Any:
    """``data`` validated as ``schema`` (a model or a ``TypeAdapter``), or a
    :class:`ProtocolError` that says what did not fit: a malformed answer must be an
    error with a message, never an exception nobody catches."""
    try:
        if isinstance(schema, TypeAdapter):
            return schema.validate_python(data)
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())) or "the answer"
        got = type(data).__name__
        raise ProtocolError(
            f"the server sent an answer t3tui cannot use ({where}: {first.get('msg', 'invalid')}; got {got})"
        ) from None


def _never_sent(exc: Exception) -> bool:
    """The request certainly did not reach the server (so it did nothing with it)."""
    return isinstance(
        exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout | httpx.UnsupportedProtocol
    )


def describe_transport_error(exc: Exception, url: str) -> str:
    """A sentence a newcomer can act on, for a request that never got an answer."""
    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, httpx.ConnectError):
        lowered = text.lower()
        if "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
            return f"TLS handshake with {url} failed: {text}"
        return f"cannot connect to {url}: {text}"
    if isinstance(exc, httpx.TimeoutException):
        return f"{url} did not answer in time"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return f"invalid server URL {url}: {text}"
    return f"request to {url} failed: {text}"
