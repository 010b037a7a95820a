"""How Grafana reads an alerting provisioning file, ported from its source, for the fields the chain writes.

Each step names the upstream code it follows:

* the folder: grafana/grafana ``pkg/services/provisioning/alerting/config_reader.go`` ``readConfig`` reads the
  ``.yaml``/``.yml``/``.json`` files of one directory (others are skipped with a warning) and decodes each with the
  YAML decoder, JSON included (``parseConfig``), first for ``apiVersion`` (``file.go`` ``configVersion``: 1 or 2,
  anything else is "unkown API version");
* the fields: ``file_v1.go`` ``AlertingFileV1`` and ``contact_point_types.go`` ``ContactPointV1``/``ReceiverV1``
  (``MapToModel``/``mapToModel``: orgId below 1 is 1; name, uid and type are trimmed and must not be empty;
  settings must not be empty), ``notification_policy_types.go`` ``NotificiationPolicyV1`` (``orgId`` plus the
  root route). The decoder ignores keys it does not know; a key the chain writes that Grafana does not read would
  be silently lost, so here an unknown key is an error;
* the values: ``pkg/services/provisioning/values/values.go`` ``interpolateValue`` (split at ``$$``, each part through
  ``setting.ExpandVar`` (``pkg/setting/expanders.go``) and ``os.ExpandEnv``, joined with ``$``), applied to every
  string of ``values.StringValue``/``Int64Value``/``JSONValue`` fields; ``os.ExpandEnv`` is golang/go
  ``src/os/env.go`` ``Expand``/``getShellName``;
* the email integration: grafana/alerting ``receivers/email/v1/config.go`` ``NewConfig`` (empty ``addresses``:
  "could not find addresses in settings"; addresses split at ``,``, ``;`` and newlines, empty parts dropped);
* the order: ``provisioner.go`` ``Provision`` provisions contact points before notification policies, so a policy
  may name a contact point of the same file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

GetEnv = Callable[[str], str]

SUFFIXES = (".yaml", ".yml", ".json")
FILE_V1_KEYS = frozenset(
    {
        "apiVersion",
        "groups",
        "deleteRules",
        "contactPoints",
        "deleteContactPoints",
        "policies",
        "resetPolicies",
        "muteTimes",
        "deleteMuteTimes",
        "templates",
        "deleteTemplates",
    }
)
"""The yaml tags of ``AlertingFileV1`` (``file_v1.go``), ``apiVersion`` from the embedded ``configVersion``."""
CONTACT_POINT_KEYS = frozenset({"orgId", "name", "receivers"})
RECEIVER_KEYS = frozenset({"uid", "type", "settings", "disableResolveMessage"})
ROUTE_KEYS = frozenset(
    {
        "receiver",
        "group_by",
        "continue",
        "object_matchers",
        "matchers",
        "mute_time_intervals",
        "active_time_intervals",
        "routes",
        "group_wait",
        "group_interval",
        "repeat_interval",
    }
)
"""The fields of a route (Grafana's ``definition.Route``, after the Alertmanager route) the chain may write."""


class ProvisioningError(Exception):
    """Grafana refuses the file (at start-up: the alerting provisioning fails, and Grafana with it)."""


# --- golang/go src/os/env.go ------------------------------------------------------------------------------------


def _is_shell_special(c: str) -> bool:
    return c in "*#$@!?-0123456789"


def _is_alnum(c: str) -> bool:
    return c == "_" or "0" <= c <= "9" or "a" <= c <= "z" or "A" <= c <= "Z"


def _shell_name(s: str) -> tuple[str, int]:
    """``getShellName``: the name at the start of ``s`` (just after a ``$``) and how many bytes it takes."""
    if s[0] == "{":
        if len(s) > 2 and _is_shell_special(s[1]) and s[2] == "}":
            return s[1:2], 3
        for i in range(1, len(s)):
            if s[i] == "}":
                if i == 1:
                    return "", 2  # bad syntax; eat "${}"
                return s[1:i], i + 1
        return "", 1  # bad syntax; eat "${"
    if _is_shell_special(s[0]):
        return s[0:1], 1
    i = 0
    while i < len(s) and _is_alnum(s[i]):
        i += 1
    return s[:i], i


def go_expand(s: str, mapping: GetEnv) -> str:
    """``os.Expand`` (``os.ExpandEnv`` when ``mapping`` is the environment; unset variables give "")."""
    out: list[str] | None = None
    i = j = 0
    while j < len(s):
        if s[j] == "$" and j + 1 < len(s):
            if out is None:
                out = []
            out.append(s[i:j])
            name, w = _shell_name(s[j + 1 :])
            if name == "" and w > 0:
                pass  # invalid syntax: the characters are eaten
            elif name == "":
                out.append(s[j])  # "$" not followed by a name stays
            else:
                out.append(mapping(name))
            j += w
            i = j + 1
        j += 1
    return s if out is None else "".join(out) + s[i:]


# --- grafana/grafana pkg/setting/expanders.go and pkg/services/provisioning/values/values.go ----------------------

_EXPANDER = re.compile(r"\$(|__\w+){([^}]+)}")
"""``regex`` of ``expanders.go``."""


def expand_var(s: str, getenv: GetEnv) -> str:
    """``setting.ExpandVar`` with its ``env`` expander (``${NAME}`` and ``$__env{NAME}``); ``$__file{…}`` and other
    expanders read files or vaults, which nothing the chain writes uses: refused here rather than imitated."""
    for match in _EXPANDER.finditer(s):
        kind, name = match.group(1), match.group(2)
        if kind not in ("", "__env"):
            raise NotImplementedError(f"expander {kind} is not ported")
        s = s.replace(match.group(0), getenv(name), 1)
    return s


def interpolate(value: str, getenv: GetEnv) -> str:
    """``interpolateValue``: ``$$`` is a literal ``$``; every other ``$NAME``/``${NAME}`` is expanded."""
    return "$".join(go_expand(expand_var(part, getenv), getenv) for part in value.split("$$"))


def _transform(value: Any, getenv: GetEnv) -> Any:
    """``transformInterface``: interpolate every string inside maps and lists; other scalars stay."""
    if isinstance(value, str):
        return interpolate(value, getenv)
    if isinstance(value, list):
        return [_transform(item, getenv) for item in value]
    if isinstance(value, dict):
        return {key: _transform(item, getenv) for key, item in value.items() if isinstance(key, str)}
    return value


def _scalar(value: Any, getenv: GetEnv) -> str:
    """A ``StringValue``/``Int64Value``/``BoolValue`` field: decoded as a string (YAML scalars of any type), then
    interpolated."""
    if isinstance(value, (dict, list)):
        raise ProvisioningError(f"cannot unmarshal {type(value).__name__} into a string value")
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return interpolate(str(value), getenv)


def _int64(value: Any, getenv: GetEnv) -> int:
    text = _scalar(value, getenv)
    if text == "":
        return 0  # "To keep the same behaviour as the yaml lib which just does not set the value if it is empty."
    try:
        return int(text, 10)
    except ValueError:
        raise ProvisioningError(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None


def _bool(value: Any, getenv: GetEnv) -> bool:
    text = _scalar(value, getenv)
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ProvisioningError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def _known(where: str, given: Mapping[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        raise ProvisioningError(f"{where}: fields Grafana does not read (silently dropped): {', '.join(unknown)}")


# --- what Grafana makes of a file ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Receiver:
    uid: str
    type: str
    settings: dict[str, Any]
    """Interpolated."""
    addresses: tuple[str, ...]
    """For ``type: email``: the recipients, as the email integration splits them."""


@dataclass(frozen=True)
class ContactPoint:
    org_id: int
    name: str
    receivers: tuple[Receiver, ...]


@dataclass(frozen=True)
class Policy:
    org_id: int
    route: dict[str, Any]
    """The root route, interpolated."""


@dataclass(frozen=True)
class AlertingFile:
    contact_points: tuple[ContactPoint, ...]
    policies: tuple[Policy, ...]


def email_addresses(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """grafana/alerting ``receivers/email/v1/config.go`` ``NewConfig``/``splitEmails``."""
    addresses = settings.get("addresses", "")
    if not isinstance(addresses, str):
        raise ProvisioningError("failed to unmarshal settings: addresses is not a string")
    if addresses == "":
        raise ProvisioningError("could not find addresses in settings")
    return tuple(part for part in re.split(r"[,;\n]", addresses) if part)


def _receiver(raw: Any, getenv: GetEnv) -> Receiver:
    if not isinstance(raw, dict):
        raise ProvisioningError("a receiver must be a mapping")
    _known("receiver", raw, RECEIVER_KEYS)
    uid = _scalar(raw.get("uid"), getenv).strip()
    if uid == "":
        raise ProvisioningError("no uid is set")
    kind = _scalar(raw.get("type"), getenv).strip()
    if kind == "":
        raise ProvisioningError("no type is set")
    settings = raw.get("settings")
    if settings is not None and not isinstance(settings, dict):
        raise ProvisioningError("settings must be a mapping")
    interpolated = _transform(settings or {}, getenv)
    if not interpolated:
        raise ProvisioningError("no settings are set")
    if "disableResolveMessage" in raw:
        _bool(raw["disableResolveMessage"], getenv)
    if kind != "email":
        raise NotImplementedError(f"integration {kind} is not ported")
    return Receiver(uid, kind, interpolated, email_addresses(interpolated))


def _contact_point(raw: Any, getenv: GetEnv) -> ContactPoint:
    if not isinstance(raw, dict):
        raise ProvisioningError("a contact point must be a mapping")
    _known("contact point", raw, CONTACT_POINT_KEYS)
    org_id = max(_int64(raw.get("orgId"), getenv), 1)
    name = _scalar(raw.get("name"), getenv).strip()
    if name == "":
        raise ProvisioningError("no name is set")
    receivers = raw.get("receivers") or []
    if not isinstance(receivers, list):
        raise ProvisioningError(f"{name}: receivers must be a list")
    try:
        return ContactPoint(org_id, name, tuple(_receiver(r, getenv) for r in receivers))
    except ProvisioningError as err:
        raise ProvisioningError(f"{name}: {err}") from None


def _policy(raw: Any, getenv: GetEnv) -> Policy:
    if not isinstance(raw, dict):
        raise ProvisioningError("a policy must be a mapping")
    route = {key: value for key, value in raw.items() if key != "orgId"}
    _known("policy", route, ROUTE_KEYS)
    return Policy(max(_int64(raw.get("orgId"), getenv), 1), _transform(route, getenv))


def read_alerting_file(filename: str, text: str, getenv: GetEnv) -> AlertingFile | None:
    """What Grafana provisions from one file of ``provisioning/alerting`` (None: a file it skips)."""
    if not filename.endswith(SUFFIXES):
        return None
    document = yaml.safe_load(text)
    if document is None:
        return AlertingFile((), ())
    if not isinstance(document, dict):
        raise ProvisioningError(f"failure to parse file {filename}")
    version = _int64(document.get("apiVersion"), getenv)
    if version != 1:
        raise ProvisioningError(f"unkown API version {version} in file {filename}")  # sic (config_reader.go)
    _known(filename, document, FILE_V1_KEYS)
    try:
        points = tuple(_contact_point(raw, getenv) for raw in document.get("contactPoints") or [])
    except ProvisioningError as err:
        raise ProvisioningError(f"failure to map file {filename}: failure parsing contact points: {err}") from None
    policies = tuple(_policy(raw, getenv) for raw in document.get("policies") or [])
    names = {(point.org_id, point.name) for point in points}
    for policy in policies:
        receiver = policy.route.get("receiver")
        if not isinstance(receiver, str) or not receiver:
            raise ProvisioningError("notification policies: the root route must name a receiver")
        if (policy.org_id, receiver) not in names:
            # Grafana would also accept a contact point made elsewhere; the chain's file must not rely on one.
            raise ProvisioningError(f"notification policies: receiver {receiver!r} is not provisioned by this file")
    return AlertingFile(points, policies)
