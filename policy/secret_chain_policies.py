"""The secret-chain policy pack's policies, gathered from its modules (the pack itself is built in ``__main__.py``).

* :mod:`policy_secrets`: Kubernetes Secret data is secret, dockerconfigjson shape, monitor credentials in the
  monitor's namespace (per resource and across the stack), no secret-looking metadata, GitHub secret arguments.
* :mod:`policy_secrets` also: no secret-shaped value in any plain input (ConfigMaps, env values, Helm values, variables).
* :mod:`policy_allowlist`: a pull request's stack creates only the types the chain creates there.
* :mod:`policy_namespaces`: a pull request's stack stays in its namespace; nothing else points into, grants to, or
  copies into one (:mod:`policy_grants`: RBAC users and groups, label selectors, replication annotations).
* :mod:`policy_api_versions`: no deprecated API versions.
* :mod:`policy_common`: reading inputs and config, and which Kubernetes object a resource is.

Each policy is a module-level :class:`pulumi_policy.ResourceValidationPolicy` (one
:class:`~pulumi_policy.StackValidationPolicy`) whose ``validate``/``remediate`` is a module-level function, so tests
call it with fake arguments. Every tunable list is policy config with a default (each policy's
``config_schema``): set it in the stack's policy config (``pulumi preview --policy-pack policy
--policy-pack-config config.json``). Messages never repeat a value that looks like a secret.
"""

from __future__ import annotations

from policy_allowlist import *  # noqa: F403  (re-exported: tests and users reach every policy from here)
from policy_api_versions import *  # noqa: F403
from policy_common import ObjectId, api_version_of, config_of, get, object_ids, plain, setting, split_api_version, stack_of, urn_parts
from policy_grants import *  # noqa: F403
from policy_namespaces import *  # noqa: F403
from policy_secrets import *  # noqa: F403
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

POLICIES: tuple[ResourceValidationPolicy | StackValidationPolicy, ...] = (
    kubernetes_secret_data_is_secret,  # noqa: F405
    dockerconfigjson_shape,  # noqa: F405
    monitor_credentials_same_namespace,  # noqa: F405
    monitor_secrets_in_monitor_namespace,  # noqa: F405
    no_secret_looking_metadata,  # noqa: F405
    no_secret_shaped_plain_values,  # noqa: F405
    no_deprecated_api_versions,  # noqa: F405
    github_secret_no_deprecated_args,  # noqa: F405
    pr_stack_allow_list,  # noqa: F405
    pr_stack_confined_to_its_namespace,  # noqa: F405
)
"""Every policy of the pack, in report order."""

__all__ = [
    "POLICIES",
    "ObjectId",
    "api_version_of",
    "config_of",
    "get",
    "object_ids",
    "plain",
    "setting",
    "split_api_version",
    "stack_of",
    "urn_parts",
]
