"""Ways an object reaches into other namespaces without a ``namespace`` field.

RBAC user and group names, label selectors on namespaces, and the annotations of the Secret/ConfigMap replication
controllers.

:mod:`policy_namespaces` reads every reference these helpers find, beside the ``namespace`` fields it finds itself.
Each reference is a :class:`Ref`:

* ``name``: one namespace by name (``value``);
* ``all``: every namespace, pull requests' included (``value`` says how);
* ``pattern``: namespaces matching a regular expression (``value``), which may match a pull request's namespace;
* ``label``: a label selector that may select a pull request's namespace (``value``: the selector as written);
* ``selector``: a label selector a pull request's namespace cannot satisfy, which still reaches other namespaces.

Upstream behaviour relied on here:

* Kubernetes authenticates a ServiceAccount as user ``system:serviceaccount:<namespace>:<name>`` in groups
  ``system:serviceaccounts`` and ``system:serviceaccounts:<namespace>`` (kubernetes
  ``staging/src/k8s.io/apiserver/pkg/authentication/serviceaccount/util.go``: ``ServiceAccountUsernamePrefix``,
  ``ServiceAccountGroupPrefix``, ``AllServiceAccountsGroup``); every authenticated request is in
  ``system:authenticated``, every anonymous one in ``system:unauthenticated``
  (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-subjects). A binding to one of those
  users or groups is a grant to that namespace however the subject's ``kind`` is spelled.
* The API server labels every Namespace ``kubernetes.io/metadata.name: <its name>`` and no one can change it
  (https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-metadata-name); every other label of
  a PR namespace is written by the PR stack, so the pack lets it carry only the chain's own label keys
  (``prNamespaceLabelKeys``, enforced by :mod:`policy_namespaces`) and treats a selector that can be satisfied with
  those keys as one that may select a pull request's namespace.
* Label selector strings (``k=v``, ``k==v``, ``k!=v``, ``k in (…)``, ``k notin (…)``, ``k``, ``!k``, joined by
  commas, all required): https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors.
* Replication controllers, by their own docs and source:

  - emberstack/kubernetes-reflector (README "Usage"; ``src/ES.Kubernetes.Reflector/Mirroring/Core/Annotations.cs``,
    ``MirroringPropertiesExtensions.cs``): a source annotated ``reflector.v1.k8s.emberstack.com/reflection-allowed:
    "true"`` may be mirrored into every namespace matched by ``reflection-allowed-namespaces`` (comma-separated names
    or regular expressions, full match) or ``reflection-allowed-namespaces-selector``; *with neither, into every
    namespace*. ``reflection-auto-enabled`` creates the mirrors itself (within those). A mirror names its source with
    ``reflects: <namespace>/<name>``. cert-manager's ``Certificate.spec.secretTemplate.annotations`` and the
    ``cert-manager.io/secret-template`` annotation carry these to the Secret cert-manager writes (README
    "cert-manager support"); the older extension read ``secret-reflection-allowed[-namespaces]`` on the Certificate.
  - mittwald/kubernetes-replicator (README "Push-based replication", "Pull-based replication";
    ``replicate/common/consts.go``, ``generic-replicator.go``, ``common.go`` ``BuildStrictRegex``):
    ``replicator.v1.mittwald.de/replicate-to`` (names or full-match regular expressions) and ``replicate-to-matching``
    (a label selector) push a copy into those namespaces; ``replication-allowed: "true"`` with
    ``replication-allowed-namespaces`` lets a ``replicate-from: <namespace>/<name>`` object there pull it.
  - appscode config-syncer, formerly kubed (https://config-syncer.com/docs/v0.15.1/guides/config-syncer/intra-cluster):
    ``kubed.appscode.com/sync: ""`` copies into every namespace, ``kubed.appscode.com/sync: "<selector>"`` into the
    namespaces the selector matches.
  - synator (https://github.com/TheYkk/synator, README "Usage"): ``synator/sync: "yes"`` copies into every namespace
    but ``synator/exclude-namespaces``, or only ``synator/include-namespaces``.

  Every name or pattern list is checked entry by entry. A regular expression is refused on every stack: whether it
  can match ``preview-pr-<N>`` is not decidable here in general, and a namespace list is what these tools are for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from policy_common import is_list, items, join, peek

NAME_LABEL = "kubernetes.io/metadata.name"
"""The label the API server sets on every Namespace to its name (NamespaceDefaultLabelName, GA in Kubernetes 1.22)."""

PR_NAMESPACE_LABEL_KEYS: tuple[str, ...] = (
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/component",
    "secret-chain/pr",
)
"""The label keys the chain puts on a PR namespace (components/secret_chain/kube.py ``labels``; components/secret_chain/chain.py adds
``secret-chain/pr: <N>``), the only ones a PR namespace may carry. Default of policy config ``prNamespaceLabelKeys``."""

SERVICE_ACCOUNT_USER = "system:serviceaccount:"
SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts:"
EVERYONE_GROUPS = {
    "system:serviceaccounts": "holds every ServiceAccount of every namespace",
    "system:authenticated": "holds every authenticated user and every namespace's ServiceAccounts",
    "system:unauthenticated": "holds every anonymous request, from any pod",
}
"""Groups that hold the accounts of every namespace, a pull request's included."""

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
"""A namespace name (RFC 1123 label): a pattern entry of this shape is a plain name, anything else a regular expression."""

