"""``secret-chain doctor`` through its command line on all four systems at once, and on a stack of any name (issue 22).

One run reads GitHub and DigitalOcean (the stand-ins of tests/doctor_apis.py, validated against GitHub's OpenAPI
description), Pulumi ESC (the world's stand-in ``pulumi env open``, tests/world.py) and Kubernetes with Prometheus
(tests/kube_standin.py, validated against the Kubernetes OpenAPI and the CRD schemas), as a person runs it:

    secret-chain doctor --stack production --config examples/config/production.json --kubeconfig K --prometheus-url U

Everything printed is scanned for every secret value of the config (tests/leaks.py). A stack of another name that
declares its kind (``secret-chain:stackKind``, shared decision 1) is checked exactly as the stack named after that
kind: the kind is resolved as ``preflight`` resolves it, and ``org/stack`` or ``org/project/stack`` is kept as typed
in every fix (``pulumi up --stack acme/prod``), as the Pulumi CLI takes it (pulumi/pulumi
``pkg/backend/httpstate/backend.go`` ``ParseStackReference``).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secret_chain import catalog
from secret_chain.ops import plan
from secret_chain.ops.offline import unwrap
from tests import kube_standin as standin
from tests.canaries import Canaries, chain_config, make_canaries
from tests.doctor_apis import NOW
from tests.runtime import fold
from tests.test_doctor_github import Result, Setup, stand_ins, statuses

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "config" / "production.json"
SYSTEMS = ("github", "esc", "kubernetes", "digitalocean")


@pytest.fixture(scope="module")
def canaries() -> Canaries:
    return make_canaries()


@contextlib.contextmanager
def cluster(config: dict[str, str], secret_keys: list[str], stack: str, tmp: Path) -> Iterator[tuple[standin.KubeApiServer, list[str]]]:
    """The stand-in Kubernetes API holding what ``pulumi up`` of ``stack`` left, reconciled, and a Prometheus scraping it.

    Yields the API server and the doctor's options naming both (``--kubeconfig``, ``--prometheus-url``).
    """
    evaluation = plan.evaluate_stack(config, secret_keys, stack)
    pools = []
    for reg in evaluation.resources:
        if reg.type.endswith(":ServiceMonitor"):
            meta = unwrap(reg.inputs["metadata"])
            pools.append(f"serviceMonitor/{meta['namespace']}/{meta['name']}/0")  # prometheus-operator promcfg.go job name
    targets = [standin.target(pool, f"10.244.0.{i}:8080", now=NOW) for pool in pools for i in (7, 8)]
    objects = standin.live_objects(evaluation, NOW) + standin.consumers(evaluation, NOW)
    with standin.KubeApiServer(objects) as api, standin.PrometheusServer(targets) as prometheus:
        kubeconfig = standin.write_kubeconfig(tmp / "kubeconfig", api.url)
        yield api, ["--kubeconfig", str(kubeconfig), "--prometheus-url", prometheus.url]


def _canary_setup(
    canaries: Canaries, tmp: Path, monkeypatch: pytest.MonkeyPatch, *, named: str, kind: str, declare: bool
) -> Iterator[tuple[Setup, list[str], standin.KubeApiServer]]:
    config, secret_keys = fold(*chain_config(canaries, stack=kind))
    if declare:
        config[catalog.STACK_KIND.key] = kind
    for s in stand_ins(tmp, monkeypatch, config, secret_keys, canaries.needles()):
        s.stack = named
        with cluster(config, secret_keys, named.rsplit("/", 1)[-1], tmp) as (api, options):
            yield s, options, api


def _run(s: Setup, options: list[str], *, json_out: bool = True) -> Result:
    return s.run(*options, "--timeout", "5", json_out=json_out, only=SYSTEMS)


def _as_production(document: dict[str, Any], named: str, kind: str) -> str:
    """The report with the stack as it was named replaced by ``kind``'s own name (fix commands name the stack), as text."""
    # (in link order: the program registers its Secrets concurrently, so one check's findings may come in another order)
    findings = sorted(document["findings"], key=lambda f: (f["link"], f["checked"]))
    text = json.dumps({**{k: v for k, v in document.items() if k != "stack"}, "findings": findings}, sort_keys=True, indent=1)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)  # each run has its own stand-ins
    return re.sub(rf"--stack {re.escape(named)}\b", f"--stack {kind}", text)


