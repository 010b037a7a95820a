"""Design rationale is written once (docs/design.md) and linked from everywhere that depends on it."""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "docs" / "design.md"
SECTION = "in-place-secret-updates"

# Sentences only the design section may hold: if one appears elsewhere, the rationale is being restated.
RATIONALE = (
    "a window in which\npods that start cannot find the Secret",
    "named, same name and namespace → `DeleteBeforeReplace`",
    "A plain hash would let anyone who sees the Deployment test guesses",
    "`length` has `RequiresReplace`",
)
# The upstream code the section's claims rest on, cited where the claims are made.
CITATIONS = (
    "provider/pkg/provider/diff.go",
    "forceNewProperties",
    "`provider.go`, `Diff`",
    "`provider.go`, `Configure`",
    "kubernetes/kubernetes#89938, #108008",
    "internal/provider/resource_bytes.go",
    "sdk/python/pulumi_random/random_bytes.py",
)
# The places that used to restate it, and now link to it.
LINKERS = ("components/secret_chain/kube.py", "components/secret_chain/ops/inventory.py", "README.md", "docs/rotation.md")


def _public_text() -> list[Path]:
    """Every document and source file outside the tests (which quote the sentences above)."""
    globs = ("*.md", "docs/**/*.md", "components/**/*.py", "policy/**/*.py", "benchmarks/**/*.py", "examples/**/*.md", "examples/**/*.py")
    return sorted({p for pattern in globs for p in ROOT.glob(pattern) if p.is_file()})


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _section(text: str, slug: str) -> str:
    """The text of the ``##`` section whose anchor is ``slug`` (up to the next ``##`` heading)."""
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    (found,) = [part for part in parts[1:] if _slug(part.splitlines()[0]) == slug]
    return found


def test_the_design_section_holds_the_rationale_and_its_citations() -> None:
    section = _section(DESIGN.read_text(encoding="utf-8"), SECTION)
    flat = " ".join(section.split())
    for sentence in (*RATIONALE, *CITATIONS):
        assert " ".join(sentence.split()) in flat, sentence


@pytest.mark.parametrize("sentence", RATIONALE)
def test_the_rationale_is_stated_once(sentence: str) -> None:
    needle = " ".join(sentence.split())
    holders = [p.relative_to(ROOT).as_posix() for p in _public_text() if needle in " ".join(p.read_text(encoding="utf-8").split())]
    assert holders == ["docs/design.md"], f"{sentence!r} is restated in {holders}: link to docs/design.md#{SECTION} instead"


@pytest.mark.parametrize("path", LINKERS)
def test_the_former_copies_link_to_the_design_section(path: str) -> None:
    assert f"design.md#{SECTION}" in (ROOT / path).read_text(encoding="utf-8")


def test_every_link_into_design_md_names_a_heading() -> None:
    headings = {_slug(h) for h in re.findall(r"^#+ (.+)$", DESIGN.read_text(encoding="utf-8"), flags=re.MULTILINE)}
    links = {(p.relative_to(ROOT).as_posix(), a) for p in _public_text() for a in re.findall(r"design\.md#([\w-]+)", p.read_text(encoding="utf-8"))}
    assert {path for path, _ in links} >= set(LINKERS)
    assert [link for link in sorted(links) if link[1] not in headings] == []


# --- issue 21 item 6: the documentation as a site (MkDocs, mkdocs.yml), built strictly in `make test` -------------------

MKDOCS = ROOT / "mkdocs.yml"
DOCS = ROOT / "docs"
README = ROOT / "README.md"


def _nav_pages(entries: object) -> list[str]:
    """Every page the nav names (MkDocs' nav: a list of pages, {title: page} and {title: [section…]})."""
    if isinstance(entries, str):
        return [entries]
    if isinstance(entries, list):
        return [page for entry in entries for page in _nav_pages(entry)]
    if isinstance(entries, dict):
        return [page for value in entries.values() for page in _nav_pages(value)]
    return []


def _config() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(MKDOCS.read_text(encoding="utf-8"))
    return found


