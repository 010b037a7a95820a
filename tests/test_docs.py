"""Design rationale is written once (docs/design.md) and linked from everywhere that depends on it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "docs" / "design.md"
SECTION = "in-place-secret-updates"

# Sentences only the design section may hold: if one appears elsewhere, the rationale is being restated.
RATIONALE = (
    "a window in which\npods that start cannot find the Secret",
    "named, same name and namespace → `DeleteBeforeReplace`",
    "A plain hash would let anyone who sees the Deployment test guesses",
    "`length` has `RequiresReplace`",
)
# The upstream code the section's claims rest on, cited where the claims are made.
CITATIONS = (
    "provider/pkg/provider/diff.go",
    "forceNewProperties",
    "`provider.go`, `Diff`",
    "`provider.go`, `Configure`",
    "kubernetes/kubernetes#89938, #108008",
    "internal/provider/resource_bytes.go",
    "sdk/python/pulumi_random/random_bytes.py",
)
# The places that used to restate it, and now link to it.
LINKERS = ("components/secret_chain/kube.py", "components/secret_chain/ops/inventory.py", "README.md", "docs/rotation.md")


def _public_text() -> list[Path]:
    """Every document and source file outside the tests (which quote the sentences above)."""
    globs = ("*.md", "docs/**/*.md", "components/**/*.py", "policy/**/*.py", "benchmarks/**/*.py", "examples/**/*.md", "examples/**/*.py")
    return sorted({p for pattern in globs for p in ROOT.glob(pattern) if p.is_file()})


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _section(text: str, slug: str) -> str:
    """The text of the ``##`` section whose anchor is ``slug`` (up to the next ``##`` heading)."""
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    (found,) = [part for part in parts[1:] if _slug(part.splitlines()[0]) == slug]
    return found


def test_the_design_section_holds_the_rationale_and_its_citations() -> None:
    section = _section(DESIGN.read_text(encoding="utf-8"), SECTION)
    flat = " ".join(section.split())
    for sentence in (*RATIONALE, *CITATIONS):
        assert " ".join(sentence.split()) in flat, sentence


@pytest.mark.parametrize("sentence", RATIONALE)
def test_the_rationale_is_stated_once(sentence: str) -> None:
    needle = " ".join(sentence.split())
    holders = [p.relative_to(ROOT).as_posix() for p in _public_text() if needle in " ".join(p.read_text(encoding="utf-8").split())]
    assert holders == ["docs/design.md"], f"{sentence!r} is restated in {holders}: link to docs/design.md#{SECTION} instead"


@pytest.mark.parametrize("path", LINKERS)
def test_the_former_copies_link_to_the_design_section(path: str) -> None:
    assert f"design.md#{SECTION}" in (ROOT / path).read_text(encoding="utf-8")


def test_every_link_into_design_md_names_a_heading() -> None:
    headings = {_slug(h) for h in re.findall(r"^#+ (.+)$", DESIGN.read_text(encoding="utf-8"), flags=re.MULTILINE)}
    links = {(p.relative_to(ROOT).as_posix(), a) for p in _public_text() for a in re.findall(r"design\.md#([\w-]+)", p.read_text(encoding="utf-8"))}
    assert {path for path, _ in links} >= set(LINKERS)
    assert [link for link in sorted(links) if link[1] not in headings] == []
