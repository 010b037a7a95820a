"""The Kubernetes links of ``secret-chain doctor``: what the stack owns in the cluster, checked live and read-only.

Which objects a stack owns is not listed here: the stack program is evaluated offline with the stack's config, as
``secret-chain plan`` does (:func:`secret_chain.ops.plan.evaluate_stack`), and its registrations say which Secrets
(with which data keys), GitRepository, ImageRepositories, ClusterIssuer, Certificates and ServiceMonitor the stack
has, and which Secrets are read at start-up (the ``rolloutAnnotations`` output). Each check then reads those objects
from the Kubernetes API with `lightkube <https://lightkube.readthedocs.io>`_ (kubeconfig and context as ``kubectl``
picks them, a timeout on every request, bounded retries on 429/5xx) and returns a :class:`Finding` per link:

- ``kubernetes.secret/<ns>/<name>``: the Secret exists with exactly the expected data keys, and its content is the
  one the config gives (compared as HMAC-SHA256 digests under a key drawn for the run, never as values).
- ``kubernetes.rollout/<ns>/<Kind>/<name>``: each Deployment or StatefulSet reading a start-up Secret carries the
  rollout annotation of the Secret's current content (:func:`secret_chain.kube.rollout_digest`, keyed with
  ``secret-chain:rolloutKey``), and so do its running pods: they were restarted after the last rotation.
- ``kubernetes.gitrepository/<ns>/<name>``: Flux's ``Ready`` condition; a reason or message naming authentication
  points at the Flux credentials (``flux:githubToken`` or the Flux GitHub App keys).
- ``kubernetes.imagerepository/<ns>/<name>``, ``kubernetes.clusterissuer/<name>``: ``Ready``.
- ``kubernetes.certificate/<ns>/<name>``: ``Ready`` and ``status.notAfter`` (``Finding.expires``; WARN within
  ``warn_days``).
- ``kubernetes.servicemonitor/<ns>/<name>``: with ``Context.prometheus_url``, every target of the ServiceMonitor's
  scrape pools is ``up`` (Prometheus HTTP API ``GET /api/v1/targets``).

No finding holds a secret value: Secret data is decoded only to be digested, and controller messages are copied only
after every configured value is cut out of them. A check never raises; an API out of reach (refused, timed out) is a
FAIL of each link it would have read, with the reason, and the other checks go on.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from secret_chain.doctor import links
from secret_chain.doctor.links import (
    SOURCE_CERTIFICATE,
    SOURCE_GITREPOSITORY,
    SOURCE_IMAGEREPOSITORY,
    SOURCE_ISSUER,
    SOURCE_SECRET,
    SOURCE_TARGETS,
    SOURCE_WORKLOADS,
)
from secret_chain.doctor.model import Check, Context, Finding, Status

SECRET = "kubernetes.secret/<namespace>/<name>"
ROLLOUT = "kubernetes.rollout/<namespace>/<Kind>/<name>"
UNREAD = "kubernetes.rollout/<namespace>/<secret>"
GITREPOSITORY = "kubernetes.gitrepository/<namespace>/<name>"
IMAGEREPOSITORY = "kubernetes.imagerepository/<namespace>/<name>"
CLUSTERISSUER = "kubernetes.clusterissuer/<name>"
CERTIFICATE = "kubernetes.certificate/<namespace>/<name>"
SERVICEMONITOR = "kubernetes.servicemonitor/<namespace>/<name>"
OWNED = "kubernetes.<kind>"
"""The rows of :data:`secret_chain.doctor.links.LINKS` the Kubernetes findings belong to (their symptom and source)."""

# --- upstream pages each finding cites: the table of links' (secret_chain.doctor.links), and the kubeconfig's --------------

SOURCE_KUBECONFIG = "https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/"

RETRIES = 2
"""Extra tries of a request answered 429 or 5xx (never of one that timed out: a hanging server is reported at once)."""
BACKOFF = 0.25
"""Seconds before the first retry; doubled for each next one. A ``Retry-After`` header wins, up to :data:`MAX_WAIT`."""
MAX_WAIT = 5.0
"""The longest wait before a retry, whatever ``Retry-After`` asks."""

AUTH_WORDS = re.compile(
    r"authenticat|authoriz|unauthori[sz]ed|invalid username or token|bad credentials|forbidden|\b401\b|\b403\b|"
    r"private key|github app|credentials",
    re.IGNORECASE,
)
"""What marks a Flux failure as one of credentials: source-controller's ``AuthenticationFailed`` reason, and the Git
client's errors (go-git plumbing/transport ``ErrAuthenticationRequired`` "authentication required",
``ErrAuthorizationFailed`` "authorization failed", wrapped by fluxcd/pkg git/gogit ``unable to clone '<url>': …``
under source-controller's ``GitOperationFailed``)."""

AUTH_REASONS = frozenset({"AuthenticationFailed", "InvalidProviderConfiguration"})
"""source-controller (api/v1/condition_types.go) and image-reflector-controller (api/v1/condition_types.go) reasons
that are about the credentials Secret."""


# --- what the stack owns -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owned:
    """One Kubernetes object the stack program registers (names and shapes only, never values)."""

    api_version: str
    kind: str
    namespace: str
    name: str
    spec: Mapping[str, Any] = field(default_factory=dict)
    data_keys: tuple[str, ...] = ()
    config_keys: tuple[str, ...] = ()
    content: str = ""
    """For a Secret: the keyed digest (:attr:`Expected.digest_key`) of the data the config gives."""

    @property
    def where(self) -> str:
        """``namespace/name``, or ``name`` for a cluster-scoped object."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True)
class Expected:
    """What the stack owns in the cluster, derived from its program evaluated offline, or why that could not be done."""

    objects: tuple[Owned, ...] = ()
    rollout: Mapping[str, str] = field(default_factory=dict)
    """Rollout annotation key → name of the Secret it stands for (the Secrets read at start-up)."""
    digest_key: bytes = b""
    problem: str = ""

    def of(self, kind: str) -> list[Owned]:
        """The owned objects of ``kind``."""
        return [o for o in self.objects if o.kind == kind]


def flat_config(context: Context) -> dict[str, str]:
    """The context's config as ``pulumi config --json`` strings (an object value as its JSON text)."""
    out: dict[str, str] = {}
    for key, value in context.config.items():
        if isinstance(value, Mapping) and "value" in value:  # the unflattened `pulumi config --json` shape
            value = value["value"]
        out[key] = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return out


