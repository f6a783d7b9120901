"""The drafts file holds conversation text: only its owner can read it (like the logs)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from t3tui.app.drafts import Drafts


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would make every new file world-readable and writable."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_drafts_are_private_whatever_the_umask(tmp_path: Path, open_umask: None) -> None:
    state = tmp_path / "state" / "t3tui"
    drafts = Drafts(state)
    drafts.set("ses_1", "the secret plan")
    drafts.remember("an earlier prompt")
    drafts.save()
    assert drafts.error is None
    assert mode(state / "drafts.json") == 0o600
    assert mode(state) == 0o700
    assert json.loads((state / "drafts.json").read_text(encoding="utf-8")) == {
        "drafts": {"ses_1": "the secret plan"},
        "history": ["an earlier prompt"],
    }
    assert [p.name for p in state.iterdir()] == ["drafts.json"]  # no temporary file left


def test_an_open_drafts_file_is_replaced_by_a_private_one(tmp_path: Path, open_umask: None) -> None:
    (tmp_path / "drafts.json").write_text(json.dumps({"drafts": {"ses_1": "old"}}), encoding="utf-8")
    (tmp_path / "drafts.json").chmod(0o644)
    drafts = Drafts(tmp_path)
    assert drafts.get("ses_1") == "old"
    drafts.set("ses_1", "new")
    drafts.save()
    assert mode(tmp_path / "drafts.json") == 0o600
    assert Drafts(tmp_path).get("ses_1") == "new"