# --- one run, all four systems ---------------------------------------------------------------------------------------------


def test_the_example_stack_is_all_ok_on_all_four_systems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The person's command on the committed example config: every link of every system OK, exit 0, no value printed."""
    from secret_chain.ops.offline import parse_config

    config, secret_keys = parse_config(json.loads(EXAMPLE.read_text()))
    needles = {f"example {k}": config[k] for k in secret_keys}
    for s in stand_ins(tmp_path, monkeypatch, config, secret_keys, needles):
        with cluster(config, secret_keys, "production", tmp_path) as (_api, options):
            result = _run(s, options)
            text = _run(s, options, json_out=False)
        assert result.code == 0, text.out
        found = statuses(result)
        assert set(found.values()) == {"OK"}, {k: v for k, v in found.items() if v != "OK"}
        systems = {link.split(".", 1)[0] for link in found}
        assert systems == set(SYSTEMS)
        for link in ("github.ghcr-token", "github.app/ci", "github.installation/flux", "esc.environment", "digitalocean.dns-token"):
            assert found.get(link) == "OK", (link, sorted(found))
        kinds = {link.split("/", 1)[0] for link in found if link.startswith("kubernetes.")}
        # what the example's production registers (no image automation; the wildcard certificates are preview-base's)
        assert kinds == {f"kubernetes.{k}" for k in ("secret", "rollout", "gitrepository", "clusterissuer", "servicemonitor")}
        assert text.code == 0 and text.out.splitlines()[0] == "Doctor of stack production (kind production): OK"
        assert re.fullmatch(rf"{len(found)} OK, 0 WARN, 0 FAIL in \d+\.\d s", text.out.splitlines()[-1])
        print(text.out)
        print(f"(wall time, config read included: first run {result.seconds:.2f} s, the stack program evaluated offline once per")
        print(f"process for the Kubernetes links; this second run {text.seconds:.2f} s)")