REFLECTOR = "reflector.v1.k8s.emberstack.com/"
REPLICATOR = "replicator.v1.mittwald.de/"
KUBED_SYNC = "kubed.appscode.com/sync"
SYNATOR = "synator/"
SECRET_TEMPLATE = "cert-manager.io/secret-template"
ANNOTATION_MAPS = frozenset({"annotations", "podAnnotations", "commonAnnotations"})
"""Keys of annotation maps, wherever they sit (object and template metadata, Certificate secretTemplate, Helm values)."""


class Ref(NamedTuple):
    """A reference from an object to namespaces: how (``name``/``all``/``pattern``/``label``/``selector``/``any``), where, what."""

    how: str
    path: str
    value: str


class Model(NamedTuple):
    """What a pull request's namespace can look like: its name matches ``names``, its labels use only ``keys``."""

    names: re.Pattern[str]
    keys: frozenset[str]


# --- RBAC subjects --------------------------------------------------------------------------------------------------


def subject_refs(subject: Mapping[str, Any], path: str) -> Iterator[Ref]:
    """The namespaces a ``User``/``Group`` subject (RBAC ``Subject`` shape: kind, name) names or holds."""
    kind, name = peek(subject, "kind"), peek(subject, "name")
    if not isinstance(name, str):
        return
    if kind == "User" and name.startswith(SERVICE_ACCOUNT_USER):
        namespace = name[len(SERVICE_ACCOUNT_USER) :].split(":", 1)[0]
        yield Ref("name", f"{path}.name", namespace)
    elif kind == "Group" and name.startswith(SERVICE_ACCOUNTS_GROUP):
        yield Ref("name", f"{path}.name", name[len(SERVICE_ACCOUNTS_GROUP) :])
    elif kind == "Group" and name in EVERYONE_GROUPS:
        yield Ref("all", f"{path}.name", f"group {name} {EVERYONE_GROUPS[name]}")


# --- label selectors ------------------------------------------------------------------------------------------------


class Requirement(NamedTuple):
    """One label requirement: key, operator (``=``, ``!=``, ``in``, ``notin``, ``exists``, ``!``), values."""

    key: str
    operator: str
    values: tuple[str, ...]


_SET_BASED = re.compile(r"^\s*(\S+)\s+(in|notin)\s*\((.*)\)\s*$")
_EQUALITY = re.compile(r"^\s*([^\s!=]+)\s*(==|=|!=)\s*(\S*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^\s!=(),]+)\s*$")