def digest(key: bytes, data: Mapping[str, str]) -> str:
    """HMAC-SHA256 of a Secret's data (canonical JSON) under ``key``: content compared without the values leaving memory."""
    message = json.dumps(dict(data), sort_keys=True, separators=(",", ":"))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


_EVALUATION_LOCK = threading.Lock()
_EXPECTED: dict[str, Expected] = {}


def expected(context: Context) -> Expected:
    """What the stack owns, cached per stack and config: the checks of one run share one offline evaluation.

    The cache is keyed by a SHA-256 of the stack's name, kind and config (never the values themselves), and holds no
    value either (:class:`Owned` has names and keyed digests). The evaluation runs Pulumi's mock runtime, whose settings
    are process-wide: one at a time, under a lock.
    """
    key = hashlib.sha256(json.dumps([context.stack, context.kind, flat_config(context)], sort_keys=True).encode()).hexdigest()
    with _EVALUATION_LOCK:
        found = _EXPECTED.get(key)
        if found is None:
            found = _evaluate(context)
            if len(_EXPECTED) >= 8:
                _EXPECTED.clear()
            _EXPECTED[key] = found
        return found


def _evaluate(context: Context) -> Expected:
    import asyncio

    from secret_chain import catalog, stacks
    from secret_chain.doctor import common
    from secret_chain.errors import SecretChainError
    from secret_chain.kube import CONFIG_KEYS_ANNOTATION, rollout_annotation_key
    from secret_chain.ops import plan
    from secret_chain.ops.offline import close_event_loop, unwrap

    config = flat_config(context)
    secret_keys = [k for k in config if (entry := catalog.BY_KEY.get(k)) is not None and entry.secret]
    # The program runs as the stack's name (org/stack and org/project/stack: the last part), of the kind the doctor
    # resolved: a stack whose config does not declare it (a context made by hand) is given it, as `pulumi config set`.
    stack = common.stack_name(context)
    if stacks.declared_in(config.get) is None and stacks.by_name(stack) is None:
        config[catalog.STACK_KIND.key] = common.stack_kind(context).kind_name
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:  # a worker thread of the runner: the SDK's _sync_await needs a loop of the thread's own
        asyncio.set_event_loop(asyncio.new_event_loop())
    try:
        evaluation = plan.evaluate_stack(config, secret_keys, stack)
    except SecretChainError as err:
        return Expected(problem=_first_line(str(err)) + " (run `secret-chain preflight`)")
    except Exception as err:  # the program failed for another reason: a finding, never a crash
        return Expected(problem=f"the stack program could not be evaluated offline ({type(err).__name__})")
    finally:
        close_event_loop()
    key = secrets.token_bytes(32)
    objects = []
    rollout_names: dict[str, str] = {}
    for reg in evaluation.resources:
        if not reg.type.startswith("kubernetes:"):
            continue
        api_version, kind = plan._api_version_kind(reg.type)
        meta = unwrap(reg.inputs.get("metadata"))
        meta = meta if isinstance(meta, dict) else {}
        namespace, name = str(unwrap(meta.get("namespace")) or ""), str(unwrap(meta.get("name")) or "")
        spec = unwrap(reg.inputs.get("spec"))
        if kind == "Secret":
            keys = tuple(plan._data_keys(reg))
            values = {k: plan._data_value(reg, k) for k in keys}
            annotations = unwrap(meta.get("annotations"))
            listed = str(annotations.get(CONFIG_KEYS_ANNOTATION, "")) if isinstance(annotations, dict) else ""
            content = digest(key, {k: str(v) for k, v in values.items()}) if all(isinstance(v, str) for v in values.values()) else ""
            objects.append(Owned(api_version, kind, namespace, name, {}, keys, tuple(k for k in listed.split(",") if k), content))
            rollout_names[rollout_annotation_key(name)] = name
        elif kind in ("GitRepository", "ImageRepository", "ClusterIssuer", "Certificate", "ServiceMonitor"):
            objects.append(Owned(api_version, kind, namespace, name, spec if isinstance(spec, dict) else {}))
    outputs = unwrap(evaluation.stack_outputs.get("rolloutAnnotations"))
    rollout: dict[str, str] = {}
    for annotations in (outputs or {}).values() if isinstance(outputs, dict) else ():
        for annotation_key in unwrap(annotations) or {}:
            if annotation_key in rollout_names:
                rollout[annotation_key] = rollout_names[annotation_key]
    return Expected(tuple(objects), rollout, key)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


# --- reading the API ---------------------------------------------------------------------------------------------------


class Unreachable(Exception):
    """The API could not be read: no kubeconfig, refused, timed out, or an answer that is not the API's.

    ``status``: WARN when the cluster does not answer usefully (out of reach, a timeout, 429 or 5xx after the retries, an
    answer too large or not the API's), the rule every system of the doctor follows (docs/doctor.md: "A link whose system
    does not answer is a WARN"); FAIL when the stack's own setting is at fault (no usable kubeconfig, RBAC refusing).
    """

    status = Status.WARN

    symptom = "doctor cannot reach the cluster, so nothing in it was checked"
    fix = "check the cluster is up and reachable from here (kubectl get --raw /readyz), or pass --kubeconfig/--context"


class _Unusable(Unreachable):
    """No usable kubeconfig: the setting at fault is the stack's or the caller's, so the links it hides FAIL."""

    status = Status.FAIL


class PrometheusUnreachable(Unreachable):
    """Prometheus' HTTP API could not be read."""

    symptom = "doctor cannot reach Prometheus, so the ServiceMonitor's targets were not checked"
    fix = "check --prometheus-url points at Prometheus' HTTP API (curl <url>/api/v1/targets?state=active answers)"


class Refused(Unreachable):
    """The API answered, but not with the object: 403 Forbidden (RBAC), or an error status after every retry."""

    symptom = "doctor could not read this object, so this link was not checked"

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code
        self.status = Status.FAIL if code in (401, 403) else Status.WARN
        self.fix = (
            "let doctor's identity get and list this kind, read-only (a Role or ClusterRole with verbs get, list; "
            "kubectl auth can-i get <kind> -n <namespace>)"
            if code in (401, 403)
            else "run doctor again; if it persists, see the API server's health (kubectl get --raw /readyz?verbose)"
        )


