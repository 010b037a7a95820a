"""README "Prerequisites" lists every upstream minimum, with the command that checks a running cluster."""

from __future__ import annotations

from pathlib import Path

from secret_chain.upstream import REQUIREMENTS

README = Path(__file__).resolve().parents[1] / "README.md"


def _section() -> str:
    text = README.read_text()
    start = text.index("## Prerequisites")
    return text[start : text.index("\n## ", start + 1)]


def test_readme_lists_every_minimum_version() -> None:
    section = _section()
    for req in REQUIREMENTS:
        assert f"| {req.project} | ≥ {req.minimum} |" in section, req
        if req.check:
            assert req.check in section, req


def test_the_numbers_the_issue_names() -> None:
    wanted = {("Flux", "2.5"), ("image-automation-controller", "0.40"), ("Flux", "2.7")}
    assert wanted <= {(r.project, r.minimum) for r in REQUIREMENTS}
