"""Body of the pull request for Flux's image updates: the images a push branch changes against its base.

image-automation-controller pushes its commits to a branch of the cluster repository (production's
``flux-image-updates``, preview-base's ``flux-image-updates-preview``) but opens no pull request;
flux-image-updates-pr.yml opens (or updates) it and takes its body from here. The input is the JSON GitHub's
REST API returns for "Compare two commits" (``GET /repos/{owner}/{repo}/compare/{base}...{head}``: ``ahead_by``,
``commits[].commit.message``, ``files[].filename`` and ``files[].patch``, the patch absent for binary files):
the pushed branch is read as data, never checked out, and nothing from it runs. The list comes from the patches:
Flux's setters rewrite only values marked with ``# {"$imagepolicy": "<namespace>:<policy>"}`` (the whole
reference), ``...:tag``, ``...:name`` or ``...:digest`` (Flux docs, "Configure image updates" → setters), so a
removed and an added marked line of the same policy and field are one change. When no marker is found (markers
outside the diff context), the "- <old> -> <new>" lines of the commit messages (the template in
components/secret_chain/flux_images.py MESSAGE_TEMPLATE, from .Changed) are used, and failing those, the commit subjects.
Standard library only; no network, no git.

Usage: python3 flux_image_updates_pr_body.py <compare.json> <base-branch> <head-branch>
       (prints the Markdown body, or nothing when the head has no commit the base lacks)
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass

MARKER = re.compile(r'#\s*(\{\s*"\$imagepolicy"\s*:\s*"[^"]*"\s*\})')
CHANGE_LINE = re.compile(r"^\s*-\s+(?P<old>\S+)\s+->\s+(?P<new>\S+)\s*$")
MAX_LINES = 200
"""More changes than this are summarised, so the body stays well under GitHub's 65,536 characters."""
HEADER = "<!-- secret-chain-flux-image-updates -->"


@dataclass(frozen=True)
class Change:
    """One image whose reference, tag or digest the branch moves from ``old`` to ``new``."""

    image: str
    old: str
    new: str

    def line(self) -> str:
        """The change as one Markdown list item, as the Flux guide shows it."""
        return f"- {_plain(self.image)}: {_plain(self.old)} → {_plain(self.new)}"


def _plain(text: str) -> str:
    """Text safe inside a Markdown list item: no backticks, brackets or angle brackets, one line, bounded."""
    return re.sub(r"[`<>\[\]\r\n]", "", text)[:200]


def split_reference(reference: str) -> tuple[str, str]:
    """(image, tag or digest) of an image reference: ghcr.io/acme/api:1.4 → (ghcr.io/acme/api, 1.4)."""
    if "@" in reference:
        image, _, digest = reference.partition("@")
        return image, digest
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1 :]
    return reference, ""


def _marked(line: str) -> tuple[str, str, str] | None:
    """(policy, field, value) of a line carrying an $imagepolicy marker, else None."""
    found = MARKER.search(line)
    if not found:
        return None
    try:
        policy_ref = json.loads(found.group(1))["$imagepolicy"]
    except (ValueError, KeyError, TypeError):
        return None
    parts = str(policy_ref).split(":")
    if len(parts) == 3 and parts[2] in ("tag", "name", "digest"):
        policy, field = ":".join(parts[:2]), parts[2]
    else:
        policy, field = str(policy_ref), "full"
    before = line[: found.start()].strip()
    if not before:
        return None
    value = before.split()[-1].strip("\"'")
    if value.endswith(":") or not value:
        return None
    return policy, field, value