def test_every_docs_page_is_in_the_nav_and_every_nav_entry_is_a_page() -> None:
    """A page another helper adds (docs/stacks.md, docs/testing.md) must join the nav, or the site would hide it."""
    nav = _nav_pages(_config()["nav"])
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert sorted(set(nav)) == sorted(nav), "a page is in the nav twice"
    assert sorted(nav) == pages, f"not in the nav: {sorted(set(pages) - set(nav))}; in the nav but missing: {sorted(set(nav) - set(pages))}"


def test_the_build_is_strict_and_make_test_runs_it() -> None:
    """`make test` (so .ci/run) builds the site with --strict before pytest; every MkDocs validation is a warning."""
    config = _config()
    assert config["strict"] is True and config["site_dir"].startswith("build/")  # build/ is git-ignored
    assert "build/" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    validation = config["validation"]
    assert set(validation["nav"].values()) == {"warn"} and set(validation["links"].values()) == {"warn"}
    assert set(validation["nav"]) == {"omitted_files", "not_found", "absolute_links"}
    assert set(validation["links"]) == {"not_found", "anchors", "absolute_links", "unrecognized_links"}
    # What make would run (-n: print only; -B: as on a fresh clone), not the Makefile's text: a variable or a sub-make
    # cannot hide the build or its flags. Without the parent make's MAKEFLAGS, which would add "make[1]:" lines.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    run = subprocess.run(["make", "--no-print-directory", "-n", "-B", "test"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    lines = run.stdout.splitlines()
    builds = [i for i, line in enumerate(lines) if line.startswith(".venv/bin/mkdocs build")]
    tests = [i for i, line in enumerate(lines) if " -m pytest" in line]
    assert len(builds) == 1 and tests and builds[0] < tests[0], lines
    # --quiet would log only errors, and --strict fails on the warnings that are logged: quiet, nothing would fail.
    assert lines[builds[0]].split() == [".venv/bin/mkdocs", "build", "--strict"]


def _site_copy(tmp_path: Path) -> Path:
    """A copy of the site's sources (mkdocs.yml, docs/) beside the package source, to build broken on purpose."""
    site = tmp_path / "site"
    shutil.copytree(DOCS, site / "docs")
    shutil.copy(MKDOCS, site / "mkdocs.yml")
    (site / "components").symlink_to(ROOT / "components")
    return site


def _build(site: Path) -> subprocess.CompletedProcess[str]:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    return subprocess.run([str(mkdocs), "build", "--strict"], cwd=site, capture_output=True, text=True, timeout=300, check=False)


def test_a_broken_link_a_missing_anchor_or_a_page_out_of_the_nav_fails_the_build(tmp_path: Path) -> None:
    site = _site_copy(tmp_path)
    (site / "docs" / "orphan.md").write_text("# Orphan\n\nNot in the nav.\n", encoding="utf-8")
    index = site / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\n[gone](gone.md) [nowhere](tutorial.md#no-such-heading)\n", encoding="utf-8")
    result = _build(site)
    assert result.returncode != 0
    said = result.stdout + result.stderr
    for what in ("orphan.md", "gone.md", "no-such-heading", "Aborted with 3 warnings in strict mode"):
        assert what in said, (what, said[-2000:])
    # --quiet hides those warnings, and then --strict has nothing to count: why `make docs` is not quiet
    mkdocs = str(Path(sys.executable).with_name("mkdocs"))
    assert subprocess.run([mkdocs, "build", "--strict", "--quiet"], cwd=site, capture_output=True, check=False, timeout=300).returncode == 0


def test_the_readme_points_to_the_site_in_at_most_300_lines() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, len(lines)
    text = "\n".join(lines)
    for page in ("docs/tutorial.md", "docs/reference/index.md", "docs/troubleshooting.md", "docs/secrets.md"):
        assert f"]({page}" in text, page
    # every link of the README into docs/ names a page that exists (GitHub renders the README, not the site)
    for target in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / target).is_file(), target


