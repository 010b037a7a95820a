"""Stand-ins for the Kubernetes API server and Prometheus' HTTP API, on 127.0.0.1, for the doctor's Kubernetes links.

:class:`KubeApiServer` answers the reads a client makes (``GET`` of one object, ``GET`` of a collection with a
``labelSelector``) at the paths of the Kubernetes API (https://kubernetes.io/docs/reference/using-api/api-concepts/):
``/api/v1/namespaces/{ns}/{plural}[/{name}]`` for the core group, ``/apis/{group}/{version}/namespaces/{ns}/{plural}
[/{name}]`` for the others and ``/apis/{group}/{version}/{plural}[/{name}]`` for cluster-scoped kinds. Every body it
sends is validated first against the upstream schemas the suite uses (:mod:`tests.schemas`): objects and the core
``…List`` kinds against the Kubernetes OpenAPI (kubernetes-validate, strict), custom resources against the models
generated from their CRDs, and error bodies against ``meta/v1 Status``. As the API server does, items of a built-in
list carry no ``apiVersion``/``kind`` while items of a custom resource list do (apimachinery ``UnstructuredList``),
and a missing object is ``404`` with a ``Status`` of reason ``NotFound`` (apimachinery ``errors.NewNotFound``:
``<plural> "<name>" not found``).

It can also hang (accept, never answer: a server that hangs) and answer the next requests with given error codes
(``Retry-After`` as an API server's ``429``/``503`` carries it), to test timeouts and retries.

:class:`PrometheusServer` answers ``GET /api/v1/targets`` in the format the Prometheus documentation gives
(https://prometheus.io/docs/prometheus/latest/querying/api/#targets): the ``{"status": "success", "data": …}``
envelope, ``activeTargets`` with ``discoveredLabels``, ``labels``, ``scrapePool``, ``scrapeUrl``, ``globalUrl``,
``lastError``, ``lastScrape``, ``lastScrapeDuration``, ``health``, ``scrapeInterval``, ``scrapeTimeout``, and
``droppedTargets`` (empty with ``state=active``); its answers are validated against :data:`TARGETS_SCHEMA`, written
from that page.

:func:`live_objects` turns a stack evaluated offline into what a cluster holds after ``pulumi up`` and the
controllers' work: each registered object with server-set metadata, Secrets with base64 ``data``, each custom
resource with the ``Ready`` condition its controller sets (the reasons and messages of their sources), and the
workloads that read the start-up Secrets, with the stack's rollout annotations in their pod templates and on their pods.
"""

from __future__ import annotations

import base64
import copy
import datetime
import functools
import json
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import kubernetes_validate
from referencing import Registry, Resource

from secret_chain.ops.offline import Evaluation, unwrap
from tests import schemas

KINDS: dict[str, tuple[str, str, bool]] = {
    # plural: (apiVersion, kind, namespaced)
    "secrets": ("v1", "Secret", True),
    "configmaps": ("v1", "ConfigMap", True),
    "pods": ("v1", "Pod", True),
    "deployments": ("apps/v1", "Deployment", True),
    "statefulsets": ("apps/v1", "StatefulSet", True),
    "gitrepositories": ("source.toolkit.fluxcd.io/v1", "GitRepository", True),
    "imagerepositories": ("image.toolkit.fluxcd.io/v1", "ImageRepository", True),
    "imagepolicies": ("image.toolkit.fluxcd.io/v1", "ImagePolicy", True),
    "imageupdateautomations": ("image.toolkit.fluxcd.io/v1", "ImageUpdateAutomation", True),
    "clusterissuers": ("cert-manager.io/v1", "ClusterIssuer", False),
    "certificates": ("cert-manager.io/v1", "Certificate", True),
    "servicemonitors": ("monitoring.coreos.com/v1", "ServiceMonitor", True),
}
PLURAL = {(api_version, kind): plural for plural, (api_version, kind, _) in KINDS.items()}


