"""The documentation site's generated pages: a reference table set per component, and the troubleshooting table.

``mkdocs build`` (``mkdocs.yml``, ``docs/hooks.py``) replaces a page's marker ``<!-- generated: reference <Component> -->``
with :func:`component_reference` and ``<!-- generated: troubleshooting -->`` with :func:`troubleshooting`, so these
pages are made from the code each time the site is built and cannot go stale:

- a component's configuration keys come from the table of parts (:mod:`secret_chain.parts`) and the catalog
  (:mod:`secret_chain.catalog`), its inputs and outputs from the schema the component provider serves to other
  languages (:class:`secret_chain.provider.SecretChainProvider`), with their Python names beside the schema's;
- the troubleshooting page is the doctor's table of links (:mod:`secret_chain.doctor.links`) with the runbook
  (:mod:`secret_chain.ops.runbook`): each symptom (written once, a key's in the runbook, a running link's in the table)
  with the link of the chain it breaks (where the value lands, :func:`secret_chain.ops.plan.flows`, and who reads it),
  the key at fault, the fix (:func:`secret_chain.config.set_command`, the key's rotation steps where it has any) and
  the doctor link that checks it live.

The Python API itself (docstrings of each class and of each field of its Args) is rendered by mkdocstrings.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from secret_chain import catalog, parts
from secret_chain.catalog import Key, Tier
from secret_chain.config import DOC_ENVIRONMENT, set_command
from secret_chain.ops import inventory, plan, runbook

COMPONENT_PAGES: dict[str, str] = {
    "GhcrPullSecret": "reference/ghcr-pull-secret.md",
    "PrometheusAuth": "reference/prometheus-auth.md",
    "GitHubActionsSecrets": "reference/github-actions-secrets.md",
    "FluxGitCredentials": "reference/flux-git-credentials.md",
    "FluxImageAutomation": "reference/flux-image-automation.md",
    "CertManagerDnsIssuer": "reference/certmanager-dns-issuer.md",
    "GrafanaOAuth": "reference/grafana-oauth.md",
    "SecretChain": "reference/secret-chain.md",
}
"""The reference page of every component the package exports (tests/test_docs.py keeps it equal to the provider's list)."""

TROUBLESHOOTING_PAGE = "troubleshooting.md"
"""Where the troubleshooting table is (under docs/)."""

MARKER = re.compile(r"<!-- generated: (?P<what>reference (?P<component>\w+)|troubleshooting) -->")
"""The marker a page holds where a generated section belongs."""


def _cell(text: str) -> str:
    """A table cell: ``|`` escaped outside code spans (a table leaves a code span's ``|`` alone; a backslash would show)."""
    parts = re.split(r"(`[^`]*`)", text.replace("\n", " "))
    return "".join(p if i % 2 else p.replace("|", "\\|") for i, p in enumerate(parts)) or "—"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]


@functools.cache
def schema() -> dict[str, Any]:
    """The package schema the component provider serves (``pulumi package get-schema``), built in process."""
    import secret_chain
    from secret_chain.provider import PACKAGE_NAME, SecretChainProvider, component_classes

    provider = SecretChainProvider(component_classes(), PACKAGE_NAME, secret_chain.__version__)
    found: dict[str, Any] = json.loads(provider.schema or "{}")
    found["x-python-names"] = {schema_name: python for python, schema_name in provider.names.items()}
    return found


def _type(spec: dict[str, Any]) -> str:
    """A schema property's type in a few words: ``string``, ``list of string``, ``map of string``, ``Solver``."""
    ref = spec.get("$ref")
    if isinstance(ref, str):
        return "any" if ref.endswith("/Any") else ref.rsplit(":", 1)[-1]
    kind = str(spec.get("type", "any"))
    if kind == "array":
        return f"list of {_type(spec.get('items', {}))}"
    if kind == "object" and isinstance(spec.get("additionalProperties"), dict):
        return f"map of {_type(spec['additionalProperties'])}"
    return kind


def _python(name: str) -> str:
    python: dict[str, str] = schema()["x-python-names"]
    return python.get(name, name)


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    match = re.match(r"(.+?[.:;])(\s|$)", flat)
    return match.group(1) if match else flat


def _key_cell(entry: Key) -> str:
    tier = "stack setting" if entry.tier is Tier.STACK else "ESC"
    secret = ", secret" if entry.secret else ""
    deprecated = f"; deprecated: {entry.deprecated}" if entry.deprecated else ""
    return f"{tier}{secret}{deprecated}"