def changes_from_diff(diff: str) -> list[Change]:
    """The image changes in a unified diff: removed and added marked lines paired by file, policy and field."""
    old: dict[tuple[str, str, str], str] = {}
    new: dict[tuple[str, str, str], str] = {}
    names: dict[tuple[str, str], str] = {}
    order: list[tuple[str, str, str]] = []
    path = ""
    for line in diff.splitlines():
        if line.startswith("+++ "):
            path = line[4:].removeprefix("b/")
            continue
        if line.startswith(("--- ", "diff ", "index ", "@@")):
            continue
        sign, text = line[:1], line[1:]
        if sign not in ("-", "+", " "):
            continue
        marked = _marked(text)
        if marked is None:
            continue
        policy, field, value = marked
        if field == "name" and sign in (" ", "+"):
            names[(path, policy)] = value
        if sign == " ":
            continue
        key = (path, policy, field)
        if key not in order:
            order.append(key)
        (old if sign == "-" else new)[key] = value
    result: list[Change] = []
    for key in order:
        path, policy, field = key
        before, after = old.get(key), new.get(key)
        if before is None or after is None or before == after or field == "name":
            continue
        if field == "full":
            image, old_tag = split_reference(before)
            new_image, new_tag = split_reference(after)
            if new_image == image:
                result.append(Change(image, old_tag, new_tag))
            else:
                result.append(Change(policy, before, after))
        else:
            result.append(Change(names.get((path, policy), f"{policy} ({field})"), before, after))
    return _unique(result)


def changes_from_messages(messages: str) -> list[Change]:
    """The "- <old> -> <new>" lines of Flux's commit messages (MESSAGE_TEMPLATE), as changes."""
    result: list[Change] = []
    for line in messages.splitlines():
        found = CHANGE_LINE.match(line)
        if not found:
            continue
        image, old_tag = split_reference(found["old"])
        new_image, new_tag = split_reference(found["new"])
        if new_image == image and old_tag and new_tag:
            result.append(Change(image, old_tag, new_tag))
        else:
            result.append(Change("image", found["old"], found["new"]))
    return _unique(result)


def _unique(changes: list[Change]) -> list[Change]:
    return list(dict.fromkeys(changes))


def body(base: str, changes: list[Change], subjects: list[str], head: str = "flux-image-updates") -> str:
    """The Markdown body: the changed images (or, without any, the commit subjects)."""
    lines = [HEADER, f"Images that Flux image automation moved on `{_plain(head)}` (against `{_plain(base)}`):", ""]
    if changes:
        lines += [c.line() for c in changes[:MAX_LINES]]
        if len(changes) > MAX_LINES:
            lines.append(f"- … and {len(changes) - MAX_LINES} more (see the diff)")
    else:
        lines += ["No `$imagepolicy` change found in the diff; the commits:", ""]
        lines += [f"- {_plain(s)}" for s in subjects[:MAX_LINES]] or ["- (none)"]
    lines += [
        "",
        "Each tag follows the semver range of its ImagePolicy. Opened by `flux-image-updates-pr.yml` with the CI",
        "GitHub App's token, so this pull request's checks run.",
        "",
        "🤖 Generated with Flux Image Automation",
    ]
    return "\n".join(lines) + "\n"


def from_compare(document: object) -> tuple[int, str, str, list[str]]:
    """(commits ahead, unified diff, commit messages, commit subjects) of a "Compare two commits" response.

    Anything not shaped as the API documents it counts as nothing (the values are text, never run).
    """
    if not isinstance(document, dict):
        return 0, "", "", []
    ahead = document.get("ahead_by")
    files = document.get("files") if isinstance(document.get("files"), list) else []
    commits = document.get("commits") if isinstance(document.get("commits"), list) else []
    diff: list[str] = []
    for item in files or []:
        if isinstance(item, dict) and isinstance(item.get("filename"), str) and isinstance(item.get("patch"), str):
            diff += [f"+++ b/{item['filename']}", item["patch"]]
    messages = [
        str(c["commit"]["message"])
        for c in commits or []
        if isinstance(c, dict) and isinstance(c.get("commit"), dict) and isinstance(c["commit"].get("message"), str)
    ]
    subjects = [m.splitlines()[0] for m in messages if m.strip()]
    return (ahead if isinstance(ahead, int) and not isinstance(ahead, bool) else 0), "\n".join(diff), "\n".join(messages), subjects


def main(argv: list[str]) -> int:
    """Print the body for the compare JSON ``argv[1]``, base ``argv[2]`` and head ``argv[3]`` (nothing if not ahead)."""
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[-2].strip(), file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        document = json.load(handle)
    ahead, diff, messages, subjects = from_compare(document)
    if ahead < 1:
        return 0
    changes = changes_from_diff(diff) or changes_from_messages(messages)
    sys.stdout.write(body(argv[2], changes, subjects, argv[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