def rfc3339(moment: datetime.datetime) -> str:
    """A Kubernetes ``Time`` (RFC 3339, seconds, ``Z``)."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- validation of what the stand-ins send --------------------------------------------------------------------------


@functools.cache
def core_validator(api_version: str, kind: str) -> jsonschema.Draft202012Validator:
    """The strict JSON schema of a built-in kind (kubernetes-validate's files for :data:`tests.schemas.KUBERNETES_VERSION`).

    The same files and the same file naming as ``kubernetes_validate.validate`` (``<kind>-<group>-<version>.json``,
    ``Status`` under ``meta``), loaded once per kind: the suite's own :func:`tests.schemas.validate` reads them per call.
    """
    directory = f"kubernetes-json-schema/v{schemas.KUBERNETES_VERSION}.0-local-strict"
    group_version = "meta-v1" if kind == "Status" else re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = kubernetes_validate.utils.schema_contents(f"{directory}/{kind.lower()}-{group_version}.json", schemas.KUBERNETES_VERSION)
    definitions = kubernetes_validate.utils.schema_contents(f"{directory}/_definitions.json", schemas.KUBERNETES_VERSION)
    registry: Registry[Any] = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate_body(body: Mapping[str, Any]) -> None:
    """Raise unless ``body`` (an object, a list or a Status) matches its upstream schema."""
    kind, api_version = str(body.get("kind")), str(body.get("apiVersion"))
    item_kind = kind.removesuffix("List")
    if (api_version, item_kind) in schemas.CRD_MODELS:
        if kind == item_kind:
            schemas.validate(dict(body))
            return
        # A custom resource list is an UnstructuredList: apiVersion, kind, metadata (ListMeta) and complete items.
        if set(body) != {"apiVersion", "kind", "metadata", "items"} or set(body["metadata"]) - {"resourceVersion", "continue"}:
            raise schemas.SchemaError(f"{kind}: not a list envelope: {sorted(body)}")
        for item in body["items"]:
            schemas.validate(item)
        return
    try:
        core_validator(api_version, kind).validate(dict(body))
    except jsonschema.ValidationError as err:
        raise schemas.SchemaError(f"{api_version} {kind}: {err.message}") from None
    except FileNotFoundError:
        raise schemas.SchemaError(f"no upstream schema for {api_version} {kind}") from None


TARGETS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "description": "GET /api/v1/targets, as https://prometheus.io/docs/prometheus/latest/querying/api/#targets gives it",
    "type": "object",
    "required": ["status", "data"],
    "additionalProperties": False,
    "properties": {
        "status": {"const": "success"},
        "data": {
            "type": "object",
            "required": ["activeTargets", "droppedTargets"],
            "additionalProperties": False,
            "properties": {
                "activeTargets": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": [
                            "discoveredLabels",
                            "labels",
                            "scrapePool",
                            "scrapeUrl",
                            "globalUrl",
                            "lastError",
                            "lastScrape",
                            "lastScrapeDuration",
                            "health",
                            "scrapeInterval",
                            "scrapeTimeout",
                        ],
                        "properties": {
                            "discoveredLabels": {"type": "object", "additionalProperties": {"type": "string"}},
                            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                            "scrapePool": {"type": "string"},
                            "scrapeUrl": {"type": "string"},
                            "globalUrl": {"type": "string"},
                            "lastError": {"type": "string"},
                            "lastScrape": {"type": "string"},
                            "lastScrapeDuration": {"type": "number"},
                            "health": {"enum": ["up", "down", "unknown"]},
                            "scrapeInterval": {"type": "string"},
                            "scrapeTimeout": {"type": "string"},
                        },
                    },
                },
                "droppedTargets": {"type": "array", "items": {"type": "object", "required": ["discoveredLabels"]}},
                "droppedTargetCounts": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
    },
}


# --- a cluster as pulumi up and the controllers leave it -------------------------------------------------------------


def _api_version_kind(type_: str) -> tuple[str, str]:
    _, group_version, kind = type_.split(":", 2)
    group, _, version = group_version.rpartition("/")
    return (version if group in ("core", "") else f"{group}/{version}"), kind


def _metadata(meta: Mapping[str, Any], now: datetime.datetime, *, generation: bool) -> dict[str, Any]:
    out = {k: copy.deepcopy(unwrap(v)) for k, v in meta.items() if unwrap(v) not in (None, {}, "")}
    out.update({"uid": str(uuid.uuid4()), "resourceVersion": "1", "creationTimestamp": rfc3339(now - datetime.timedelta(days=3))})
    if generation:
        out["generation"] = 1
    return out


def _ready(reason: str, message: str, now: datetime.datetime) -> dict[str, Any]:
    return {"type": "Ready", "status": "True", "reason": reason, "message": message, "lastTransitionTime": rfc3339(now), "observedGeneration": 1}


def status_of(obj: Mapping[str, Any], now: datetime.datetime) -> dict[str, Any] | None:
    """The status a healthy controller writes, with the reasons and messages of its source."""
    kind, spec = obj["kind"], obj.get("spec") or {}
    if kind == "GitRepository":
        # source-controller: Ready True, reason meta.SucceededReason, "stored artifact for revision '<branch>@sha1:<sha>'"
        # (internal/controller/gitrepository_controller.go, reconcileArtifact).
        revision = f"{(spec.get('ref') or {}).get('branch', 'main')}@sha1:{'5d1c0a7e' * 5}"
        return {"observedGeneration": 1, "conditions": [_ready("Succeeded", f"stored artifact for revision '{revision}'", now)]}
    if kind == "ImageRepository":
        # image-reflector-controller: Ready True, reason meta.SucceededReason, "successful scan: found N tags".
        return {"observedGeneration": 1, "conditions": [_ready("Succeeded", "successful scan: found 12 tags", now)]}
    if kind == "ClusterIssuer":
        # cert-manager pkg/issuer/acme/setup.go: successAccountRegistered, messageAccountRegistered.
        return {"conditions": [_ready("ACMEAccountRegistered", "The ACME account was registered with the ACME server", now)]}
    if kind == "Certificate":
        # cert-manager readiness_controller.go: ReadyReason, "Certificate is up to date and has not expired"; a 90-day
        # Let's Encrypt certificate, renewed when a third of its life is left.
        issued = now - datetime.timedelta(days=20)
        return {
            "conditions": [_ready("Ready", "Certificate is up to date and has not expired", now)],
            "notBefore": rfc3339(issued),
            "notAfter": rfc3339(issued + datetime.timedelta(days=90)),
            "renewalTime": rfc3339(issued + datetime.timedelta(days=60)),
            "revision": 1,
        }
    return None


def live_objects(evaluation: Evaluation, now: datetime.datetime) -> list[dict[str, Any]]:
    """Every Kubernetes object the evaluation registers, as the API server returns it once applied and reconciled."""
    out = []
    for reg in evaluation.resources:
        if not reg.type.startswith("kubernetes:"):
            continue
        api_version, kind = _api_version_kind(reg.type)
        if (api_version, kind) not in PLURAL:
            continue
        inputs = {k: unwrap(v) for k, v in reg.inputs.items() if k not in ("apiVersion", "kind")}
        generation = kind != "Secret" and kind != "ConfigMap"
        obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": _metadata(inputs.pop("metadata", {}), now, generation=generation)}
        if kind == "Secret":
            data = {str(k): str(unwrap(v)) for k, v in (unwrap(inputs.get("data")) or {}).items()}
            data.update({str(k): base64.b64encode(str(unwrap(v)).encode()).decode() for k, v in (unwrap(inputs.get("stringData")) or {}).items()})
            obj["type"] = inputs.get("type", "Opaque")
            obj["data"] = data
        else:
            obj.update(json.loads(json.dumps(inputs, default=str)))
            status = status_of(obj, now)
            if status is not None:
                obj["status"] = status
        out.append(obj)
    return out


def consumers(evaluation: Evaluation, now: datetime.datetime, replicas: int = 2) -> list[dict[str, Any]]:
    """The workloads that read the stack's start-up Secrets (the app, Grafana), their pod templates carrying the stack's
    ``rolloutAnnotations`` as the runbook says to put them, and their running pods (``replicas`` each)."""
    annotations = unwrap(evaluation.stack_outputs.get("rolloutAnnotations")) or {}
    secrets = {
        str(unwrap(reg.inputs["metadata"])["name"]): str(unwrap(reg.inputs["metadata"])["namespace"])
        for reg in evaluation.resources
        if reg.type == "kubernetes:core/v1:Secret"
    }
    out = []
    for part, app, secret_name in (("PrometheusAuth", "api", "prometheus-auth"), ("GrafanaOAuth", "grafana", "grafana-oauth")):
        found = {k: v for k, v in (unwrap(annotations.get(part)) or {}).items()}
        name = next((n for n in secrets if n.startswith(secret_name)), None)
        if not found or name is None:
            continue
        out += workload(app, secrets[name], name, found, now, replicas=replicas)
    return out


def workload(
    app: str,
    namespace: str,
    secret_name: str,
    annotations: Mapping[str, str],
    now: datetime.datetime,
    *,
    replicas: int = 2,
    pod_annotations: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """A Deployment reading Secret ``secret_name`` (``envFrom``) with ``annotations`` in its pod template, and its pods.

    ``pod_annotations``: what the running pods carry, when they predate the template (default: the template's).
    """
    labels = {"app.kubernetes.io/name": app}
    container = {"name": app, "image": f"ghcr.io/acme/{app}:1.4.2", "envFrom": [{"secretRef": {"name": secret_name}}]}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata({"name": app, "namespace": namespace, "labels": labels}, now, generation=True),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels, "annotations": dict(annotations)}, "spec": {"containers": [container]}},
        },
        "status": {
            "observedGeneration": 1,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
        },
    }
    pods = []
    for i in range(replicas):
        meta = _metadata(
            {"name": f"{app}-7d9f8c6b5-{i:05d}", "namespace": namespace, "labels": {**labels, "pod-template-hash": "7d9f8c6b5"}},
            now,
            generation=False,
        )
        meta["annotations"] = dict(annotations if pod_annotations is None else pod_annotations)
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": meta,
                "spec": {"containers": [container]},
                "status": {"phase": "Running", "startTime": rfc3339(now - datetime.timedelta(days=1))},
            }
        )
    return [deployment, *pods]


# --- the API server ----------------------------------------------------------------------------------------------------


class KubeApiServer:
    """A read-only Kubernetes API on 127.0.0.1 (plain HTTP, as a kubeconfig ``server: http://…`` allows) for the tests.

    ``objects`` are validated when added and every answer before it is sent. ``hang()`` makes every next request wait
    without an answer until the server stops; ``fail_next(503, 503)`` answers the next requests with those codes.
    """

    def __init__(self, objects: Iterable[Mapping[str, Any]] = ()) -> None:
        self._objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._hang = threading.Event()
        self._stopped = threading.Event()
        self._failures: list[int] = []
        self._forbidden: set[str] = set()
        self.requests: list[str] = []
        for obj in objects:
            self.put(obj)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def __enter__(self) -> KubeApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._http.shutdown()
        self._http.server_close()

    # state

    def put(self, obj: Mapping[str, Any]) -> None:
        """Add or replace an object (validated against its upstream schema first)."""
        validate_body(obj)
        meta = obj["metadata"]
        with self._lock:
            self._objects[obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"]] = copy.deepcopy(dict(obj))

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
        """A copy of one object (to change and :meth:`put` back)."""
        with self._lock:
            return copy.deepcopy(self._objects[api_version, kind, namespace, name])

    def delete(self, api_version: str, kind: str, namespace: str, name: str) -> None:
        """Remove one object."""
        with self._lock:
            del self._objects[api_version, kind, namespace, name]

    def objects(self, kind: str | None = None) -> Iterator[dict[str, Any]]:
        """Copies of the objects (of ``kind``)."""
        with self._lock:
            found = [copy.deepcopy(o) for o in self._objects.values() if kind is None or o["kind"] == kind]
        yield from found

    def hang(self) -> None:
        """From now on, accept each request and never answer it (until the server stops)."""
        self._hang.set()

    def forbid(self, plural: str) -> None:
        """Answer every request for ``plural`` 403 Forbidden, as RBAC does for an identity without get/list on it."""
        self._forbidden.add(plural)

    def fail_next(self, *codes: int) -> None:
        """Answer the next ``len(codes)`` requests with these status codes (a Status body, ``Retry-After: 0``)."""
        self._failures.extend(codes)

    # serving

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests.append(handler.path)
        if self._hang.is_set():
            self._stopped.wait(30)
            return
        if self._failures:
            code = self._failures.pop(0)
            reason = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable"}.get(code, "InternalError")
            self._send(handler, code, self._status(code, reason, "the server is currently unable to handle the request", None), {"Retry-After": "0"})
            return
        url = urlsplit(handler.path)
        parts = [p for p in url.path.split("/") if p]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        route = self._route(parts)
        if route is None:
            self._send(handler, 404, self._status(404, "NotFound", "the server could not find the requested resource", None))
            return
        plural, namespace, name = route
        api_version, kind, _ = KINDS[plural]
        if plural in self._forbidden:
            # apimachinery errors.NewForbidden via the RBAC authorizer: `<plural> "<name>" is forbidden: User "<u>" cannot
            # <verb> resource "<plural>" in API group "<group>" in the namespace "<ns>"`
            group = api_version.rpartition("/")[0]
            verb = "get" if name is not None else "list"
            message = (
                f'{plural}{"." + group if group else ""} "{name or ""}" is forbidden: User "doctor" cannot {verb} resource "{plural}" '
                f'in API group "{group}"' + (f' in the namespace "{namespace}"' if namespace else " at the cluster scope")
            )
            self._send(handler, 403, self._status(403, "Forbidden", message, (plural, name or "", api_version)))
            return
        if name is not None:
            with self._lock:
                obj = self._objects.get((api_version, kind, namespace or "", name))
            if obj is None:
                self._send(
                    handler,
                    404,
                    self._status(
                        404,
                        "NotFound",
                        f'{plural}.{api_version.split("/")[0]} "{name}" not found' if "/" in api_version else f'{plural} "{name}" not found',
                        (plural, name, api_version),
                    ),
                )
                return
            self._send(handler, 200, obj)
            return
        selector = dict(pair.split("=", 1) for pair in query.get("labelSelector", "").split(",") if "=" in pair)
        with self._lock:
            items = [
                copy.deepcopy(o)
                for (av, k, ns, _), o in sorted(self._objects.items())
                if av == api_version
                and k == kind
                and (namespace is None or ns == namespace)
                and all((o["metadata"].get("labels") or {}).get(key) == value for key, value in selector.items())
            ]
        if (api_version, kind) not in schemas.CRD_MODELS:
            for item in items:  # a built-in list's items carry no apiVersion and kind
                item.pop("apiVersion")
                item.pop("kind")
        self._send(handler, 200, {"apiVersion": api_version, "kind": f"{kind}List", "metadata": {"resourceVersion": "42"}, "items": items})

    @staticmethod
    def _route(parts: list[str]) -> tuple[str, str | None, str | None] | None:
        """(plural, namespace, name) of an API path, or None."""
        if parts[:2] == ["api", "v1"]:
            rest = parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            rest = parts[3:]
        else:
            return None
        namespace = None
        if rest[:1] == ["namespaces"] and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        if not rest or rest[0] not in KINDS or len(rest) > 2:
            return None
        group_version = "v1" if parts[0] == "api" else f"{parts[1]}/{parts[2]}"
        if KINDS[rest[0]][0] != group_version or (KINDS[rest[0]][2] and namespace is None and len(rest) == 2):
            return None
        return rest[0], namespace, rest[1] if len(rest) == 2 else None

    @staticmethod
    def _status(code: int, reason: str, message: str, what: tuple[str, str, str] | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
        if what is not None:
            plural, name, api_version = what
            body["details"] = {"name": name, "kind": plural, **({"group": api_version.split("/")[0]} if "/" in api_version else {})}
        return body

    def _send(self, handler: BaseHTTPRequestHandler, code: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        validate_body(body)
        data = json.dumps(body).encode()
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)


def write_kubeconfig(path: Path, server: str, *, context: str = "stand-in") -> Path:
    """A kubeconfig for ``server`` with a bearer token (no secret of the chain), its current context ``context``."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "stand-in", "cluster": {"server": server}}],
        "users": [{"name": "doctor", "user": {"token": "stand-in-bearer-token"}}],
        "contexts": [{"name": context, "context": {"cluster": "stand-in", "user": "doctor"}}],
        "current-context": context,
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


# --- Prometheus --------------------------------------------------------------------------------------------------------


def target(scrape_pool: str, address: str, *, health: str = "up", last_error: str = "", now: datetime.datetime) -> dict[str, Any]:
    """One active target as ``/api/v1/targets`` lists it (the documentation's fields)."""
    _, namespace, name, _ = scrape_pool.split("/")
    return {
        "discoveredLabels": {"__address__": address, "__metrics_path__": "/metrics", "__scheme__": "http", "job": scrape_pool},
        "labels": {"instance": address, "job": name, "namespace": namespace},
        "scrapePool": scrape_pool,
        "scrapeUrl": f"http://{address}/metrics",
        "globalUrl": f"http://{address}/metrics",
        "lastError": last_error,
        "lastScrape": now.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "lastScrapeDuration": 0.0042,
        "health": health,
        "scrapeInterval": "30s",
        "scrapeTimeout": "10s",
    }


class PrometheusServer:
    """Prometheus' ``GET /api/v1/targets`` on 127.0.0.1, answering :attr:`targets` (validated against TARGETS_SCHEMA)."""

    def __init__(self, targets: Iterable[Mapping[str, Any]] = ()) -> None:
        self.targets = [dict(t) for t in targets]
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != "/api/v1/targets":
                    self.send_response(404)
                    self.end_headers()
                    return
                state = parse_qs(url.query).get("state", ["any"])[-1]
                body = {
                    "status": "success",
                    "data": {"activeTargets": server.targets if state in ("active", "any") else [], "droppedTargets": [], "droppedTargetCounts": {}},
                }
                jsonschema.validate(body, TARGETS_SCHEMA)
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def __enter__(self) -> PrometheusServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