def _readme_commands() -> list[str]:
    """The commands of the README's first code block (the two-commands promise)."""
    text = README.read_text(encoding="utf-8")
    (block,) = re.findall(r"^## Two commands\n.*?```bash\n(.*?)```", text, flags=re.S | re.M)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_opens_with_the_two_commands_and_ci_runs_its_test_command() -> None:
    text = README.read_text(encoding="utf-8")
    assert text.index("## Two commands") < text.index("\n## ", text.index("## Documentation") - 1)
    assert re.findall(r"^## (.+)$", text, flags=re.M)[0] == "Two commands"
    assert _readme_commands() == ["make demo", "make test"]
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    assert ci[-1] == "make test" == _readme_commands()[1]


KNOWN_LANGUAGES = {
    "TypeScript": "typescript",
    "JavaScript": "javascript",
    "YAML": "yaml",
    "Go": "go",
    "Golang": "go",
    "C#": "csharp",
    ".NET": "dotnet",
    "Java": "java",
}
"""Languages the Pulumi CLI can generate an SDK for (besides the package's own Python), and the example each would need."""


def _public_docs() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def test_only_languages_with_an_example_that_a_test_runs_are_named() -> None:
    """The README once promised Go, C# and Java; only the TypeScript and YAML examples exist and run (test_examples)."""
    from tests.test_examples import EXAMPLES

    tested = set(EXAMPLES)
    assert all((ROOT / "examples" / name).is_dir() for name in tested)
    for path in _public_docs():
        text = path.read_text(encoding="utf-8")
        for language, example in KNOWN_LANGUAGES.items():
            pattern = rf"(?<![\w.]){re.escape(language)}(?![\w#])"
            if re.search(pattern, text):
                assert example in tested, f"{path.relative_to(ROOT)} names {language}, but no example of it is built by a test"


def test_the_languages_page_says_what_each_example_builds() -> None:
    """Each example's row names exactly the components its code constructs (the README said the TypeScript example built
    the CI secrets, which only the YAML one does)."""
    from tests.test_examples import EXAMPLES

    text = (DOCS / "languages.md").read_text(encoding="utf-8")
    rows = {cells[0].strip("` "): cells for cells in (line.strip("|").split("|") for line in text.splitlines() if line.startswith("| `examples/"))}
    assert set(rows) == {str(path.relative_to(ROOT)) for path, _ in EXAMPLES.values()}
    for path, components in EXAMPLES.values():
        said = set(re.findall(r"`(\w+)`", rows[str(path.relative_to(ROOT))][2]))
        assert said == {name for name, _ in components()}, path.name


def test_every_component_has_a_reference_page_in_the_nav() -> None:
    from secret_chain.ops import site
    from secret_chain.provider import component_classes

    assert set(site.COMPONENT_PAGES) == {c.__name__ for c in component_classes()}
    nav = _nav_pages(_config()["nav"])
    for component, page in site.COMPONENT_PAGES.items():
        text = (DOCS / page).read_text(encoding="utf-8")
        module = next(c for c in component_classes() if c.__name__ == component).__module__
        assert page in nav and text.startswith(f"# {component}\n"), page
        assert f"<!-- generated: reference {component} -->" in text
        assert f"::: {module}.{component}\n" in text and f"::: {module}.{component}Args\n" in text


REFERENCED = [
    "GhcrPullSecret",
    "PrometheusAuth",
    "GitHubActionsSecrets",
    "FluxGitCredentials",
    "FluxImageAutomation",
    "CertManagerDnsIssuer",
    "GrafanaOAuth",
    "SecretChain",
]