def config_rows(component: str) -> list[list[str]]:
    """(key, where it is set, how the component needs it, purpose) of every key in the component's rows of the table of parts."""
    rows: list[list[str]] = []
    seen: set[str] = set()
    for part in parts.PARTS:
        if part.name != component and not part.name.startswith(f"{component}."):
            continue
        group = f" ({part.name.split('.', 1)[1]})" if "." in part.name else ""
        needed: list[tuple[Key, str]] = [(k, f"required{group}") for k in part.all_of]
        for i, alternative in enumerate(part.one_of, start=1):
            others = " or ".join(" + ".join(f"`{k.key}`" for k in alt) for alt in part.one_of if alt is not alternative)
            needed += [(k, f"one of{group}: alternative {i}, else {others}") for k in alternative]
        needed += [(k, f"optional{group}") for k in part.optional]
        needed += [(k, f"required{group}, shared (SecretChain passes it)") for k in part.needs]
        needed += [(k, f"read when set{group}") for k in part.uses]
        if part.writes_secrets:
            needed.append((catalog.MUTABLE_SECRETS, f"required{group}: exactly true, unless the Kubernetes provider updates Secrets in place"))
        for entry, how in needed:
            if entry.key in seen:
                continue
            seen.add(entry.key)
            rows.append([f"`{entry.key}`", _key_cell(entry), how, entry.purpose])
    return rows


def component_reference(component: str) -> str:
    """The generated part of a component's reference page: its configuration keys, inputs and outputs."""
    token = f"secret-chain:index:{component}"
    resource = schema()["resources"][token]
    required = set(resource.get("requiredInputs", ()))
    out = ["## Configuration keys", ""]
    rows = config_rows(component)
    if rows:
        out.append(
            "What the component reads from the stack's config (ESC `pulumiConfig` or `pulumi config`) when an argument "
            "does not give the value; from the table of parts (`components/secret_chain/parts.py`) and the catalog:"
        )
        out.append("")
        out += _table(["Key", "Set in", "Needed", "Purpose"], rows)
    else:
        out.append("None of its own: it reads the keys of the parts it builds (the parts table above).")
    if component == "GitHubActionsSecrets":
        out += ["", "## Actions secrets and variables it writes", ""]
        out += _table(
            ["Name", "Kind", "From key", "Purpose"],
            [[f"`{r['name']}`", r["kind"], f"`{r['configKey']}`", r["purpose"]] for r in inventory.github_rows()],
        )
    out += ["", "## Inputs", ""]
    out.append(
        "Python arguments (the Args `TypedDict`) and their names in the provider schema that TypeScript and YAML programs "
        "use ([From TypeScript or YAML](../languages.md)); each is described under Python API below."
    )
    out.append("")
    input_rows = []
    for name, spec in resource.get("inputProperties", {}).items():
        notes = [w for w, on in (("required", name in required), ("secret", spec.get("secret")), ("plain", spec.get("plain"))) if on]
        if spec.get("deprecationMessage"):
            notes.append(f"deprecated: {spec['deprecationMessage']}")
        input_rows.append([f"`{_python(name)}`", f"`{name}`", _type(spec), ", ".join(notes)])
    out += _table(["Python", "Schema", "Type", "Notes"], input_rows)
    out += ["", "## Outputs", ""]
    output_rows = [
        [f"`{_python(name)}`", f"`{name}`", _type(spec), _first_sentence(str(spec.get("description", "")))]
        for name, spec in resource.get("properties", {}).items()
    ]
    out += _table(["Python", "Schema", "Type", "What"], output_rows)
    return "\n".join(out) + "\n"


def _anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _link_of(entry: Key) -> str:
    """The link of the chain a key's value travels: where it is set, where it lands, who reads it."""
    where = "stack config" if entry.tier is Tier.STACK else "ESC"
    targets = list(dict.fromkeys(target for target, _ in plan.flows().get(entry.key, ())))
    lands = "; ".join(targets) if targets else plan.flows_to(entry)
    return f"{where} `{entry.key}` → {_shown(lands or 'the program')} → {_shown(runbook.of(entry).consumers or 'the stack program')}"


def _shown(text: str) -> str:
    """Generated text as Markdown shows it: a placeholder such as ``<namespace>`` seen, not taken for an HTML tag."""
    from secret_chain.doctor import links

    return links.as_markdown(text)


def troubleshooting_entries() -> list[dict[str, str]]:
    """Every runbook symptom with the key at fault, the link of the chain it breaks, the fix, and the doctor links checking it.

    Catalog order. ``doctor`` names the doctor's links (:data:`secret_chain.doctor.links.LINKS`) whose failure is this
    key or names it (:meth:`~secret_chain.doctor.links.Link.checked_keys`).
    """
    from secret_chain.doctor import links

    found = []
    for entry in catalog.KEYS:
        prose = runbook.of(entry)
        if not prose.symptom:
            continue
        fix = set_command(entry, DOC_ENVIRONMENT)
        steps = f"rotation.md#{inventory.anchor(entry.key)}" if prose.rotate else ""
        doctor = ",".join(link.id for link in links.LINKS if entry in link.checked_keys())
        found.append({"symptom": prose.symptom, "key": entry.key, "link": _link_of(entry), "fix": fix, "steps": steps, "doctor": doctor})
    return found


