"""`secret-chain inventory`: the runbook tables from the catalog, and the documentation's generated blocks kept in sync with it."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from secret_chain import catalog
from secret_chain.catalog import Tier
from secret_chain.github_actions import ENTRIES
from secret_chain.ops import inventory, plan, runbook
from secret_chain.ops.cli import main

ROOT = Path(__file__).resolve().parents[1]
SECRETS_PAGE = ROOT / inventory.PAGES["secret-inventory"]


def table_rows(markdown: str, header_start: str) -> list[list[str]]:
    """Cells of the table whose header row starts with ``header_start``."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split(" | ")])
    return rows


def test_the_secrets_page_matches_catalog() -> None:
    """Fails when docs/secrets.md's tables and the catalog disagree: run `secret-chain inventory --docs docs`."""
    text = SECRETS_PAGE.read_text(encoding="utf-8")
    assert inventory.current_block(text) == inventory.readme_block(), "docs/secrets.md is stale: run `secret-chain inventory --docs docs`"


@pytest.mark.parametrize("name", sorted(inventory.PAGES))
def test_every_generated_block_is_on_its_page_and_fresh(name: str) -> None:
    """Each block is on the page PAGES names, exactly once, as the catalog makes it; no other page or the README holds it."""
    pattern, block = inventory.BLOCKS[name]
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    holders = [p.relative_to(ROOT).as_posix() for p in pages if pattern.search(p.read_text(encoding="utf-8"))]
    assert holders == [inventory.PAGES[name]]
    text = (ROOT / inventory.PAGES[name]).read_text(encoding="utf-8")
    found = pattern.search(text)
    assert len(pattern.findall(text)) == 1 and found is not None
    assert found.group(0) == block(), f"{inventory.PAGES[name]} is stale: run `secret-chain inventory --docs docs`"


def test_docs_rewrites_every_block_of_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`inventory --docs DIR` rewrites each block wherever it is under DIR, leaves the hand-written text, and says so per file."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    stale = {}
    for name, page in inventory.PAGES.items():
        path = tmp_path / page
        text = path.read_text(encoding="utf-8")
        begin = inventory.BLOCKS[name][0].search(text).group(0).split("\n", 1)[0]
        end = f"<!-- END {name} -->"
        path.write_text(text.replace(inventory.BLOCKS[name][0].search(text).group(0), f"{begin}\nstale\n{end}"), encoding="utf-8")
        stale[page] = path.read_text(encoding="utf-8")
    assert main(["inventory", "--docs", str(tmp_path / "docs")]) == 0
    out = capsys.readouterr().out
    for name, page in inventory.PAGES.items():
        assert f"{tmp_path / page}: {name} updated" in out
        assert (tmp_path / page).read_text(encoding="utf-8") == (ROOT / page).read_text(encoding="utf-8")
    assert main(["inventory", "--docs", str(tmp_path / "docs")]) == 0
    assert "updated" not in capsys.readouterr().out
    # one file works as well; a place without any block is an error naming it
    assert main(["inventory", "--docs", str(tmp_path / inventory.PAGES["rotation-guide"])]) == 0
    (tmp_path / "empty").mkdir()
    assert main(["inventory", "--docs", str(tmp_path / "empty")]) == 2
    assert "holds no generated block" in capsys.readouterr().err