@dataclass
class Kube:
    """A read-only Kubernetes API client for one check: lightkube, with retries, and no further request once out of reach."""

    client: Any
    where: str
    broken: str = ""
    continued: int = 0
    """``metadata.continue`` requests of the list being read (:meth:`count_page`)."""

    def count_page(self, request: Any) -> None:
        """httpx2 request hook: a list that asks for more than :data:`~secret_chain.doctor.http.MAX_PAGES` pages stops."""
        from secret_chain.doctor import http as doctor_http  # lazily: it imports httpx2 (tests/test_import_graph.py)
        if "continue" in request.url.params:
            self.continued += 1
            if self.continued >= doctor_http.MAX_PAGES:
                raise doctor_http.PagesCapped(f"the list still had a continue token after {doctor_http.MAX_PAGES} pages; stopped there")

    def call(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` (one API read), retried on 429/5xx; :class:`Unreachable` once the API is out of reach (then at once).

        The waits before the retries of one read add up to at most :data:`MAX_WAIT` seconds, so a ``Retry-After`` just under
        it is not waited out again and again.
        """
        import httpx2
        from lightkube import ApiError

        from secret_chain.doctor import http as doctor_http  # lazily: it imports httpx2 (tests/test_import_graph.py)

        if self.broken:
            raise Unreachable(self.broken)
        waited = 0.0
        self.continued = 0
        for attempt in range(RETRIES + 1):
            try:
                return fn()
            except ApiError as err:
                code = _code(err)
                wait = min(_wait(err.response.headers.get("Retry-After") if err.response is not None else None, attempt), MAX_WAIT - waited)
                if (code == 429 or code >= 500) and attempt < RETRIES and waited < MAX_WAIT:
                    time.sleep(wait)
                    waited += wait
                    continue
                raise
            except doctor_http.PagesCapped as err:
                # Not "broken": the other reads of the check may still answer.
                raise Unreachable(f"the Kubernetes API at {self.where} misbehaves: {err.reason}") from None
            except httpx2.TimeoutException:
                self.broken = f"the Kubernetes API at {self.where} did not answer within the timeout"
            except doctor_http.AnswerTooLarge as err:
                self.broken = f"the Kubernetes API at {self.where} misbehaves: {err}"
            except httpx2.TransportError as err:
                self.broken = f"the Kubernetes API at {self.where} is out of reach ({type(err).__name__})"
            except RecursionError:
                self.broken = f"the Kubernetes API at {self.where} sent JSON nested deeper than a reader can follow"
            except (ValueError, KeyError, TypeError) as err:
                self.broken = f"the Kubernetes API at {self.where} sent an answer that is not the API's ({type(err).__name__})"
            raise Unreachable(self.broken)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def get(self, resource: Any, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """One object as a dict, or None when the API says 404 Not Found."""
        from lightkube import ApiError

        try:
            obj = self.call(lambda: self.client.get(resource, name, namespace=namespace) if namespace else self.client.get(resource, name))
        except ApiError as err:
            if err.status.code == 404:
                return None
            raise _refused(err) from None
        return _as_dict(obj)

    def list(self, resource: Any, namespace: str, labels: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Every object of ``resource`` in ``namespace`` (matching ``labels``), as dicts."""
        from lightkube import ApiError

        try:
            return [_as_dict(o) for o in self.call(lambda: list(self.client.list(resource, namespace=namespace, labels=dict(labels or {}))))]
        except ApiError as err:
            raise _refused(err) from None


def _refused(err: Any) -> Refused:
    """The API's error status as a :class:`Refused`: its code and reason, never its message (it may quote the request)."""
    code = _code(err)
    return Refused(f"the Kubernetes API answered {code} {err.status.reason or ''}".rstrip(), code)


def _code(err: Any) -> int:
    """An ``ApiError``'s HTTP status: the Status object's ``code``, else the response's (a body that is no Status has none)."""
    response = getattr(err, "response", None)
    return int(err.status.code or (response.status_code if response is not None else 0) or 0)


def _as_dict(obj: Any) -> dict[str, Any]:
    out = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return out if isinstance(out, dict) else {}


def _wait(retry_after: str | None, attempt: int) -> float:
    """Seconds before retry ``attempt``: ``Retry-After`` (seconds) when given, else exponential back-off; at most MAX_WAIT."""
    if retry_after is not None:
        try:
            seconds = float(retry_after)
        except ValueError:
            seconds = math.nan
        if math.isfinite(seconds):  # nan, inf and 1e400 (read as inf) are no count of seconds: the back-off instead
            return min(max(seconds, 0.0), MAX_WAIT)
    return min(BACKOFF * 2.0**attempt, MAX_WAIT)


def kubeconfig_source(context: Context) -> tuple[str, str | None]:
    """Where the cluster's kubeconfig comes from, as ``kubectl`` and pulumi-kubernetes look: (kind, path or text).

    ``--kubeconfig`` first, then the stack's ``kubernetes:kubeconfig`` (a path or the file's content), then the first
    existing file of ``KUBECONFIG``, then ``~/.kube/config``, then a pod's in-cluster service account (client-go
    ``NewDefaultClientConfigLoadingRules``; :func:`secret_chain.chain.ambient_kubeconfig`). ("none", None) when none.
    """
    if context.kubeconfig:
        return "file", context.kubeconfig
    configured = context.config.get("kubernetes:kubeconfig")
    if isinstance(configured, str) and configured.strip():
        return ("text", configured) if "\n" in configured or configured.lstrip().startswith(("{", "apiVersion")) else ("file", configured)
    listed = [p for p in context.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        found = [p for p in listed if os.path.isfile(p)]
        return ("file", found[0]) if found else ("none", None)
    home = context.environ.get("HOME")
    if home and os.path.isfile(os.path.join(home, ".kube", "config")):
        return "file", os.path.join(home, ".kube", "config")
    if context.environ.get("KUBERNETES_SERVICE_HOST") and os.path.isfile("/var/run/secrets/kubernetes.io/serviceaccount/token"):
        return "in-cluster", None
    return "none", None


def connect(context: Context) -> Kube:
    """A client for the context's cluster; :class:`Unreachable` (with the fix in its message) when there is no usable kubeconfig."""
    import httpx2
    import yaml
    from lightkube import Client, KubeConfig
    from lightkube.core.exceptions import ConfigError

    from secret_chain.doctor import http as doctor_http

    kind, where = kubeconfig_source(context)
    cluster_context = context.kube_context or _config_str(context, "kubernetes:context")
    try:
        if kind == "file" and where is not None:
            config = KubeConfig.from_file(where)
        elif kind == "text" and where is not None:
            config = KubeConfig.from_dict(yaml.safe_load(where))
        elif kind == "in-cluster":
            config = KubeConfig.from_service_account()
        else:
            raise _Unusable("no kubeconfig: pass --kubeconfig, set KUBECONFIG, or write ~/.kube/config")
        if cluster_context is not None and cluster_context not in config.contexts:
            raise _Unusable(f"the kubeconfig has no context {cluster_context!r}: kubectl config get-contexts lists those it has")
        single = config.get(context_name=cluster_context)
        if single is None:
            raise _Unusable("the kubeconfig names no current context: pass --context")
        client = Client(single, timeout=httpx2.Timeout(context.timeout), trust_env=False)
    except (ConfigError, OSError, yaml.YAMLError, KeyError, ValueError, TypeError) as err:
        # The message of a kubeconfig error may quote the file: only its kind is reported.
        label = "kubernetes:kubeconfig" if kind == "text" else where
        raise _Unusable(f"the kubeconfig ({label}) cannot be used: {type(err).__name__}") from None
    # The server as the kubeconfig names it, without userinfo (http://admin:<password>@host): it is quoted in findings.
    kube = Kube(client, re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", r"\1", single.cluster.server))
    # lightkube 1.0 builds its httpx2.Client from the kubeconfig (TLS, client certificates, auth: config/client_adapter.py)
    # and takes a transport only in place of that one, which would drop them; so the bounds go on as that client's event
    # hooks: lightkube.Client._client (core/client.py) is the GenericSyncClient, whose _client (core/generic_client.py
    # GenericClient.__init__) is the httpx2.Client every request is sent with.
    raw = client._client._client
    doctor_http.Bounds(context.timeout).install(raw)
    raw.event_hooks = {**raw.event_hooks, "request": [*raw.event_hooks["request"], kube.count_page]}
    return kube


def _config_str(context: Context, key: str) -> str | None:
    value = context.config.get(key)
    return value if isinstance(value, str) and value else None


def _resources() -> dict[str, Any]:
    """Lightkube resource classes of the kinds read (CRDs as generic resources of their served version)."""
    from lightkube.generic_resource import create_global_resource, create_namespaced_resource
    from lightkube.resources.apps_v1 import Deployment, StatefulSet
    from lightkube.resources.core_v1 import Pod, Secret

    return {
        "Secret": Secret,
        "Deployment": Deployment,
        "StatefulSet": StatefulSet,
        "Pod": Pod,
        "GitRepository": create_namespaced_resource("source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories"),
        "ImageRepository": create_namespaced_resource("image.toolkit.fluxcd.io", "v1", "ImageRepository", "imagerepositories"),
        "ClusterIssuer": create_global_resource("cert-manager.io", "v1", "ClusterIssuer", "clusterissuers"),
        "Certificate": create_namespaced_resource("cert-manager.io", "v1", "Certificate", "certificates"),
    }


# --- findings shared by the checks -------------------------------------------------------------------------------------


PLAIN_PROVIDER_SETTINGS = frozenset({"github:owner", "github:baseUrl", "kubernetes:context", "kubernetes:namespace"})
"""Provider settings that are no secret (pulumi-github's owner and base URL, pulumi-kubernetes' context and namespace):
the only keys outside the catalog whose values a controller's message may keep."""


def secret_values(context: Context) -> list[str]:
    """Every configured value that may be secret: 8 characters or more, longest first.

    A secret catalog key's value or an unknown key's, with the string fields of an object value and the lines of a
    multi-line one (a PEM key quoted line by line).
    """
    from secret_chain import catalog

    found: set[str] = set()
    for key, value in flat_config(context).items():
        entry = catalog.BY_KEY.get(key)
        if (entry is not None and not entry.secret) or key in PLAIN_PROVIDER_SETTINGS:
            continue
        candidates = [value, *value.replace("\\n", "\n").splitlines()]
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            candidates += [v for v in parsed.values() if isinstance(v, str)]
        found.update(c.strip() for c in candidates if len(c.strip()) >= 8)
    return sorted(found, key=len, reverse=True)


def _redact(text: str, context: Context) -> str:
    """``text`` (a controller's message) with every secret cut out, newlines folded, at most 400 characters.

    The one redaction of the doctor (:func:`secret_chain.doctor.common.clean` over
    :func:`~secret_chain.doctor.common.secret_values`: the config's secrets, the kubeconfig's credentials, their base64
    forms and long prefixes).
    """
    from secret_chain.doctor import common

    return common.clean(text, common.secret_values(context), common.CAP)


def _link(owned: Owned) -> str:
    return f"kubernetes.{owned.kind.lower()}/{owned.where}"


def _unreachable(owned: Iterable[Owned], err: Unreachable, source: str, link: Callable[[Owned], str] = _link) -> list[Finding]:
    return [
        Finding(
            link=link(o),
            status=err.status,
            checked=f"{o.kind} {o.where}: not read ({err})",
            symptom=err.symptom,
            fix=err.fix,
            source=f"{source}; {SOURCE_KUBECONFIG}",
        )
        for o in owned
    ]


def _problem(owned_kind: str, expected_: Expected, context: Context) -> list[Finding]:
    return [
        Finding(
            link=f"kubernetes.{owned_kind.lower()}",
            status=Status.FAIL,
            checked=f"which {owned_kind}s stack {context.stack} owns: not derived ({expected_.problem})",
            symptom=links.symptom(OWNED),
            fix=f"secret-chain preflight --stack {context.stack}",
        )
    ]


def _guarded(
    name: str,
    kind: str,
    source: str,
    body: Callable[[Context, Expected, Kube | None, list[Owned]], list[Finding]],
    select: Callable[[Expected], list[Owned]] | None = None,
    link: Callable[[Owned], str] = _link,
    cluster: bool = True,
) -> Check:
    """A check of the owned objects of ``kind`` (those ``select`` picks): nothing to check → no finding; never raises.

    ``link``: the link id of an owned object (for the findings of a cluster out of reach); ``cluster=False``: the check
    reads no Kubernetes API (``body`` is given no client).
    """

    def check(context: Context) -> list[Finding]:
        try:
            found = expected(context)
            if found.problem:
                return _problem(kind, found, context)
            owned = select(found) if select is not None else found.of(kind)
            if not owned:
                return []
            kube = None
            if cluster:
                try:
                    kube = connect(context)
                except Unreachable as err:
                    return _unreachable(owned, err, source, link)
            return body(context, found, kube, owned)
        except Exception as err:  # a bug or an answer no rule foresaw: a finding, never a crash of the run
            return [
                Finding(
                    link=f"kubernetes.{kind.lower()}",
                    status=Status.FAIL,
                    checked=f"{kind}s of stack {context.stack}: the check stopped ({type(err).__name__})",
                    symptom=links.symptom(OWNED),
                    fix=links.BY_ID[OWNED].fix,
                    source=source,
                )
            ]

    check.__name__ = check.__qualname__ = name
    check.__doc__ = f"Check each {kind} the stack owns (see :mod:`secret_chain.doctor.kubernetes`)."
    return check


def _condition(obj: Mapping[str, Any], kind: str = "Ready") -> dict[str, Any] | None:
    status = obj.get("status")
    conditions = status.get("conditions") if isinstance(status, dict) else None
    for condition in conditions if isinstance(conditions, list) else ():
        if isinstance(condition, dict) and condition.get("type") == kind:
            return condition
    return None


def _stale(obj: Mapping[str, Any], condition: Mapping[str, Any]) -> bool:
    """The controller has not yet looked at the object's current spec (``observedGeneration`` behind ``generation``)."""
    generation = (obj.get("metadata") or {}).get("generation")
    observed = condition.get("observedGeneration", (obj.get("status") or {}).get("observedGeneration"))
    return isinstance(generation, int) and isinstance(observed, int) and observed < generation


def _readiness(
    context: Context,
    owned: Owned,
    obj: dict[str, Any] | None,
    *,
    source: str,
    symptom: str,
    key: str | None,
    fix: str,
    expires: datetime.datetime | None = None,
    facts: Mapping[str, str] | None = None,
) -> Finding:
    """The finding of an object whose health is its ``Ready`` condition."""
    link = _link(owned)
    if obj is None:
        return Finding(link, Status.FAIL, f"{owned.kind} {owned.where}: not found", symptom, None, f"pulumi up --stack {context.stack}", source)
    condition = _condition(obj)
    facts_ = dict(facts or {})
    if condition is None:
        return Finding(
            link,
            Status.WARN,
            f"{owned.kind} {owned.where}: no Ready condition yet",
            "its controller has not reconciled it (is it running?)",
            key,
            fix,
            source,
            expires,
            facts_,
        )
    reason, message = str(condition.get("reason", "")), _redact(str(condition.get("message", "")), context)
    facts_.update({"reason": reason, "message": message})
    if condition.get("status") == "True":
        if _stale(obj, condition):
            return Finding(
                link,
                Status.WARN,
                f"{owned.kind} {owned.where}: Ready, but for an older generation",
                "a change is not yet reconciled",
                key,
                fix,
                source,
                expires,
                facts_,
            )
        return Finding(link, Status.OK, f"{owned.kind} {owned.where}: Ready ({reason})", source=source, expires=expires, facts=facts_)
    return Finding(link, Status.FAIL, f"{owned.kind} {owned.where}: not Ready: {reason}: {message}", symptom, key, fix, source, expires, facts_)


# --- Secrets -----------------------------------------------------------------------------------------------------------


def _decoded(secret: Mapping[str, Any]) -> dict[str, str]:
    data = secret.get("data") or {}
    return {str(k): base64.b64decode(str(v)).decode(errors="replace") for k, v in data.items()} if isinstance(data, dict) else {}


def _secrets(context: Context, found: Expected, kube: Kube | None, owned: list[Owned]) -> list[Finding]:
    assert kube is not None
    resource = _resources()["Secret"]
    out = []
    for o in owned:
        link, key = _link(o), o.config_keys[0] if len(o.config_keys) == 1 else None
        facts = {"configKeys": ",".join(o.config_keys), "expectedKeys": ",".join(o.data_keys)}
        try:
            live = kube.get(resource, o.name, o.namespace)
        except Unreachable as err:
            out += _unreachable([o], err, SOURCE_SECRET)
            continue
        up = f"pulumi up --stack {context.stack}"
        if live is None:
            out.append(Finding(link, Status.FAIL, f"Secret {o.where}: not found", _consumers_fail(o), key, up, SOURCE_SECRET, facts=facts))
            continue
        data = _decoded(live)
        missing, extra = sorted(set(o.data_keys) - set(data)), sorted(set(data) - set(o.data_keys))
        if missing or extra:
            what = "; ".join(p for p in (f"missing {', '.join(missing)}" if missing else "", f"unexpected {', '.join(extra)}" if extra else "") if p)
            facts = {**facts, "missing": ",".join(missing), "unexpected": ",".join(extra)}
            out.append(Finding(link, Status.FAIL, f"Secret {o.where}: keys differ ({what})", _consumers_fail(o), key, up, SOURCE_SECRET, facts=facts))
        elif o.content and digest(found.digest_key, data) != o.content:
            out.append(
                Finding(
                    link,
                    Status.WARN,
                    f"Secret {o.where}: keys as expected, content differs from the stack's config (keyed digests compared)",
                    "the cluster still holds values the config no longer has: pulumi up has not run since the last change",
                    key,
                    up,
                    SOURCE_SECRET,
                    facts=facts,
                )
            )
        else:
            out.append(
                Finding(
                    link, Status.OK, f"Secret {o.where}: exists with exactly the keys {', '.join(o.data_keys)}", source=SOURCE_SECRET, facts=facts
                )
            )
    return out


def _consumers_fail(owned: Owned) -> str:
    from secret_chain import catalog
    from secret_chain.ops import runbook

    symptoms = []
    for key in owned.config_keys:
        entry = catalog.BY_KEY.get(key)
        text = runbook.of(entry).symptom if entry is not None else ""
        if text and text not in symptoms:
            symptoms.append(text)
    return "; ".join(symptoms[:2]) or f"the readers of Secret {owned.where} fail"


# --- rollouts ----------------------------------------------------------------------------------------------------------


def _references(template: Mapping[str, Any], secret_name: str) -> bool:
    """The pod template reads Secret ``secret_name`` (envFrom, env valueFrom, a secret or projected volume)."""
    spec = template.get("spec") or {}
    containers = [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
    for c in containers:
        if any((e.get("secretRef") or {}).get("name") == secret_name for e in c.get("envFrom") or []):
            return True
        if any(((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name") == secret_name for e in c.get("env") or []):
            return True
    for volume in spec.get("volumes") or []:
        if (volume.get("secret") or {}).get("secretName") == secret_name:
            return True
        if any((s.get("secret") or {}).get("name") == secret_name for s in (volume.get("projected") or {}).get("sources") or []):
            return True
    return False


def _rollout_in_progress(workload: Mapping[str, Any]) -> bool:
    meta, status, spec = workload.get("metadata") or {}, workload.get("status") or {}, workload.get("spec") or {}
    if isinstance(meta.get("generation"), int) and status.get("observedGeneration", 0) < meta["generation"]:
        return True
    replicas = spec.get("replicas", 1)
    return bool(status.get("updatedReplicas", 0) < replicas)


def _rollout_link(secret: Owned) -> str:
    return f"kubernetes.rollout/{secret.where}"


def _rollouts(context: Context, found: Expected, kube: Kube | None, owned: list[Owned]) -> list[Finding]:
    assert kube is not None
    from secret_chain import catalog
    from secret_chain.kube import rollout_annotation_key, rollout_digest

    res = _resources()
    key_value = _config_str(context, catalog.ROLLOUT_KEY.key)
    by_name = {o.name: o for o in owned}
    out: list[Finding] = []
    for annotation, secret_name in sorted(found.rollout.items()):
        secret = by_name.get(secret_name)
        if secret is None:
            continue
        assert annotation == rollout_annotation_key(secret.name)
        key = secret.config_keys[0] if len(secret.config_keys) == 1 else None
        try:
            live = kube.get(res["Secret"], secret.name, secret.namespace)
            workloads = [(kind, w) for kind in ("Deployment", "StatefulSet") for w in kube.list(res[kind], secret.namespace)]
        except Unreachable as err:
            out += _unreachable([secret], err, SOURCE_WORKLOADS, _rollout_link)
            continue
        if live is None:
            out.append(
                Finding(
                    _rollout_link(secret),
                    Status.FAIL,
                    f"Secret {secret.where}: not found, so no rollout annotation can match it (see {_link(secret)})",
                    "its readers cannot start",
                    key,
                    f"pulumi up --stack {context.stack}",
                    SOURCE_WORKLOADS,
                )
            )
            continue
        want = rollout_digest(key_value, secret.namespace, secret.name, _decoded(live)) if key_value else None
        consumers = [
            (kind, w)
            for kind, w in workloads
            if annotation in (((w.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("annotations", {})
            or _references((w.get("spec") or {}).get("template") or {}, secret.name)
        ]
        if not consumers:
            out.append(
                Finding(
                    _rollout_link(secret),
                    Status.WARN,
                    f"Secret {secret.where}: no Deployment or StatefulSet in {secret.namespace} reads it or carries {annotation}",
                    links.symptom(UNREAD),
                    key,
                    f"put `pulumi stack output rolloutAnnotations --stack {context.stack}` into the pod template of the workload that reads it",
                    SOURCE_WORKLOADS,
                )
            )
            continue
        for kind, w in consumers:
            out.append(_rollout_finding(context, kube, res, secret, annotation, want, kind, w, key, bool(key_value)))
    return out


def _rollout_finding(
    context: Context,
    kube: Kube,
    res: Mapping[str, Any],
    secret: Owned,
    annotation: str,
    want: str | None,
    kind: str,
    w: Mapping[str, Any],
    key: str | None,
    keyed: bool,
) -> Finding:
    from secret_chain import catalog

    meta = w.get("metadata") or {}
    name = str(meta.get("name"))
    link = f"kubernetes.rollout/{secret.namespace}/{kind}/{name}"
    template = (w.get("spec") or {}).get("template") or {}
    have = ((template.get("metadata") or {}).get("annotations") or {}).get(annotation)
    facts = {"secret": secret.where, "annotation": annotation}
    output = f"pulumi stack output rolloutAnnotations --stack {context.stack}"
    if have is None:
        return Finding(
            link,
            Status.WARN,
            f"{kind} {secret.namespace}/{name} reads Secret {secret.name} but its pod template has no {annotation}",
            "after a rotation its pods keep the old value until something else restarts them",
            key,
            f"add {annotation} from `{output}` to the pod template of {kind.lower()}/{name}",
            SOURCE_WORKLOADS,
            facts=facts,
        )
    if want is not None and have != want:
        return Finding(
            link,
            Status.FAIL,
            f"{kind} {secret.namespace}/{name}: pod template's {annotation} is not the digest of Secret {secret.name}'s current content",
            links.symptom(ROLLOUT),
            key,
            f"redeploy {kind.lower()}/{name} with the current `{output}` (its pods roll onto the new value)",
            SOURCE_WORKLOADS,
            facts=facts,
        )
    selector = ((w.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    try:
        pods = (
            [p for p in kube.list(res["Pod"], secret.namespace, selector) if not (p.get("metadata") or {}).get("deletionTimestamp")]
            if selector
            else []
        )
    except Unreachable as err:
        return _unreachable([secret], err, SOURCE_WORKLOADS, lambda o: link)[0]
    behind = [p for p in pods if ((p.get("metadata") or {}).get("annotations") or {}).get(annotation) != have]
    facts = {**facts, "pods": str(len(pods)), "podsBehind": str(len(behind))}
    if behind:
        in_progress = _rollout_in_progress(w)
        return Finding(
            link,
            Status.WARN if in_progress else Status.FAIL,
            f"{kind} {secret.namespace}/{name}: {len(behind)} of {len(pods)} running pods predate the pod template's {annotation}"
            + (" (rollout in progress)" if in_progress else ""),
            "some pods still run with the previous value of the Secret",
            key,
            f"kubectl rollout status {kind.lower()}/{name} -n {secret.namespace} (and see why the new pods do not become ready)",
            SOURCE_WORKLOADS,
            facts=facts,
        )
    if not keyed:
        return Finding(
            link,
            Status.WARN,
            f"{kind} {secret.namespace}/{name}: its {len(pods)} pods match the pod template, but whether the template's {annotation} is "
            f"the Secret's current content is not checked: {catalog.ROLLOUT_KEY.key} is generated and kept in the stack's state",
            "doctor cannot tell whether the pods were restarted after the last rotation",
            catalog.ROLLOUT_KEY.key,
            f"set {catalog.ROLLOUT_KEY.key} in the stack's environment (openssl rand -hex 32), then pulumi up --stack {context.stack} "
            "(its consumers roll once)",
            SOURCE_WORKLOADS,
            facts=facts,
        )
    return Finding(
        link,
        Status.OK,
        f"{kind} {secret.namespace}/{name} and its {len(pods)} pods carry the digest of Secret {secret.name}'s current content",
        source=SOURCE_WORKLOADS,
        facts=facts,
    )


# --- Flux, cert-manager ------------------------------------------------------------------------------------------------


def _flux_key(context: Context) -> str:
    """The Flux credentials key the stack uses: the token, else the GitHub App private key."""
    from secret_chain import catalog

    token = catalog.FLUX_GITHUB_TOKEN
    config = flat_config(context)
    if token.key in config or any(alias in config for alias in token.aliases):
        return token.key
    return catalog.FLUX_GITHUB_APP_PRIVATE_KEY.key


def _set(context: Context, entry: Any) -> str:
    """The exact command that sets ``entry`` for this stack (``pulumi env set …`` in its ESC environment)."""
    from secret_chain.config import fix_command
    from secret_chain.doctor import common

    return fix_command(entry, common.environment(context))


def _gitrepositories(context: Context, found: Expected, kube: Kube | None, owned: list[Owned]) -> list[Finding]:
    assert kube is not None
    from secret_chain import catalog
    from secret_chain.ops import runbook

    out = []
    for o in owned:
        try:
            obj = kube.get(_resources()["GitRepository"], o.name, o.namespace)
        except Unreachable as err:
            out += _unreachable([o], err, SOURCE_GITREPOSITORY)
            continue
        condition = _condition(obj) if obj is not None else None
        failing = condition is not None and condition.get("status") != "True"
        auth = (
            failing
            and condition is not None
            and (condition.get("reason") in AUTH_REASONS or bool(AUTH_WORDS.search(str(condition.get("message", "")))))
        )
        key = _flux_key(context)
        entry = catalog.BY_KEY[key]
        if auth:
            finding = _readiness(
                context,
                o,
                obj,
                source=SOURCE_GITREPOSITORY,
                symptom=runbook.of(entry).symptom,
                key=key,
                fix=f"renew the Flux credentials ({key}): {_set(context, entry)}; then pulumi up --stack {context.stack}",
                facts={"credentials": key},
            )
        else:
            finding = _readiness(
                context,
                o,
                obj,
                source=SOURCE_GITREPOSITORY,
                symptom=links.symptom(GITREPOSITORY),
                key=None,
                fix=f"flux get sources git {o.name} -n {o.namespace}; kubectl describe gitrepository {o.name} -n {o.namespace}",
            )
        out.append(finding)
    return out


def _imagerepositories(context: Context, found: Expected, kube: Kube | None, owned: list[Owned]) -> list[Finding]:
    assert kube is not None
    from secret_chain import catalog

    out = []
    for o in owned:
        try:
            obj = kube.get(_resources()["ImageRepository"], o.name, o.namespace)
        except Unreachable as err:
            out += _unreachable([o], err, SOURCE_IMAGEREPOSITORY)
            continue
        condition = _condition(obj) if obj is not None else None
        auth = condition is not None and condition.get("status") != "True" and condition.get("reason") in AUTH_REASONS
        out.append(
            _readiness(
                context,
                o,
                obj,
                source=SOURCE_IMAGEREPOSITORY,
                symptom=links.symptom(IMAGEREPOSITORY),
                key=catalog.GHCR_TOKEN.key if auth else None,
                fix=f"flux get image repository {o.name} -n {o.namespace}"
                + (f"; renew {catalog.GHCR_TOKEN.key} (ghcr.io pull token)" if auth else ""),
            )
        )
    return out


def _clusterissuers(context: Context, found: Expected, kube: Kube | None, owned: list[Owned]) -> list[Finding]:
    assert kube is not None
    from secret_chain import catalog

    out = []
    for o in owned:
        try:
            obj = kube.get(_resources()["ClusterIssuer"], o.name)
        except Unreachable as err:
            out += _unreachable([o], err, SOURCE_ISSUER)
            continue
        condition = _condition(obj) if obj is not None else None
        # cert-manager's ACME issuer is Ready once its account is registered (pkg/issuer/acme/setup.go); a registration
        # refused (ErrRegisterACMEAccount) is most often the contact address (urn:ietf:params:acme:error:invalidContact).
        account = condition is not None and condition.get("reason") == "ErrRegisterACMEAccount"
        out.append(
            _readiness(
                context,
                o,
                obj,
                source=SOURCE_ISSUER,
                symptom=links.symptom(CLUSTERISSUER),
                key=catalog.ACME_EMAIL.key if account else None,
                fix=f"kubectl describe clusterissuer {o.name}"
                + (f"; check {catalog.ACME_EMAIL.key} is an address the CA accepts" if account else ""),
            )
        )
    return out


def _certificates(context: Context, found: Expected, kube: Kube | None, owned: list[Owned]) -> list[Finding]:
    assert kube is not None
    from secret_chain import catalog

    out = []
    for o in owned:
        try:
            obj = kube.get(_resources()["Certificate"], o.name, o.namespace)
        except Unreachable as err:
            out += _unreachable([o], err, SOURCE_CERTIFICATE)
            continue
        not_after = _timestamp(((obj or {}).get("status") or {}).get("notAfter"))
        token = catalog.DIGITALOCEAN_DNS_TOKEN
        finding = _readiness(
            context,
            o,
            obj,
            source=SOURCE_CERTIFICATE,
            symptom=links.symptom(CERTIFICATE),
            key=token.key,
            fix=f"kubectl describe certificate {o.name} -n {o.namespace} (its CertificateRequest and Challenge say why); check {token.key}",
            expires=not_after,
            facts={"notAfter": not_after.isoformat() if not_after else ""},
        )
        if finding.status is Status.OK and not_after is not None:
            left = (not_after - context.now).total_seconds() / 86400
            if left <= 0:
                finding = Finding(
                    finding.link,
                    Status.FAIL,
                    f"Certificate {o.where}: expired on {not_after.isoformat()}",
                    "browsers refuse the site",
                    token.key,
                    finding.fix or f"kubectl describe certificate {o.name} -n {o.namespace}",
                    SOURCE_CERTIFICATE,
                    not_after,
                    finding.facts,
                )
            elif left <= context.warn_days:
                finding = Finding(
                    finding.link,
                    Status.WARN,
                    f"Certificate {o.where}: Ready, but expires in {left:.0f} days ({not_after.isoformat()}) and was not renewed",
                    "cert-manager renews well before expiry (a third of the lifetime left): renewal is failing",
                    token.key,
                    f"kubectl describe certificate {o.name} -n {o.namespace}; cmctl renew {o.name} -n {o.namespace}",
                    SOURCE_CERTIFICATE,
                    not_after,
                    finding.facts,
                )
        out.append(finding)
    return out


def _timestamp(value: object) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


# --- the ServiceMonitor's targets ------------------------------------------------------------------------------------


def scrape_pools(owned: Owned) -> list[str]:
    """The Prometheus scrape pools of a ServiceMonitor: ``serviceMonitor/<ns>/<name>/<endpoint index>``.

    The Prometheus Operator names the job of each endpoint so (pkg/prometheus/promcfg.go, ``serviceMonitor/%s/%s/%d``).
    """
    endpoints = owned.spec.get("endpoints") if isinstance(owned.spec.get("endpoints"), list) else [{}]
    return [f"serviceMonitor/{owned.namespace}/{owned.name}/{i}" for i in range(len(endpoints or [{}]))]


def _targets(context: Context, url: str) -> list[dict[str, Any]]:
    """Active targets from Prometheus' ``GET /api/v1/targets?state=active`` (the documented envelope), retried on 429/5xx."""
    import httpx2

    from secret_chain.doctor import http as doctor_http

    waited = 0.0
    for attempt in range(RETRIES + 1):
        try:
            with httpx2.Client(timeout=context.timeout, trust_env=False) as prometheus:
                doctor_http.Bounds(context.timeout).install(prometheus)  # the timeout bounds the request whole, 16 MiB at most
                response = prometheus.get(f"{url.rstrip('/')}/api/v1/targets", params={"state": "active"})
        except httpx2.TimeoutException:
            raise PrometheusUnreachable(f"Prometheus at {url} did not answer within the timeout") from None
        except doctor_http.AnswerTooLarge as err:
            raise PrometheusUnreachable(f"Prometheus at {url} misbehaves: {err}") from None
        except httpx2.TransportError as err:
            raise PrometheusUnreachable(f"Prometheus at {url} is out of reach ({type(err).__name__})") from None
        if (response.status_code == 429 or response.status_code >= 500) and attempt < RETRIES and waited < MAX_WAIT:
            wait = min(_wait(response.headers.get("Retry-After"), attempt), MAX_WAIT - waited)
            time.sleep(wait)
            waited += wait
            continue
        try:
            body = response.json()
        except (ValueError, RecursionError):
            body = None
        if response.status_code != 200 or not isinstance(body, dict) or body.get("status") != "success":
            raise PrometheusUnreachable(f"Prometheus at {url} answered {response.status_code}, not the API's success envelope")
        active = (body.get("data") or {}).get("activeTargets")
        return [t for t in active if isinstance(t, dict)] if isinstance(active, list) else []
    raise PrometheusUnreachable(f"Prometheus at {url} kept answering {response.status_code}")


def _servicemonitors(context: Context, found: Expected, kube: Kube | None, owned: list[Owned]) -> list[Finding]:
    from secret_chain import catalog
    from secret_chain.ops import runbook

    if not context.prometheus_url:
        return []
    try:
        targets = _targets(context, context.prometheus_url)
    except Unreachable as err:
        return _unreachable(owned, err, SOURCE_TARGETS)
    out = []
    for o in owned:
        pools = set(scrape_pools(o))
        mine = [t for t in targets if t.get("scrapePool") in pools]
        down = [t for t in mine if t.get("health") != "up"]
        facts = {"targets": str(len(mine)), "down": str(len(down)), "scrapePools": ",".join(sorted(pools))}
        token = catalog.PROMETHEUS_TOKEN
        if not mine:
            out.append(
                Finding(
                    _link(o),
                    Status.FAIL,
                    f"ServiceMonitor {o.where}: Prometheus has no target in {', '.join(sorted(pools))}",
                    links.symptom(SERVICEMONITOR),
                    None,
                    f"kubectl get servicemonitor {o.name} -n {o.namespace} -o yaml: do its selector and port match the app's Service, "
                    "and does the Prometheus resource select this ServiceMonitor (serviceMonitorSelector, serviceMonitorNamespaceSelector)?",
                    SOURCE_TARGETS,
                    facts=facts,
                )
            )
        elif down:
            errors = sorted({_redact(str(t.get("lastError", "")), context) for t in down})
            unauthorized = any("401" in e or "403" in e for e in errors)
            facts["lastError"] = "; ".join(errors)
            out.append(
                Finding(
                    _link(o),
                    Status.FAIL,
                    f"ServiceMonitor {o.where}: {len(down)} of {len(mine)} targets down: {'; '.join(errors)}",
                    runbook.of(token).symptom if unauthorized else links.symptom(SERVICEMONITOR),
                    token.key if unauthorized else None,
                    f"pulumi up --stack {context.stack} (the app and the monitor Secret must hold the same {token.key}), then restart the app"
                    if unauthorized
                    else "check the app's pods are running and serve /metrics on the ServiceMonitor's port",
                    SOURCE_TARGETS,
                    facts=facts,
                )
            )
        else:
            out.append(Finding(_link(o), Status.OK, f"ServiceMonitor {o.where}: all {len(mine)} targets up", source=SOURCE_TARGETS, facts=facts))
    return out


# --- the checks --------------------------------------------------------------------------------------------------------


def _startup_secrets(found: Expected) -> list[Owned]:
    """The Secrets read at start-up: those the stack's ``rolloutAnnotations`` output stands for."""
    names = set(found.rollout.values())
    return [o for o in found.of("Secret") if o.name in names]


check_secrets = _guarded("check_secrets", "Secret", SOURCE_SECRET, _secrets)
check_rollouts = _guarded("check_rollouts", "Secret", SOURCE_WORKLOADS, _rollouts, _startup_secrets, _rollout_link)
check_gitrepositories = _guarded("check_gitrepositories", "GitRepository", SOURCE_GITREPOSITORY, _gitrepositories)
check_imagerepositories = _guarded("check_imagerepositories", "ImageRepository", SOURCE_IMAGEREPOSITORY, _imagerepositories)
check_clusterissuers = _guarded("check_clusterissuers", "ClusterIssuer", SOURCE_ISSUER, _clusterissuers)
check_certificates = _guarded("check_certificates", "Certificate", SOURCE_CERTIFICATE, _certificates)
check_servicemonitors = _guarded("check_servicemonitors", "ServiceMonitor", SOURCE_TARGETS, _servicemonitors, cluster=False)

KUBERNETES_CHECKS: tuple[Check, ...] = (
    check_secrets,
    check_rollouts,
    check_gitrepositories,
    check_imagerepositories,
    check_clusterissuers,
    check_certificates,
    check_servicemonitors,
)
"""Every Kubernetes check, in report order; the runner imports this lazily and runs them concurrently."""