@pytest.mark.parametrize("component", REFERENCED)
def test_a_reference_page_is_made_from_the_schema_and_the_table_of_parts(component: str) -> None:
    from secret_chain import parts
    from secret_chain.ops import site

    page = site.COMPONENT_PAGES[component]
    rendered = site.expand((DOCS / page).read_text(encoding="utf-8"), page)
    assert "<!-- generated:" not in rendered
    resource = site.schema()["resources"][f"secret-chain:index:{component}"]
    python = site.schema()["x-python-names"]
    inputs = rendered.split("\n## Inputs\n", 1)[1].split("\n## Outputs\n", 1)[0]
    outputs = rendered.split("\n## Outputs\n", 1)[1].split("\n## Python API\n", 1)[0]
    for name, spec in resource["inputProperties"].items():
        (row,) = [line for line in inputs.splitlines() if line.startswith(f"| `{python.get(name, name)}` | `{name}` |")]
        notes = row.strip("| ").split(" | ")[3].split(", ")
        assert ("secret" in notes) == bool(spec.get("secret")) and ("required" in notes) == (name in resource.get("requiredInputs", ())), row
    for name in resource["properties"]:
        assert f"| `{python.get(name, name)}` | `{name}` |" in outputs, name
    own = [k for p in parts.PARTS if p.name == component or p.name.startswith(f"{component}.") for k in p.own]
    for key in own:
        (row,) = [line for line in rendered.splitlines() if line.startswith(f"| `{key.key}` |")]
        assert ("secret" in row.split(" | ")[1]) == key.secret, row
    if component == "GitHubActionsSecrets":
        assert "| `APP_PRIVATE_KEY` | secret | `ci:githubAppPrivateKey` |" in rendered


def test_a_marker_on_the_wrong_page_is_refused() -> None:
    from secret_chain.ops import site

    with pytest.raises(ValueError, match=r"belongs on reference/ghcr-pull-secret\.md"):
        site.expand("<!-- generated: reference GhcrPullSecret -->", "reference/grafana-oauth.md")


def test_the_troubleshooting_page_is_the_runbooks_symptoms_with_link_key_and_fix() -> None:
    """Symptom → link of the chain → key → fix → doctor link, for every key the runbook gives a symptom and every link of
    the doctor's table (issue 22: "the troubleshooting page is the doctor's own table"), generated at build time."""
    from secret_chain import catalog
    from secret_chain.config import DOC_ENVIRONMENT, set_command
    from secret_chain.ops import inventory, runbook, site

    page = (DOCS / site.TROUBLESHOOTING_PAGE).read_text(encoding="utf-8")
    assert page.count("<!-- generated: troubleshooting -->") == 1
    rendered = site.expand(page, site.TROUBLESHOOTING_PAGE)
    with_symptom = [k for k in catalog.KEYS if runbook.of(k).symptom]
    assert len(with_symptom) >= 20
    rotation = (DOCS / "rotation.md").read_text(encoding="utf-8")
    for entry in with_symptom:
        prose = runbook.of(entry)
        section = rendered.split(f"#### `{entry.key}`\n", 1)[1].split("\n#", 1)[0]
        heading = rendered.split(f"#### `{entry.key}`\n", 1)[0].rsplit("\n### ", 1)[1].split("\n", 1)[0]
        assert heading == prose.symptom
        assert f"Link of the chain: {'stack config' if entry.tier.value == 'stack' else 'ESC'} `{entry.key}` →" in section
        assert site._shown(prose.consumers) in section  # placeholders (<org>) as entities: shown, not hidden
        assert f"```bash\n{set_command(entry, DOC_ENVIRONMENT)}\n```" in section
        if prose.rotate:
            anchor = inventory.anchor(entry.key)
            assert f"(rotation.md#{anchor})" in section and f'<a id="{anchor}"></a>' in rotation
    # every link of the doctor's table is on the page: a key's under the key's symptom, with what it checks and its fix;
    # a link with a symptom of its own (not a key's) in a section of that symptom, with its key and fix
    from secret_chain.doctor import links

    for link in links.LINKS:
        assert f"`{link.id}`" in rendered, link.id
        for entry in link.checked_keys():
            if runbook.of(entry).symptom:
                section = rendered.split(f"#### `{entry.key}`\n", 1)[1].split("\n#", 1)[0]
                whole = f"link `{link.id}`: {site._shown(link.checked)}. Its fix: {site._shown(link.fix)}."
                there = f"link [`{link.id}`](#{site._doctor_anchor(link.id)})"  # written once on the page, linked after
                assert whole in section or there in section, (link.id, entry.key)
                assert rendered.count(whole) <= 1 and (whole in rendered or link.id in {o.id for o in links.LINKS if not o.entries})
        if not link.entries:
            section = rendered.split(f"\n### {link.symptom}\n", 1)[1].split("\n### ", 1)[0]
            assert f"#### Doctor link `{link.id}`" in section and f"To fix it: {site._shown(link.fix)}." in section, link.id
        else:  # its symptom is its keys' runbook symptoms: written there, not in the table
            assert link.symptom == links.said_by(*link.entries) and all(f"\n### {runbook.of(e).symptom}\n" in rendered for e in link.entries)
    overview = rendered.split("\n## Symptoms\n", 1)[1].split("\n<a id=", 1)[0]
    assert "| Symptom | Key at fault | Doctor link |" in overview
    assert "| `github.ghcr-token`, `kubernetes.imagerepository/<namespace>/<name>` |" in overview
    # each symptom and each fix is written once in the sources: as one string literal, in the runbook or in the table
    sources = [ROOT / "components" / "secret_chain" / "ops" / "runbook.py", *sorted((ROOT / "components" / "secret_chain" / "doctor").glob("*.py"))]
    literals: dict[str, int] = {}
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals[node.value] = literals.get(node.value, 0) + 1
    written = {runbook.of(k).symptom for k in catalog.KEYS if runbook.of(k).symptom}
    written |= {link.symptom for link in links.LINKS if not link.entries} | {link.fix for link in links.LINKS}
    assert {text: literals.get(text, 0) for text in written if literals.get(text, 0) != 1} == {}
    # the seed runbook's table, row by row: each of its symptoms still leads to its key
    for symptom, key in (
        ("ImagePullBackOff / 401 Unauthorized", "namespace:imagePullSecret.token"),
        ("cert-manager DNS-01 challenge fails", "gateway:digitaloceanDnsToken"),
        ("Pulumi login failed", "ci:pulumiFallbackAccessToken"),
    ):
        assert symptom in runbook.of(catalog.get(key)).symptom


