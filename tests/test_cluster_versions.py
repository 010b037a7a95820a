"""`preflight --cluster`: the CRD versions a running cluster serves, against what the built parts write (issue 12, item 14).

The cluster is played by a stub ``kubectl`` on PATH that answers ``kubectl get crd <name> -o json`` from CRD
documents shaped as the API server returns them (apiextensions.k8s.io/v1 CustomResourceDefinition: ``spec.versions[]``
with ``name``, ``served`` and ``schema.openAPIV3Schema``), or exits like kubectl does for a missing object
(``Error from server (NotFound)``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from secret_chain.ops.cli import main
from secret_chain.upstream import SERVED_APIS, served_api_problems

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "config" / "production.json"


def crd(name: str, versions: dict[str, bool], properties: dict[str, Any] | None = None) -> dict[str, Any]:
    """A CRD as the API server returns it; ``properties`` is the served versions' ``spec`` schema."""
    schema = {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": properties or {}}}}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": name},
        "spec": {"versions": [{"name": v, "served": served, "storage": served, "schema": schema} for v, served in versions.items()]},
    }


def current_cluster() -> dict[str, dict[str, Any]]:
    """Flux 2.7, cert-manager 1.21, Prometheus Operator 0.93: every API the chain writes, with its fields."""
    return {
        "gitrepositories.source.toolkit.fluxcd.io": crd(
            "gitrepositories.source.toolkit.fluxcd.io",
            {"v1": True, "v1beta2": True},
            {"provider": {"type": "string", "enum": ["generic", "azure", "github"]}},
        ),
        "clusterissuers.cert-manager.io": crd("clusterissuers.cert-manager.io", {"v1": True}),
        "certificates.cert-manager.io": crd("certificates.cert-manager.io", {"v1": True}),
        "servicemonitors.monitoring.coreos.com": crd(
            "servicemonitors.monitoring.coreos.com",
            {"v1": True},
            {"endpoints": {"type": "array", "items": {"type": "object", "properties": {"authorization": {"type": "object"}}}}},
        ),
    }


@pytest.fixture
def kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """A stub kubectl whose cluster is the returned dict (edit it in the test)."""
    cluster = current_cluster()
    store = tmp_path / "crds.json"
    stub = tmp_path / "bin" / "kubectl"
    stub.parent.mkdir()
    stub.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"crds = json.load(open({str(store)!r}))\n"
        "name = sys.argv[3]\n"
        "if name not in crds:\n"
        "    sys.stderr.write(f'Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io \"{name}\" not found\\n')\n"
        "    sys.exit(1)\n"
        "print(json.dumps(crds[name]))\n"
    )
    stub.chmod(0o755)
    monkeypatch.setenv("PATH", f"{stub.parent}{os.pathsep}{os.environ.get('PATH', '')}")

    class Cluster(dict[str, dict[str, Any]]):
        def save(self) -> None:
            store.write_text(json.dumps(self))

    live = Cluster(cluster)
    live.save()
    return live


def preflight(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["preflight", "--stack", "production", "--config", str(EXAMPLE), "--cluster", *extra])
    return code, capsys.readouterr().out


def test_a_current_cluster_serves_everything(kubectl: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = preflight(capsys)  # (the example config itself is not ready: its published key; that is not asked here)
    assert "keys checked" in out
    assert not [line for line in out.splitlines() if "CRD " in line and line.startswith("  ✗ ")], out  # (✓ lines say what passed)


UPGRADES = {
    "flux-without-v1": ("gitrepositories.source.toolkit.fluxcd.io", {"v1beta2": True}, None, "serves v1beta2, not v1", "source-controller ≥ 1.0"),
    "flux-before-github-app": (
        "gitrepositories.source.toolkit.fluxcd.io",
        {"v1": True},
        {"provider": {"type": "string", "enum": ["generic", "azure", "gcp"]}},
        "does not allow spec.provider: github",
        "Flux ≥ 2.5",
    ),
    "cert-manager-missing": ("clusterissuers.cert-manager.io", None, None, "is not installed", "cert-manager ≥ 1.0"),
    "prometheus-operator-without-authorization": (
        "servicemonitors.monitoring.coreos.com",
        {"v1": True},
        {"endpoints": {"type": "array", "items": {"type": "object", "properties": {"bearerTokenSecret": {"type": "object"}}}}},
        "has no spec.endpoints.authorization",
        "Prometheus Operator ≥ 0.50",
    ),
    "v1-listed-but-not-served": ("servicemonitors.monitoring.coreos.com", {"v1": False}, None, "serves no version, not v1", "Prometheus Operator"),
}


@pytest.mark.parametrize("case", list(UPGRADES), ids=list(UPGRADES))
def test_an_old_or_missing_crd_is_named_with_its_upgrade(kubectl: Any, capsys: pytest.CaptureFixture[str], case: str) -> None:
    name, versions, properties, says, upgrade = UPGRADES[case]
    if versions is None:
        del kubectl[name]
    else:
        kubectl[name] = crd(name, versions, properties)
    kubectl.save()
    code, out = preflight(capsys)
    assert code == 1
    (line,) = [line for line in out.splitlines() if name in line and line.startswith("  ✗ ")]
    assert says in line and upgrade in line and "Fix: " in line
    assert "NOT READY" in out


def test_without_kubectl_the_cluster_check_says_it_could_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The config's results stay (issue 21, item 8; more in tests/test_cli_preflight_cluster.py)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    code = main(["preflight", "--stack", "production", "--config", str(EXAMPLE), "--cluster"])
    out, err = capsys.readouterr()
    assert code == 1 and err == "" and "keys checked" in out
    assert "NOT CHECKED: the cluster check could not run: --cluster reads the running cluster's CRDs with kubectl, which is not on PATH" in out


def test_only_the_built_parts_apis_are_asked_for() -> None:
    asked: list[str] = []
    assert served_api_problems({"GhcrPullSecret"}, False, lambda name: asked.append(name) or None) == []
    assert asked == []
    served_api_problems({"FluxGitCredentials"}, False, lambda name: asked.append(name) or None)
    assert asked == ["gitrepositories.source.toolkit.fluxcd.io"]  # asked once, the provider enum only in App mode
    assert {api.crd.split(".", 1)[1] for api in SERVED_APIS} == {"source.toolkit.fluxcd.io", "cert-manager.io", "monitoring.coreos.com"}