def parse_selector(text: str) -> list[Requirement] | None:
    """The requirements of a label selector string, or None when it cannot be read (then it is taken to select anything)."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    requirements = []
    for part in parts:
        if not part.strip():
            if len(parts) == 1:
                return []
            return None
        if match := _SET_BASED.match(part):
            values = tuple(v.strip() for v in match.group(3).split(","))
            requirements.append(Requirement(match.group(1), match.group(2), values))
        elif match := _EQUALITY.match(part):
            requirements.append(Requirement(match.group(1), "!=" if match.group(2) == "!=" else "=", (match.group(3),)))
        elif match := _EXISTS.match(part):
            requirements.append(Requirement(match.group(2), "!" if match.group(1) else "exists", ()))
        else:
            return None
    return requirements


def structured_selector(selector: Mapping[str, Any]) -> list[Requirement]:
    """The requirements of a ``LabelSelector`` object (``matchLabels``, ``matchExpressions``)."""
    operators = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    found = [Requirement(str(k), "=", (str(v),)) for k, v in items(peek(selector, "matchLabels"))]
    for _, expression in items(peek(selector, "matchExpressions")):
        key, operator = peek(expression, "key"), peek(expression, "operator")
        values = tuple(str(v) for _, v in items(peek(expression, "values")))
        found.append(Requirement(str(key), operators.get(str(operator), str(operator)), values))
    return found


def may_select_pr(requirements: list[Requirement] | None, model: Model) -> bool:
    """Whether a pull request's namespace can satisfy every requirement (an unreadable selector: yes)."""
    if requirements is None:
        return True
    for requirement in requirements:
        positive = requirement.operator in ("=", "in", "exists")
        if requirement.key == NAME_LABEL:
            if requirement.operator in ("=", "in") and not any(model.names.fullmatch(v) for v in requirement.values):
                return False
            if requirement.operator == "!":
                return False
        elif requirement.key not in model.keys and positive:
            return False
    return True


def label_selector_refs(requirements: list[Requirement] | None, path: str, shown: str, model: Model, *, copies: bool) -> Iterator[Ref]:
    """A selector of namespaces: ``name`` for each namespace it pins by name, else ``label`` or ``selector``.

    ``copies``: the selector picks where a Secret is copied (replication), so any selector a PR namespace can satisfy
    is ``label``, and an empty one is ``all``. Otherwise (a ``namespaceSelector``, whose empty or negative form means
    "every namespace but…" and depends on the kind) only a selector that *requires* a label a PR namespace can carry is
    ``label``.
    """
    if requirements is None:
        yield Ref("label", path, f"{shown} (not a label selector the pack can read)")
        return
    if not requirements:
        if copies:
            yield Ref("all", path, "an empty selector selects every namespace")
        return
    pinned = [r for r in requirements if r.key == NAME_LABEL and r.operator in ("=", "in")]
    for requirement in pinned:
        for value in requirement.values:
            yield Ref("name", path, value)
    how = None if pinned else classify(requirements, model, copies=copies)
    if how is not None:
        yield Ref(how, path, shown)


def classify(requirements: list[Requirement], model: Model, *, copies: bool) -> str | None:
    """``label`` (may pick a PR namespace), ``selector`` (picks others by label), or None (pins names only, or nothing)."""
    if all(r.key == NAME_LABEL for r in requirements):
        return None
    requires_pr_key = any(r.operator in ("=", "in", "exists") and r.key in model.keys for r in requirements)
    return "label" if may_select_pr(requirements, model) and (copies or requires_pr_key) else "selector"


# --- replication annotations ----------------------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    # reflector: .NET bool.TryParse (case-insensitive "true"); replicator: Go strconv.ParseBool
    return isinstance(value, str) and value.strip().lower() in ("true", "1", "t", "yes")


def _pattern_refs(text: str, path: str) -> Iterator[Ref]:
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        yield Ref("name", path, entry) if DNS_LABEL.fullmatch(entry) else Ref("pattern", path, entry)


def _source_ref(text: str, path: str) -> Iterator[Ref]:
    namespace, slash, _ = text.strip().partition("/")
    if slash and namespace:
        yield Ref("name", path, namespace)


def _reflector(annotations: Mapping[str, Any], path: str, model: Model) -> Iterator[Ref]:
    for prefix in ("reflection-", "secret-reflection-"):
        allowed_key = f"{REFLECTOR}{prefix}allowed"
        if not _truthy(annotations.get(allowed_key)):
            continue
        names = annotations.get(f"{REFLECTOR}{prefix}allowed-namespaces") or ""
        selector = annotations.get(f"{REFLECTOR}{prefix}allowed-namespaces-selector") or ""
        if not str(names).strip() and not str(selector).strip():
            yield Ref("all", f'{path}["{allowed_key}"]', "reflection allowed into every namespace (no allowed namespaces, no selector)")
            continue
        yield from _pattern_refs(str(names), f'{path}["{REFLECTOR}{prefix}allowed-namespaces"]')
        if str(selector).strip():
            selector_path = f'{path}["{REFLECTOR}{prefix}allowed-namespaces-selector"]'
            yield from label_selector_refs(parse_selector(str(selector)), selector_path, str(selector), model, copies=True)
    reflects = annotations.get(f"{REFLECTOR}reflects")
    if isinstance(reflects, str):
        yield from _source_ref(reflects, f'{path}["{REFLECTOR}reflects"]')