def _shell_lines(text: str) -> list[str]:
    """Every line of the ```bash and ```sh blocks of a page, comments dropped."""
    return [line.split("  #")[0].strip() for block in re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.S) for line in block.splitlines()]


def test_every_secret_chain_command_of_the_docs_is_one_the_cli_accepts() -> None:
    """Each `secret-chain …` a page tells a person to run (in a code block) parses with the real command line."""
    from secret_chain.ops.cli import build_parser

    found = []
    for path in _public_docs():
        for line in _shell_lines(path.read_text(encoding="utf-8")):
            for part in re.split(r"\s*(?:&&|\|\||\||;)\s*", line):
                words = shlex.split(part) if part.startswith("secret-chain ") else []
                if words:
                    found.append((path.name, words))
                    try:
                        build_parser().parse_args(words[1:])
                    except SystemExit as refused:
                        raise AssertionError(f"{path.name}: {' '.join(words)} is refused by the command line") from refused
    assert {name for name, _ in found} >= {"tutorial.md", "prerequisites.md"}
    assert {words[1] for _, words in found} >= {"preflight", "forget-shared"}


def test_the_tutorial_goes_from_the_bootstrap_to_the_first_preview_in_order() -> None:
    text = (DOCS / "tutorial.md").read_text(encoding="utf-8")
    lines = _shell_lines(text)
    order = [
        "pulumi stack select --create <org>/bootstrap",
        "pulumi up",
        "pulumi stack select --create <org>/production",
        "pulumi config --show-secrets --json | secret-chain preflight --stack production --config -",
        "pulumi preview && pulumi up",
        "pulumi stack select --create <org>/preview-base",
        "pulumi config --show-secrets --json | secret-chain preflight --stack preview-base --config -",
        "pulumi preview && pulumi up",
    ]
    at = 0
    for command in order:
        assert command in lines[at:], f"{command!r} is not where the tutorial's order puts it"
        at = lines.index(command, at) + 1
    # the first preview is CI's: each workflow the tutorial names exists, and the deploy runs what the tutorial says
    named = set(re.findall(r"`([\w-]+\.yml)`", text))
    assert named >= {"preview-plan.yml", "preview-deploy.yml", "preview-cleanup.yml"}
    for workflow in named:
        assert (ROOT / ".github" / "workflows" / workflow).is_file(), workflow
    deploy = (ROOT / ".github" / "workflows" / "preview-deploy.yml").read_text(encoding="utf-8")
    for step in ("pulumi preview --policy-pack policy", "pulumi up --yes --skip-preview --policy-pack policy", "secret-chain preflight"):
        assert step in deploy


