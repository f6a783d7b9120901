"""The project's documents hold together in a fresh clone: every relative link in README.md
and docs/*.md names a file of the repository (not one beside it, not one git ignores), and
every ``#anchor`` names a heading of its target."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def links(path: Path) -> list[str]:
    text = CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    return [m.group(1) for m in LINK.finditer(text)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation out, spaces to hyphens."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(h) for h in HEADING.findall(text)}


def ignored_by_git(path: Path) -> bool:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        return False
    result = subprocess.run(
        ["git", "-C", str(REPO), "check-ignore", "-q", str(path)], capture_output=True, check=False
    )
    return result.returncode == 0


def test_the_documents_are_there() -> None:
    assert (REPO / "docs" / "STATE.md").is_file() and (REPO / "docs" / "state-rules.md").is_file()
    assert {"docs/STATE.md", "LICENSE"} <= set(links(REPO / "README.md"))


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(REPO)) for d in DOCS])
def test_relative_links_resolve(doc: Path) -> None:
    problems = []
    for target in links(doc):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (doc.parent / unquote(file_part)).resolve() if file_part else doc
        if not dest.is_relative_to(REPO):
            problems.append(f"{target}: outside the repository (a fresh clone does not have it)")
        elif not dest.exists():
            problems.append(f"{target}: no such file")
        elif ignored_by_git(dest):
            problems.append(f"{target}: ignored by git (a fresh clone does not have it)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{target}: no heading #{anchor} in {dest.relative_to(REPO)}")
    assert not problems, f"{doc.relative_to(REPO)}:\n" + "\n".join(problems)


def test_slug_is_githubs() -> None:
    assert slug("Event log (capture and replay)") == "event-log-capture-and-replay"
    assert (
        slug("The settlement rule (the heart of the client)") == "the-settlement-rule-the-heart-of-the-client"
    )
    assert slug("Provider refresh, deferred") == "provider-refresh-deferred"
    assert slug("`T3TUI_CONFIG`: another file") == "t3tui_config-another-file"


def layout_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## Layout")
    return text[start : text.index("\n## ", start + 1)]


def test_the_readme_layout_names_every_file_of_the_package() -> None:
    """A newcomer's map: each module and stylesheet of t3tui/ has its line in the tree,
    under its own directory, and the tree names no file that is gone."""
    tree = [line for line in FENCE.search(layout_section()).group(0).splitlines()[1:-1] if line.strip()]  # type: ignore[union-attr]
    listed: set[str] = set()
    stack: list[tuple[int, str]] = []
    for line in tree:
        indent = len(line) - len(line.lstrip())
        names = line.strip().split("   ")[0].split()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        prefix = "/".join(name for _, name in stack)
        for name in names:
            if name.endswith("/"):
                stack.append((indent, name.rstrip("/")))
            else:
                listed.add(f"{prefix}/{name}" if prefix else name)
    files = {
        str(p.relative_to(REPO))
        for p in (REPO / "t3tui").rglob("*")
        if p.suffix in {".py", ".tcss"} and "__pycache__" not in p.parts
    }
    package_inits = {f for f in files if f.endswith("/__init__.py") and f != "t3tui/__init__.py"}
    assert sorted(files - package_inits - listed) == []
    assert sorted(listed - files) == []