_SYSTEMS = {
    "github": "GitHub",
    "esc": "Pulumi ESC",
    "kubernetes": "the cluster",
    "digitalocean": "DigitalOcean",
    "doctor": "doctor itself",
}
"""A doctor link's system, as a troubleshooting section names it."""


def _doctor_anchor(link_id: str) -> str:
    return "doctor-" + _anchor(link_id)


def _doctor_line(link_id: str, seen: set[str]) -> list[str]:
    """What doctor checks of a link and its fix, written once on the page; where it comes again, a link to it."""
    from secret_chain.doctor import links

    link = links.BY_ID[link_id]
    if link_id in seen:
        return [f"Checked live by `secret-chain doctor`, link [`{link.id}`](#{_doctor_anchor(link_id)}) (what it checks and its fix: there)."]
    seen.add(link_id)
    return [
        f'<a id="{_doctor_anchor(link_id)}"></a>',
        "",
        f"Checked live by `secret-chain doctor`, link `{link.id}`: {_shown(link.checked)}. Its fix: {_shown(link.fix)}.",
    ]


def troubleshooting() -> str:
    """The troubleshooting page's generated part: the doctor's table of links with the runbook, one section per symptom.

    Each symptom is written once: a key's in the runbook (:mod:`secret_chain.ops.runbook`), a doctor link's own in its
    table (:mod:`secret_chain.doctor.links`); a doctor link whose failure is a key's has that key's symptom. A section
    gives, for each key at fault, the link of the chain (where the value is set, where it lands, who reads it), the
    command that sets it again and its rotation steps; and the doctor link that checks it live, with what it checks
    and its fix. A doctor link whose symptom is its own (a link of a running system, not of one key) has its own section.
    """
    from secret_chain.doctor import links

    entries = troubleshooting_entries()
    by_symptom: dict[str, list[dict[str, str]]] = {}
    for e in entries:
        by_symptom.setdefault(e["symptom"], []).append(e)
    own = [link for link in links.LINKS if not link.entries]
    for link in own:
        by_symptom.setdefault(link.symptom, [])
    doctor_of = {s: list(dict.fromkeys(d for e in group for d in e["doctor"].split(",") if d)) for s, group in by_symptom.items()}
    for link in own:
        doctor_of[link.symptom].append(link.id)
    out = ["## Symptoms", ""]
    rows = []
    for symptom, group in by_symptom.items():
        keys = ", ".join(f"`{e['key']}`" for e in group) or "; ".join(_shown(links.BY_ID[d].key) for d in doctor_of[symptom] if links.BY_ID[d].key)
        checked = ", ".join(f"`{d}`" for d in doctor_of[symptom]) or "not checked live (preflight checks its format)"
        rows.append([f"[{_shown(symptom)}](#{_anchor(symptom)})", keys, checked])
    out += _table(["Symptom", "Key at fault", "Doctor link"], rows)
    seen = {link.id for link in own}  # written in their own sections: a key's line links there
    for symptom, group in by_symptom.items():
        out += ["", f'<a id="{_anchor(symptom)}"></a>', "", f"### {_shown(symptom)}"]
        for link in (link for link in own if link.symptom == symptom):
            where = _SYSTEMS.get(link.system, link.system)
            out += ["", f'<a id="{_doctor_anchor(link.id)}"></a>', "", f"#### Doctor link `{link.id}`", ""]
            out += [f"Link of the chain: {where}. What `secret-chain doctor` checks: {_shown(link.checked)}.", ""]
            out += [f"Key at fault: {_shown(link.key or '—')}. To fix it: {_shown(link.fix)}."]
            if link.source:
                out += ["", f"API: <{link.source.split(' ', 1)[0].rstrip(';')}>"]
        for e in group:
            out += ["", f"#### `{e['key']}`", "", f"Link of the chain: {e['link']}.", ""]
            out.append("To fix it, set the value again in the environment that holds it, then run `pulumi up` on the stacks that import it:")
            out += ["", "```bash", e["fix"], "```"]
            if e["steps"]:
                out += ["", f"To replace a working value without downtime, follow [its rotation steps]({e['steps']})."]
            for link_id in filter(None, e["doctor"].split(",")):
                out += ["", *_doctor_line(link_id, seen)]
    return "\n".join(out).rstrip("\n") + "\n"


def expand(markdown: str, page: str) -> str:
    """``markdown`` (the source of ``page``, relative to docs/) with each generated marker replaced by its section."""

    def replace(match: re.Match[str]) -> str:
        component = match.group("component")
        if component is None:
            return troubleshooting()
        if COMPONENT_PAGES.get(component) != page:
            raise ValueError(f"{page}: the reference of {component} belongs on {COMPONENT_PAGES.get(component, 'no page')}")
        return component_reference(component)

    return MARKER.sub(replace, markdown)