def test_sphinx_roles_in_docstrings_become_code_spans() -> None:
    """The griffe extension mkdocs.yml loads: Markdown has no reST roles, so `:class:`~a.B`` would show as written."""
    import importlib.util

    import griffe

    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    text = "See :class:`~secret_chain.kube.Thing`, :func:`secret_chain.config.lookup` and ``x``.\n```\nkept\n```"
    obj = griffe.Class("X", docstring=griffe.Docstring(text))
    hooks.SphinxRoles().on_object(obj=obj)
    assert obj.docstring is not None
    assert obj.docstring.value == "See `Thing`, `lookup` and `x`.\n```\nkept\n```"


# --- issue 22 review: the generated doctor text on the built pages (placeholders shown, each sentence once) -------------


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built strictly from a copy of its sources (as `make docs` builds it): its HTML directory."""
    site = _site_copy(tmp_path_factory.mktemp("built"))
    result = _build(site)
    assert result.returncode == 0, result.stderr[-2000:]
    return site / "build" / "site"


def _article(page_html: str) -> str:
    """The page's own content (the theme's ``itemprop="articleBody"`` up to its footer), without the navigation."""
    return page_html.split('itemprop="articleBody"', 1)[1].split("<footer", 1)[0]


def _visible(page_html: str) -> str:
    """A page's article as a reader sees it: tags dropped, entities decoded, whitespace folded."""
    import html

    article = _article(page_html)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", article)).split())


def _placeholders() -> set[str]:
    """Every ``<word>`` placeholder in the doctor's generated text (link ids, what it checks, symptoms, keys, fixes)."""
    from secret_chain.doctor import links

    texts = [t for link in links.LINKS for t in (link.id, link.checked, link.symptom, link.key or "", link.fix)]
    return {m for text in texts for m in re.findall(r"<[A-Za-z][\w|-]*>", text)}


@pytest.mark.parametrize("page", ["troubleshooting", "doctor"])
def test_no_placeholder_of_the_generated_text_becomes_a_hidden_html_tag(built_site: Path, page: str) -> None:
    """`<namespace>`, `<N>`, `<i>`… in the doctor's table and the troubleshooting page are text a reader sees, never raw
    tags the browser hides (Python-Markdown passes raw HTML through), and a code span's `|` shows no backslash."""
    from secret_chain.doctor import links

    raw = (built_site / page / "index.html").read_text(encoding="utf-8")
    article = _article(raw)
    placeholders = _placeholders()
    assert {"<namespace>", "<name>", "<i>", "<ci|flux>", "<environment>"} <= placeholders
    hidden = sorted(p for p in placeholders if p in article)
    assert hidden == [], hidden
    seen = _visible(raw)
    for link in links.LINKS:
        assert link.id in seen, link.id
        assert " ".join(link.checked.replace("`", "").split()) in seen and " ".join(link.fix.replace("`", "").split()) in seen, link.id
    assert "github.app/<ci|flux>" in seen and "<ci\\|flux>" not in seen


def test_each_generated_doctor_sentence_is_on_the_troubleshooting_page_once(built_site: Path) -> None:
    """What doctor checks of a link and its fix are written once on the page; other keys of the same link link there."""
    from secret_chain.doctor import links

    seen = _visible((built_site / "troubleshooting" / "index.html").read_text(encoding="utf-8"))
    for link in links.LINKS:
        checked = " ".join(link.checked.replace("`", "").split())
        if link.entries:
            sentence = f"link {link.id} : {checked}. Its fix: {' '.join(link.fix.replace('`', '').split())}."
        else:
            sentence = f"What secret-chain doctor checks: {checked}."
        assert seen.count(sentence) == 1, (link.id, seen.count(sentence))
        assert seen.count(f"checks: {checked}.") + seen.count(f": {checked}. Its fix") == 1, link.id
