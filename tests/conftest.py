from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

settings.register_profile(
    "default", deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", deadline=None, max_examples=300, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "default")

# Snapshots live in the top-level snapshots/ folder, not next to each test.
try:
    import pytest_textual_snapshot

    SNAPSHOT_DIR = Path(__file__).resolve().parent.parent / "snapshots"

    class TopLevelSVGExtension(pytest_textual_snapshot.SVGImageExtension):  # type: ignore[misc,name-defined]
        @classmethod
        def dirname(cls, *, test_location: object) -> str:
            return str(SNAPSHOT_DIR)

    pytest_textual_snapshot.SVGImageExtension = TopLevelSVGExtension  # type: ignore[misc]
except ImportError:  # pragma: no cover - the test extra is not installed
    pass


@pytest.fixture(autouse=True)
def _every_toast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every notification an app shows, kept in ``app._every_toast`` (see ui_support.toasts).

    Textual drops a notification from its list once it expires (5 s by default), and a
    loaded machine can take longer than that between two looks of a test: the test must
    see what was said, not only what is still on screen.
    """
    from textual.app import App

    original = App.notify

    def notify(self: Any, message: Any, *args: Any, **kw: Any) -> Any:
        self.__dict__.setdefault("_every_toast", []).append(str(message))
        return original(self, message, *args, **kw)

    monkeypatch.setattr(App, "notify", notify)


@pytest.fixture
async def server():  # type: ignore[no-untyped-def]
    """A scriptable opencode stand-in (tests/sse_server.py), closed after the test."""
    from sse_server import SSEServer

    srv = await SSEServer().start()
    yield srv
    await srv.close()


@pytest.fixture
async def harness():  # type: ignore[no-untyped-def]
    """Runs event streams as tasks and tears them down after the test."""
    from stream_support import Harness

    h = Harness()
    yield h
    await h.close()
