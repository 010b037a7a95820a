"""The prerequisites page (docs/prerequisites.md) lists every upstream minimum, with the command that checks a running cluster."""

from __future__ import annotations

from pathlib import Path

from secret_chain.upstream import REQUIREMENTS

PAGE = Path(__file__).resolve().parents[1] / "docs" / "prerequisites.md"


def _section() -> str:
    text = PAGE.read_text()
    return text[: text.index("\n## ")]


def test_readme_lists_every_minimum_version() -> None:
    section = _section()
    for req in REQUIREMENTS:
        assert f"| {req.project} | ≥ {req.minimum} |" in section, req
        if req.check:
            assert req.check in section, req


def test_the_numbers_the_issue_names() -> None:
    wanted = {("Flux", "2.5"), ("image-automation-controller", "0.40"), ("Flux", "2.7")}
    assert wanted <= {(r.project, r.minimum) for r in REQUIREMENTS}