def test_markdown_tables_follow_the_runbook(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inventory"]) == 0
    out = capsys.readouterr().out
    github = table_rows(out, "| Secret Name | Purpose | Rotation Schedule | Used By |")
    # issue 14: only what the chain still writes; the deprecated tokens have their own table
    assert [r[0].split()[0].strip("`") for r in github] == [e.github_name for e in ENTRIES if not e.deprecated]
    key_row = next(r for r in github if r[0] == "`APP_PRIVATE_KEY`")
    assert key_row[2] == "Annually" and "actions/create-github-app-token" in key_row[3]
    esc = table_rows(out, "| Key | Purpose | Rotation Schedule | Environment |")
    esc_keys = [k for k in catalog.KEYS if k.tier is Tier.ESC]
    assert [r[0].strip("`") for r in esc] == [k.key for k in esc_keys]
    by_key = {r[0].strip("`"): r for r in esc}
    assert by_key["grafana:smtpPassword"][2] == "Quarterly"
    assert by_key["grafana:githubClientId"][2] == "When the OAuth app is rotated"
    assert by_key["namespace:imagePullSecret.username"][2] == "N/A"
    assert all(r[3] == "Both" for r in esc)
    stack = table_rows(out, "| Key | Purpose | Example |")
    assert {r[0].strip("`") for r in stack} == {k.key for k in catalog.KEYS if k.tier is Tier.STACK}
    flows = {r[0].strip("`"): r for r in table_rows(out, "| Key | Flows to |")}
    token = catalog.get("namespace:imagePullSecret.token")
    assert flows[token.key][1:] == [plan.flows_to(token), runbook.of(token).consumers, runbook.of(token).symptom, runbook.of(token).scopes]


def test_json_inventory(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inventory", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in data["github"]] == [e.github_name for e in ENTRIES if not e.deprecated]
    rows = {r["key"]: r for r in data["esc"] + data["stack"]}
    assert set(rows) == {k.key for k in catalog.KEYS}
    for k in catalog.KEYS:
        assert rows[k.key]["rotationDays"] == k.rotation.days
        assert rows[k.key]["secret"] is k.secret
        assert rows[k.key]["generate"] == runbook.of(k).generate
    assert rows["flux:githubToken"]["rotationDays"] == 90 and rows["flux:githubToken"]["aliases"] == ["secret-chain:github.token"]


def test_environment_filter(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    only_prod = dataclasses.replace(catalog.get("grafana:smtpHost"), environments=("production",))
    monkeypatch.setattr(catalog, "KEYS", tuple(only_prod if k.key == only_prod.key else k for k in catalog.KEYS))
    assert main(["inventory", "--environment", "preview", "--json"]) == 0
    preview = {r["key"] for r in json.loads(capsys.readouterr().out)["esc"]}
    assert main(["inventory", "--environment", "production"]) == 0
    production = capsys.readouterr().out
    assert "grafana:smtpHost" not in preview and "prometheus:authToken" in preview
    assert "| `grafana:smtpHost` |" in production and "(production)" in production
    assert main(["inventory"]) == 0
    row = next(r for r in table_rows(capsys.readouterr().out, "| Key | Purpose | Rotation Schedule | Environment |") if r[0] == "`grafana:smtpHost`")
    assert row[3] == "Production"


def test_bad_environment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inventory", "--environment", "staging"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "invalid choice" in err and len(err.splitlines()) == 1


def test_readme_rewrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# T\n\nbefore\n\n{inventory.BEGIN_MARKER}\nstale table\n{inventory.END_MARKER}\n\nafter\n")
    assert main(["inventory", "--readme", str(readme)]) == 0
    assert "updated" in capsys.readouterr().out
    text = readme.read_text()
    assert text.startswith("# T\n\nbefore\n\n") and text.endswith("\n\nafter\n") and "stale table" not in text
    assert inventory.current_block(text) == inventory.readme_block()
    assert main(["inventory", "--readme", str(readme)]) == 0
    assert "already up to date" in capsys.readouterr().out


def test_readme_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    assert main(["inventory", "--readme", str(readme)]) == 2
    assert "markers" in capsys.readouterr().err
    assert main(["inventory", "--readme", str(tmp_path / "missing.md")]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read")
    assert main(["inventory", "--readme", str(readme), "--json"]) == 2


def test_subprocess_inventory() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "secret_chain", "inventory", "--json", "--environment", "production"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["environment"] == "production"


def test_deprecated_keys_have_their_own_table(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 14: the keys kept readable for one release are listed with what replaced them and when they go."""
    assert main(["inventory"]) == 0
    out = capsys.readouterr().out
    deprecated = [k for k in catalog.KEYS if k.deprecated]
    assert {k.key for k in deprecated} == {"ci:pulumiAccessToken", "ci:workflowDispatchToken"}
    rows = table_rows(out, "| Deprecated key | Replaced by | Removed in |")
    assert rows == [[f"`{k.key}`", k.deprecated, catalog.REMOVED_IN] for k in deprecated]
    github = table_rows(out, "| Secret Name | Purpose | Rotation Schedule | Used By |")
    assert not [r for r in github if "PULUMI_ACCESS_TOKEN" in r[0] or "WORKFLOW_DISPATCH_TOKEN" in r[0]]
    assert main(["inventory", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_key = {r["key"]: r for r in data["esc"]}
    assert by_key["ci:pulumiAccessToken"]["deprecated"] == catalog.get("ci:pulumiAccessToken").deprecated
    assert by_key["ci:pulumiFallbackAccessToken"]["optIn"] is True and by_key["ci:githubAppId"]["deprecated"] == ""


# --- issue 14: the long-lived secrets that remain, per tier ------------------------------------------------------


def test_every_secret_says_why_it_is_long_lived_or_not_held() -> None:
    for entry in catalog.KEYS:
        if entry.secret:
            assert runbook.of(entry).stays, f"{entry.key}: say why it must stay (runbook stays)"


def test_the_inventory_lists_the_long_lived_secrets_per_tier_and_why() -> None:
    remaining = inventory.long_lived()
    # GitHub: only the CI App's key is stored for good (and the opt-in fallback); no Pulumi or GitHub token.
    assert [(r["name"], r["optIn"]) for r in remaining["github"]] == [("APP_PRIVATE_KEY", "no"), ("PULUMI_FALLBACK_ACCESS_TOKEN", "yes")]
    written = {e.github_name for e in ENTRIES if e.secret and not e.key.deprecated}
    assert {r["name"] for r in remaining["github"]} == written
    esc_keys = [r["key"] for r in remaining["esc"]]
    for gone in (
        "ci:pulumiAccessToken",
        "ci:workflowDispatchToken",
        "secret-chain:rolloutKey",
        "prometheus:previousAuthToken",
        "grafana:githubClientId",
    ):
        assert gone not in esc_keys
    assert all(r["why"] for tier in remaining.values() for r in tier)
    # Kubernetes: the copies the chain writes, derived from the registrations (Secret <namespace>/<name> [...]).
    assert remaining["kubernetes"] and all(r["secret"].startswith("Secret ") and r["key"] in esc_keys for r in remaining["kubernetes"])
    assert {r["key"] for r in remaining["kubernetes"]} >= {
        "namespace:imagePullSecret.token",
        "flux:githubAppPrivateKey",
        "gateway:digitaloceanDnsToken",
    }
    text = inventory.render_markdown()
    assert "Long-lived secrets that remain, and why each must stay" in text and "`APP_PRIVATE_KEY`" in text
