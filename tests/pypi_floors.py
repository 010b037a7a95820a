"""The floor of every requirement in pyproject.toml, as PyPI lists it: the record tests/test_packaging.py checks offline.

A floor is the lowest version a requirement admits (``email-validator>=2.1`` admits 2.1.0). A yanked release
(PEP 592) is one the index asks installers to skip: pip and uv pick it only for an exact ``==`` pin, so a yanked
floor is a version the project claims to support that a resolver never chooses, and ``make sdk-floor`` (which pins
every floor with ``==``) would test exactly that yanked release. The record lists, per requirement string, the
lowest admitted release, whether it is yanked and why, and the first admitted release that is not.

``python -m tests.pypi_floors`` (run by ``make lock`` and ``make floors``, needs PyPI) rewrites ``tests/data/pypi-floors.json`` from
PyPI's Simple API in its JSON form (PEP 691: ``Accept: application/vnd.pypi.simple.v1+json``), whose files carry
PEP 592's ``yanked`` (false, true or the reason). That is the source PyPI recommends for release data; the
``releases`` key of its project JSON API is deprecated (pypi/warehouse docs/api-reference/json.rst, #11777). A release
is yanked when every one of its files is.
"""

from __future__ import annotations

import datetime
import json
import sys
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "tests" / "data" / "pypi-floors.json"
INDEX = "https://pypi.org/simple"
ACCEPT = "application/vnd.pypi.simple.v1+json"


def requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """Every requirement string of pyproject.toml: build-system, runtime and each extra, in that order."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    found = [*data["build-system"]["requires"], *data["project"]["dependencies"]]
    for extra in data["project"].get("optional-dependencies", {}).values():
        found.extend(extra)
    return found


def _file_version(filename: str) -> Version | None:
    """The version of a wheel or sdist file name (None for other or unparsable files)."""
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)[1]
    except (InvalidVersion, ValueError):
        return None
    return None


def releases(project: dict[str, Any]) -> dict[Version, str | None]:
    """Release → None if it is installable, else why it is yanked: from a PEP 691 project page."""
    files: dict[Version, list[bool | str]] = {}
    for entry in project["files"]:
        version = _file_version(entry["filename"])
        if version is not None:
            files.setdefault(version, []).append(entry.get("yanked", False))
    out: dict[Version, str | None] = {}
    for version, yanked in files.items():
        if all(yanked):
            reasons = sorted({y for y in yanked if isinstance(y, str)})
            out[version] = "; ".join(reasons) or "yanked"
        else:
            out[version] = None
    return out


def floor_entry(requirement: str, available: dict[Version, str | None]) -> dict[str, Any]:
    """The record of one requirement: its lowest admitted release, why that is yanked (or None), and the first one that is not."""
    specifier = Requirement(requirement).specifier
    admitted = sorted(v for v in available if specifier.contains(v))
    lowest = admitted[0] if admitted else None
    installable = next((v for v in admitted if available[v] is None), None)
    return {
        "lowest": str(lowest) if lowest is not None else None,
        "yanked": available[lowest] if lowest is not None else None,
        "lowestNotYanked": str(installable) if installable is not None else None,
    }


def fetch(name: str) -> dict[str, Any]:
    """The PEP 691 JSON page of project ``name`` on PyPI."""
    request = urllib.request.Request(f"{INDEX}/{canonicalize_name(name)}/", headers={"Accept": ACCEPT})
    with urllib.request.urlopen(request, timeout=60) as response:
        page: dict[str, Any] = json.load(response)
    return page


def refresh(path: Path = RECORD) -> dict[str, Any]:
    """Rewrite the record from PyPI for every requirement of pyproject.toml; return it."""
    pages: dict[str, dict[Version, str | None]] = {}
    entries: dict[str, Any] = {}
    for requirement in requirements():
        name = canonicalize_name(Requirement(requirement).name)
        if name not in pages:
            pages[name] = releases(fetch(name))
        entries[requirement] = floor_entry(requirement, pages[name])
    record = {
        "source": f"{INDEX}/<name>/ ({ACCEPT}, PEP 691; yanked per PEP 592)",
        "refreshed": datetime.datetime.now(datetime.UTC).date().isoformat(),
        "requirements": entries,
    }
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return record


if __name__ == "__main__":
    written = refresh()
    yanked = {r: e for r, e in written["requirements"].items() if e["yanked"]}
    for requirement, entry in yanked.items():
        print(f"{requirement}: {entry['lowest']} is yanked ({entry['yanked']}); raise the floor to {entry['lowestNotYanked']}", file=sys.stderr)
    print(f"{RECORD.relative_to(ROOT)}: {len(written['requirements'])} requirements, {len(yanked)} yanked floors")
    sys.exit(1 if yanked else 0)