def _replicator(annotations: Mapping[str, Any], path: str, model: Model) -> Iterator[Ref]:
    to = annotations.get(f"{REPLICATOR}replicate-to")
    if isinstance(to, str):
        yield from _pattern_refs(to, f'{path}["{REPLICATOR}replicate-to"]')
    matching = annotations.get(f"{REPLICATOR}replicate-to-matching")
    if isinstance(matching, str):
        yield from label_selector_refs(parse_selector(matching), f'{path}["{REPLICATOR}replicate-to-matching"]', matching.strip(), model, copies=True)
    if _truthy(annotations.get(f"{REPLICATOR}replication-allowed")):
        allowed = annotations.get(f"{REPLICATOR}replication-allowed-namespaces")
        if isinstance(allowed, str):  # missing: the replicator allows no namespace (generic-replicator.go)
            yield from _pattern_refs(allowed, f'{path}["{REPLICATOR}replication-allowed-namespaces"]')
    source = annotations.get(f"{REPLICATOR}replicate-from")
    if isinstance(source, str):
        yield from _source_ref(source, f'{path}["{REPLICATOR}replicate-from"]')


def _kubed(annotations: Mapping[str, Any], path: str, model: Model) -> Iterator[Ref]:
    if KUBED_SYNC not in annotations:
        return
    value = annotations.get(KUBED_SYNC)
    here = f'{path}["{KUBED_SYNC}"]'
    if not isinstance(value, str) or not value.strip():
        yield Ref("all", here, "config-syncer (kubed) copies into every namespace")
    else:
        yield from label_selector_refs(parse_selector(value), here, value.strip(), model, copies=True)


def _synator(annotations: Mapping[str, Any], path: str) -> Iterator[Ref]:
    if not _truthy(annotations.get(f"{SYNATOR}sync")):
        return
    include = annotations.get(f"{SYNATOR}include-namespaces")
    if isinstance(include, str) and include.strip():
        yield from _pattern_refs(include, f'{path}["{SYNATOR}include-namespaces"]')
    else:
        yield Ref("all", f'{path}["{SYNATOR}sync"]', "synator copies into every namespace (no include-namespaces)")


def annotation_refs(annotations: Mapping[str, Any], path: str, model: Model) -> Iterator[Ref]:
    """Every namespace one annotation map sends a copy into, allows a copy into, or copies from."""
    plain = {str(k): v for k, v in items(annotations)}
    yield from _reflector(plain, path, model)
    yield from _replicator(plain, path, model)
    yield from _kubed(plain, path, model)
    yield from _synator(plain, path)
    template = plain.get(SECRET_TEMPLATE)
    if isinstance(template, str):
        try:
            document = json.loads(template)
        except ValueError:
            document = None
        inner = document.get("annotations") if isinstance(document, dict) else None
        if isinstance(inner, dict):
            yield from annotation_refs(inner, f'{path}["{SECRET_TEMPLATE}"].annotations', model)


def replication_refs(props: Any, model: Model) -> Iterator[Ref]:
    """Every replication reference in every annotation map of an object (its metadata, templates, secretTemplate…)."""
    yield from _replication_walk(props, "", model)


def _replication_walk(value: Any, path: str, model: Model) -> Iterator[Ref]:
    for key, child in items(value):
        here = join(path, key)
        if key in ANNOTATION_MAPS and isinstance(child, Mapping):
            yield from annotation_refs(child, here, model)
        elif isinstance(child, Mapping) or is_list(child):
            yield from _replication_walk(child, here, model)


__all__ = [
    "EVERYONE_GROUPS",
    "NAME_LABEL",
    "PR_NAMESPACE_LABEL_KEYS",
    "Model",
    "Ref",
    "Requirement",
    "annotation_refs",
    "classify",
    "label_selector_refs",
    "may_select_pr",
    "parse_selector",
    "replication_refs",
    "structured_selector",
    "subject_refs",
]
