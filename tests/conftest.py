from __future__ import annotations

import os
import sys
from pathlib import Path

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
