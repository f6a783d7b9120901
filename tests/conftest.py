from __future__ import annotations

import os
import sys
from pathlib import Path

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
