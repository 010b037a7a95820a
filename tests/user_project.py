"""A user's Pulumi project that uses the components, with unit tests written as Pulumi's docs teach (issue 21).

Pulumi's unit-testing guide, Python (pulumi.com/docs/iac/guides/testing/unit): a ``pulumi.runtime.Mocks`` whose
``new_resource`` returns ``[args.name + '_id', args.inputs]`` and whose ``call`` returns ``{}``, installed with
``pulumi.runtime.set_mocks(MyMocks(), preview=False)`` before the program (``infra``) is imported, and tests decorated
with ``@pulumi.runtime.test`` that return ``pulumi.Output.all(...).apply(check)``. The project has its own
``components/`` package (a common layout) beside ``secret_chain``, and wires a component's args from another
resource's outputs (the namespace from a ``kubernetes.core.v1.Namespace``'s ``metadata.name``).

Each check prints a line (``checked: …``) so that the caller can tell it ran: an apply on an unknown value never runs.
"""

from __future__ import annotations

import secrets
from pathlib import Path

COMPONENTS = '''"""The project's own components package: it shares its name with secret-chain's source folder, not its import name."""


def app_labels() -> dict[str, str]:
    """Labels of the api's pods."""
    return {"app.kubernetes.io/name": "api"}
'''

INFRA = '''"""The project's program: a Namespace, the pull secret and metrics token in it, and a Deployment reading them."""

import pulumi_kubernetes as k8s

from components import app_labels
from secret_chain import GhcrPullSecret, PrometheusAuth

namespace = k8s.core.v1.Namespace("apps", metadata={"name": "apps"})
pull = GhcrPullSecret("pull", {"namespaces": [namespace.metadata.name]})
metrics = PrometheusAuth("metrics", {"namespace": namespace.metadata.name})
api = k8s.apps.v1.Deployment(
    "api",
    metadata={"namespace": namespace.metadata.name},
    spec={
        "selector": {"match_labels": app_labels()},
        "template": {
            "metadata": {"labels": app_labels(), "annotations": metrics.rollout_annotations},
            "spec": {
                "image_pull_secrets": [{"name": pull.secret_names.apply(lambda names: names["apps"])}],
                "containers": [
                    {"name": "api", "image": "ghcr.io/acme/api:1.0.0", "env_from": [{"secret_ref": {"name": metrics.secret_name}}]}
                ],
            },
        },
    },
)
'''

# The stack's config, which `pulumi up` reads from Pulumi.<stack>.yaml and ESC (docs/testing.md): set before the import.
CONFIG = """pulumi.runtime.set_all_config(
    {
        "kubernetes:enableSecretMutable": "true",
        "namespace:imagePullSecret": '{"token": "GHCR_TOKEN", "username": "octo-bot"}',
        "prometheus:authToken": "PROMETHEUS_TOKEN",
    },
    ["namespace:imagePullSecret", "prometheus:authToken"],
)
"""

CHECKS = """

@pulumi.runtime.test
def test_the_deployment_pulls_with_the_pull_secret_and_reads_the_token():
    def check(args):
        urn, spec = args
        pod = spec["template"]["spec"]
        assert pod["image_pull_secrets"] == [{"name": "ghcr-pull-secret"}], f"deployment {urn} must pull with the GHCR secret"
        assert pod["containers"][0]["env_from"] == [{"secret_ref": {"name": "prometheus-auth"}}], f"deployment {urn} must read the token"
        print("checked: the deployment")

    return pulumi.Output.all(infra.api.urn, infra.api.spec).apply(check)


@pulumi.runtime.test
def test_the_secrets_are_in_the_namespace():
    def check(args):
        names, secret_name = args
        assert names == {"apps": "ghcr-pull-secret"}
        assert secret_name == "prometheus-auth"
        print("checked: the secret names")

    return pulumi.Output.all(infra.pull.secret_names, infra.metrics.secret_name).apply(check)
"""

DOCS_TEST = (
    """import pulumi


class MyMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        return [args.name + '_id', args.inputs]
    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}

pulumi.runtime.set_mocks(
    MyMocks(),
    preview=False,  # Sets the flag `dry_run`, which is true at runtime during a preview.
)
"""
    + CONFIG
    + """
# It's important to import `infra` _after_ the mocks are defined.
import infra
"""
    + CHECKS
)
"""The docs' example, literally: the echo mock, ``set_mocks``, ``import infra``, ``@pulumi.runtime.test`` checks."""

HELPER_TEST = (
    """import pulumi

from secret_chain.testing import Mocks, set_config

pulumi.runtime.set_mocks(Mocks(), preview=False)
set_config(
    {
        "kubernetes:enableSecretMutable": "true",
        "namespace:imagePullSecret.username": "octo-bot",
        "namespace:imagePullSecret.token": "GHCR_TOKEN",
        "prometheus:authToken": "PROMETHEUS_TOKEN",
    },
    secret=["namespace:imagePullSecret.token", "prometheus:authToken"],
)

import infra
"""
    + CHECKS
    + """

@pulumi.runtime.test
def test_the_pods_roll_when_the_token_changes():
    def check(args):
        annotations, spec = args
        assert spec["template"]["metadata"]["annotations"] == annotations
        assert list(annotations) == ["secret-chain/rollout-hmac-sha256-prometheus-auth"]
        print("checked: the rollout annotations")

    return pulumi.Output.all(infra.metrics.rollout_annotations, infra.api.spec).apply(check)
"""
)
"""The same tests on :class:`secret_chain.testing.Mocks` and ``set_config`` (docs/testing.md), which give the generated rollout key a value."""


def write_project(folder: Path) -> dict[str, str]:
    """The project in ``folder`` (``components/``, ``infra.py``, ``test_docs_mock.py``, ``test_helper_mock.py``); its secrets."""
    values = {"ghcr": "ghp_" + secrets.token_hex(18), "prometheus": secrets.token_hex(32)}
    (folder / "components").mkdir(parents=True, exist_ok=True)
    (folder / "components" / "__init__.py").write_text(COMPONENTS)
    (folder / "infra.py").write_text(INFRA)
    for name, text in (("test_docs_mock.py", DOCS_TEST), ("test_helper_mock.py", HELPER_TEST)):
        (folder / name).write_text(text.replace("GHCR_TOKEN", values["ghcr"]).replace("PROMETHEUS_TOKEN", values["prometheus"]))
    return values
