"""The repository stands alone: nothing outside tests/ points to documents that are not in it,
and every relative link in a Markdown file leads to a file or folder of the repository.

Tests may read the reference data beside the clone (tests/conftest.py), so tests/ is not
scanned for the first rule; the links rule covers every tracked *.md file.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Phrases that point a reader at documents or people outside the repository.
EXTERNAL = re.compile(
    r"product\.md|product brief|design card|\bengineers?\b|\.\./shared|shared/docs|/work/"
    r"|seed projects?|\bissue\s*#?\d+|\bsession \d+\b",
    re.IGNORECASE,
)
# [text](target) and [text]: target, not images of remote URLs, mail or in-page anchors.
MD_LINK = re.compile(r"!?\[[^\]]*\]\((?P<inline>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
MD_REF = re.compile(r"^\s*\[[^\]]+\]:\s*(?P<ref>\S+)", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / name for name in out.split("\0") if name and (ROOT / name).is_file()]


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:  # binary files hold no prose
        return None


def external_mentions(root: Path, files: list[Path]) -> list[str]:
    """``path:line: matched phrase`` for each mention of an outside document."""
    found = []
    for path in files:
        rel = path.relative_to(root)
        if rel.parts[0] == "tests" or (text := _text(path)) is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for m in EXTERNAL.finditer(line):
                found.append(f"{rel}:{number}: {m.group(0)!r}")
    return found


def markdown_links(text: str) -> list[str]:
    """Link targets of a Markdown text, outside code blocks and code spans."""
    prose = CODE_SPAN.sub("", FENCE.sub("", text))
    return [m.group("inline") for m in MD_LINK.finditer(prose)] + [
        m.group("ref") for m in MD_REF.finditer(prose)
    ]


def broken_links(root: Path, files: list[Path]) -> list[str]:
    broken = []
    for path in files:
        if path.suffix != ".md" or (text := _text(path)) is None:
            continue
        for target in markdown_links(text):
            if re.match(r"^([a-z][a-z0-9+.-]*:|#)", target, re.IGNORECASE):
                continue  # http:, https:, mailto: or an anchor in the same page
            relative = target.split("#", 1)[0]
            resolved = (path.parent / relative).resolve()
            if not resolved.is_relative_to(root) or not resolved.exists():
                broken.append(f"{path.relative_to(root)}: ({target})")
    return broken


def test_no_file_outside_tests_points_to_an_outside_document() -> None:
    found = external_mentions(ROOT, tracked_files())
    assert not found, "say it in the project's own words instead:\n" + "\n".join(found)


def test_every_relative_markdown_link_resolves_inside_the_repository() -> None:
    broken = broken_links(ROOT, tracked_files())
    assert not broken, "broken links:\n" + "\n".join(broken)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("See product.md for the map.", ["product.md"]),
        ("as the design card says", ["design card"]),
        ("(clustering engineer)", ["engineer"]),
        ("data in ../shared/data", ["../shared"]),
        ("fixed in issue #12", ["issue #12"]),
        ("feature engineering, sessions of users", []),
    ],
)
def test_the_scan_finds_what_it_should(tmp_path: Path, line: str, expected: list[str]) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "tests").mkdir()
    doc, test = tmp_path / "docs" / "a.md", tmp_path / "tests" / "test_a.py"
    doc.write_text(line + "\n", encoding="utf-8")
    test.write_text(line + "\n", encoding="utf-8")
    got = [m.rsplit(": ", 1)[1].strip("'") for m in external_mentions(tmp_path, [doc, test])]
    assert got == expected  # the copy under tests/ is not scanned


def test_the_link_check_catches_a_broken_link(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "README.md").write_text("# readme\n", encoding="utf-8")
    (root / "docs" / "docker.md").write_text("# docker\n", encoding="utf-8")
    (tmp_path / "elsewhere.md").write_text("outside the repository\n", encoding="utf-8")
    path = root / "docs" / "a.md"
    path.write_text(
        "[ok](docker.md) [ok](../README.md#tests) [web](https://example.org) [gone](nope.md)\n"
        "[out](../../elsewhere.md) `[code](ignored.md)`\n\n```\n[fenced](ignored.md)\n```\n",
        encoding="utf-8",
    )
    got = broken_links(root, [path])
    assert [g.split(": ", 1)[1] for g in got] == ["(nope.md)", "(../../elsewhere.md)"]