def test_one_failure_in_each_system_exits_1_and_every_other_link_is_still_reported(
    canaries: Canaries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for s, options, api in _canary_setup(canaries, tmp_path, monkeypatch, named="production", kind="production", declare=False):
        healthy = statuses(_run(s, options))
        assert set(healthy.values()) == {"OK"}, {k: v for k, v in healthy.items() if v != "OK"}
        # GitHub: the GHCR token revoked. ESC: a key the parts need removed from the environment. DigitalOcean: the DNS
        # token refused. Kubernetes: the Flux GitRepository failing authentication, as source-controller reports it.
        s.github.pats[s.value("namespace:imagePullSecret.token")].revoked = True
        s.monkeypatch.setenv("PULUMI_ACCESS_TOKEN", "pul-revoked-0123456789abcdef")
        s.digitalocean.tokens.clear()
        (repo,) = api.objects("GitRepository")
        _fail_authentication(api, repo)
        result = _run(s, options)
        assert result.code == 1
        found = statuses(result)
        gitrepository = f"kubernetes.gitrepository/{repo['metadata']['namespace']}/{repo['metadata']['name']}"
        broken = {"github.ghcr-token": "FAIL", "esc.environment": "FAIL", "digitalocean.dns-token": "FAIL", gitrepository: "FAIL"}
        assert {link: found.get(link) for link in broken} == broken
        # every other link is still checked and reported, and still OK
        others = {link: status for link, status in found.items() if link not in broken}
        assert set(healthy) - set(broken) <= set(others)
        assert set(others.values()) == {"OK"}, {k: v for k, v in others.items() if v != "OK"}
        assert {link.split(".", 1)[0] for link in others} == {"github", "kubernetes"}  # ESC and DigitalOcean have one link each
        assert result.document["status"] == "FAIL"
        flux = result.one(gitrepository)
        assert flux["key"] == catalog.FLUX_GITHUB_APP_PRIVATE_KEY.key
        text = _run(s, options, json_out=False)
        assert text.code == 1 and text.out.splitlines()[0] == "Doctor of stack production (kind production): FAIL"
        assert re.fullmatch(rf"{len(found) - 4} OK, 0 WARN, 4 FAIL in \d+\.\d s", text.out.splitlines()[-1])


def _fail_authentication(api: standin.KubeApiServer, repo: dict[str, Any]) -> None:
    """The GitRepository as source-controller leaves it when GitHub refuses the credentials: Ready False, FetchFailed True.

    fluxcd/source-controller ``gitrepository_controller.go`` (``reconcileSource``: "failed to checkout and determine
    revision: %w"), fluxcd/pkg ``git/gogit/clone.go`` ("unable to clone '%s': %w"), go-git's ``ErrAuthenticationRequired``.
    """
    message = "failed to checkout and determine revision: unable to clone 'https://github.com/acme/cluster': authentication required"
    when = standin.rfc3339(NOW)
    repo["status"]["conditions"] = [
        {"type": t, "status": v, "reason": "GitOperationFailed", "message": message, "lastTransitionTime": when, "observedGeneration": 1}
        for t, v in (("Ready", "False"), ("FetchFailed", "True"))
    ]
    api.put(repo)


# --- any stack name ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("named", "kind"),
    [("prod", "production"), ("acme/secret-chain/prod", "production"), ("feature-7", "preview-pr-7"), ("acme/feature-7", "preview-pr-7")],
)
def test_a_stack_of_any_name_declaring_a_kind_gets_that_kind_s_report(
    canaries: Canaries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named: str, kind: str
) -> None:
    """The same report as the stack named after its kind, apart from the stack's name, which every fix keeps as typed."""
    reports = {}
    for name, declare in ((kind, False), (named, True)):
        where = tmp_path / name.replace("/", "_")
        where.mkdir()
        with monkeypatch.context() as patch:
            for s, options, _api in _canary_setup(canaries, where, patch, named=name, kind=kind, declare=declare):
                # one broken link in each system, so that the report holds fixes (each names the stack)
                s.github.pats[s.value("namespace:imagePullSecret.token")].revoked = True
                s.digitalocean.tokens.clear()
                result = _run(s, options)
                assert result.document["stack"] == name and result.document["kind"] == kind
                assert result.code == 1
                reports[name] = result.document
    ours, theirs = reports[named], reports[kind]
    assert {f["link"].split(".", 1)[0] for f in theirs["findings"]} >= {"github", "esc", "kubernetes"}
    assert _as_production(ours, named, kind) == _as_production(theirs, kind, kind)
    fixes = [f["fix"] for f in ours["findings"] if "--stack" in f["fix"]]
    assert fixes and all(f"--stack {named}" in fix for fix in fixes), fixes
    if kind.startswith("preview-pr-"):  # the PR namespace comes from the kind, not from the name
        assert any(f["link"].startswith(f"kubernetes.secret/{kind}/") for f in ours["findings"])


def test_a_stack_whose_kind_is_unknown_cannot_be_doctored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As preflight: a name that says no kind, with no secret-chain:stackKind, is one error naming the setting; exit 2."""
    from secret_chain.ops import cli
    from tests.runtime import cli_json

    config, secret_keys = parse_example()
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cli_json(config, secret_keys)))
    assert cli.main(["doctor", "--stack", "acme/dev", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and catalog.STACK_KIND.key in err and "pulumi config set" in err, err


def parse_example() -> tuple[dict[str, str], list[str]]:
    from secret_chain.ops.offline import parse_config

    return parse_config(json.loads(EXAMPLE.read_text()))
