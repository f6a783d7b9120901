"""Fixtures for live tests against a real ``opencode serve`` and the scripted mock model.

- ``mock_model``      session: a started ``MockModel``; its mode overrides are reset (and its
                      gates opened) after every test.
- ``opencode``        session: an ``OpencodeServer`` wired to ``mock_model`` (no password).
- ``opencode_auth``   session: the same with ``OPENCODE_SERVER_PASSWORD`` set (``.password``, ``.auth``).
- ``fresh_opencode``  function: a server of its own (own HOME, own port) for destructive tests
                      (kill / restart); stopped and its temp dir removed afterwards.

Every test under tests/live gets the ``live`` marker (deselect with ``-m "not live"``).
The first run installs opencode-ai with npm into ``$T3TUI_OPENCODE_CACHE``
(default ``~/.cache/t3tui-tests/opencode-<version>``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from .mockmodel import MockModel
from .opencode_server import OpencodeServer, ensure_opencode

_HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "live: runs against a real opencode server (npm opencode-ai) and a mock model"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.live)


@pytest.fixture(scope="session")
def opencode_binary() -> Path:
    return ensure_opencode()


@pytest.fixture(scope="session")
def mock_model() -> Iterator[MockModel]:
    m = MockModel()
    m.start()
    try:
        yield m
    finally:
        m.stop()


@pytest.fixture(autouse=True)
def _reset_mock_model(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "mock_model" in request.fixturenames:
        request.getfixturevalue("mock_model").reset()


def _server(mock: MockModel, binary: Path, password: str | None = None) -> OpencodeServer:
    return OpencodeServer(password=password, model_base_url=mock.base_url, binary=binary)


@pytest.fixture(scope="session")
def opencode(mock_model: MockModel, opencode_binary: Path) -> Iterator[OpencodeServer]:
    s = _server(mock_model, opencode_binary)
    s.start()
    try:
        yield s
    finally:
        s.stop(cleanup=True)


@pytest.fixture(scope="session")
def opencode_auth(mock_model: MockModel, opencode_binary: Path) -> Iterator[OpencodeServer]:
    s = _server(mock_model, opencode_binary, password=secrets.token_urlsafe(16))
    s.start()
    try:
        yield s
    finally:
        s.stop(cleanup=True)


@pytest.fixture
def fresh_opencode(mock_model: MockModel, opencode_binary: Path) -> Iterator[OpencodeServer]:
    s = _server(mock_model, opencode_binary)
    s.start()
    try:
        yield s
    finally:
        s.stop(cleanup=True)
