"""The committed stack files, with their ESC environment's values, make a stack that deploys.

A stack's config is its ``stacks/Pulumi.<stack>.yaml`` plus what its ESC environment injects. Here the
ESC part is the ESC-tier keys of the example config; the settings part must come from the stack file
alone, so a setting missing from a stack file (the domain Grafana needs, say) fails here, not at
`pulumi up`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components import catalog
from components.catalog import Tier
from components.offline import load_config_file
from components.program import main
from tests.runtime import evaluate

ROOT = Path(__file__).resolve().parent.parent

# stack name -> (stack file, example config of its ESC environment, parts it must build)
STACKS: dict[str, tuple[str, str, list[str]]] = {
    "production": (
        "Pulumi.production.yaml",
        "production.json",
        ["GhcrPullSecret", "PrometheusAuth", "FluxGitCredentials", "CertManagerDnsIssuer", "GrafanaOAuth", "GitHubActionsSecrets"],
    ),
    "preview-base": (
        "Pulumi.preview-base.yaml",
        "preview.json",
        ["GhcrPullSecret", "PrometheusAuth", "FluxGitCredentials", "CertManagerDnsIssuer", "GitHubActionsSecrets"],
    ),
    "preview-pr-7": ("Pulumi.preview-pr.yaml", "preview.json", ["GhcrPullSecret", "PrometheusAuth", "GrafanaOAuth"]),
}


def _esc_tier(key: str) -> bool:
    """Whether a flat config key (an object key such as namespace:imagePullSecret included) is set in ESC."""
    return any(entry.tier is Tier.ESC for entry in catalog.held_in(key))


def stack_config(stack: str) -> tuple[dict[str, str], list[str]]:
    stack_file, example, _ = STACKS[stack]
    document: dict[str, Any] = yaml.safe_load((ROOT / "stacks" / stack_file).read_text())
    esc, secret_keys = load_config_file(ROOT / "examples" / "config" / example)
    config = {key: value for key, value in esc.items() if _esc_tier(key)}
    config.update({key: str(value) for key, value in document["config"].items()})
    return config, [key for key in secret_keys if key in config]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_stack_file_and_its_esc_environment_build_every_part(stack: str, preview: bool) -> None:
    config, secret_keys = stack_config(stack)
    ev = evaluate(main, config=config, secret_keys=secret_keys, stack=stack, preview=preview)
    assert ev.stack_outputs["parts"] == STACKS[stack][2]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_stack_files_hold_settings_only(stack: str) -> None:
    document = yaml.safe_load((ROOT / "stacks" / STACKS[stack][0]).read_text())
    for key in document["config"]:
        assert not _esc_tier(key), f"{key} belongs in the ESC environment, not in a stack file"
        assert not (key in {k.key for k in catalog.KEYS} and catalog.get(key).secret), key


def test_the_pr_template_names_no_environment() -> None:
    # CI attaches <org>/secret-chain/Preview with `pulumi config env add`; an import in the template would be a second one.
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.preview-pr.yaml").read_text())
    assert "environment" not in document
