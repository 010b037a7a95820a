# Two commands on a fresh machine (python3, pip and make are all they need):
#   make demo   set up .venv with the runtime lock only and show, offline, what `pulumi up` would create for the example stack
#   make test   add the dev lock to .venv and run lint, type checks, the whole test suite and the documentation site's strict build
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# pip from `python -m venv` installs the locks as they are: no upgrade of pip itself, no notice that one exists.
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test docs setup runtime policy-venv lock floors clean sdk-floor esc

# Exact, hash-checked versions from the lock files; the package itself on top without resolving again.
# requirements.lock: the [project] dependencies and what they need (all `make demo` installs);
# requirements-dev.lock: those plus the dev extra (linters, type checker, pytest, the tests' schema libraries).
# Both are written by `make lock`, the runtime one with the dev lock as its constraint, so every package the two share
# has the same version and hashes (tests/test_packaging.py checks that).
# pip first, from its own hash-pinned lock: the pip a python3 brings may be old, and pip before 23.3 refuses a hash-checked
# lock where a dependency asks for extras of a pinned package (githubkit needs hishel[async,httpx]: "In --require-hashes
# mode, all requirements must have their versions pinned with ==", pypa/pip#9644, #12345; seen with Python 3.11.7's 23.2.1).
$(VENV)/.runtime: pyproject.toml requirements-pip.lock requirements.lock Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-pip.lock
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed: $(VENV)/.runtime requirements-dev.lock requirements-crd.lock
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	# Upstream CRD schemas (as generated models) for the tests; see tests/schemas.py for why these flags.
	$(PY) -m pip install --quiet --no-deps --ignore-requires-python --require-hashes -r requirements-crd.lock
	touch $@

runtime: $(VENV)/.runtime

setup: $(VENV)/.installed

# The policy pack's own virtualenv (policy/PulumiPolicy.yaml: runtime.options.virtualenv venv), from its hash-pinned lock:
# the Pulumi CLI runs the pack as policy/venv/bin/python -m pulumi.policy (policy/README.md).
policy/venv/.installed: policy/requirements.lock
	$(PYTHON) -m venv policy/venv
	policy/venv/bin/python -m pip install --quiet --require-hashes --no-deps -r policy/requirements.lock
	touch $@

policy-venv: policy/venv/.installed

demo: runtime
	$(PY) -m secret_chain plan --stack production --config examples/config/production.json

# pytest-xdist: one worker per logical CPU; worksteal keeps each worker on a contiguous run of tests (module fixtures and
# caches stay warm) and moves tests from a busy worker to an idle one at the end. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= logical
test: setup
	$(PY) -m ruff check .
	$(PY) -m mypy
	# The workflows' static audit (issue 20): zizmor from the lock file, offline, at its most sensitive persona; its
	# findings are fixed or justified line by line in .github/zizmor.yml (tests/test_ci_trust.py checks that too).
	$(VENV)/bin/zizmor --offline --persona auditor --no-progress .github/workflows
	$(DOCS_BUILD)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal

# The documentation site (mkdocs.yml, docs/) into build/site/, offline. --strict: a broken link or anchor, a page left out
# of the nav, a docstring mkdocstrings cannot render, fails the build (tests/test_docs.py). Not --quiet: it logs only errors,
# and --strict counts the warnings that are logged (mkdocs/__main__.py, commands/build.py), so --quiet --strict passes them.
DOCS_BUILD = $(VENV)/bin/mkdocs build --strict
docs: setup
	$(DOCS_BUILD)

# Regenerate esc/ from the catalog and the parts table (tests/test_esc.py fails until it is run after a change), and the
# package data of where each value flows (secret_chain/ops/flows.json, from examples/config: tests/test_cli_installed.py).
esc: setup
	$(PY) -c 'from secret_chain import esc; print("\n".join(esc.write_files("esc")))'
	$(PY) -c 'from secret_chain.ops import plan; print(plan.write_flows())'

# After changing dependencies in pyproject.toml (needs PyPI): re-resolve both locks (uv keeps every pin it can), then
# refresh the record of each requirement's floor on PyPI; it fails on a yanked floor (tests/pypi_floors.py).
lock: setup
	$(PY) -m pip install --quiet uv
	echo pip | $(VENV)/bin/uv pip compile - --universal --python-version 3.11 --generate-hashes --quiet -o requirements-pip.lock
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes --quiet -o requirements-dev.lock
	$(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet -c requirements-dev.lock -o requirements.lock
	$(PY) -m tests.pypi_floors

# Only the record of the floors on PyPI (a release can be yanked after the lock was written): fails on a yanked floor.
floors: setup
	$(PY) -m tests.pypi_floors

# The plugin on the lowest versions pyproject.toml allows, driven by the engine tests (needs PyPI; not part of
# `make test`). Try another SDK with e.g. `make sdk-floor FLOOR_PULUMI=3.236.0 FLOOR_VENV=.venv-3.236`.
FLOOR_VENV ?= .venv-floor
FLOOR_PULUMI ?=
sdk-floor: setup
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(PY) -c 'import re, sys, tomllib; deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]; \
		pins = [re.sub(r">=([^,]+)(,.*)?$$", r"==\1", d) for d in deps]; \
		pins = [f"pulumi=={sys.argv[1]}" if sys.argv[1] and p.startswith("pulumi==") else p for p in pins]; \
		print("\n".join(pins))' "$(FLOOR_PULUMI)" > $(FLOOR_VENV)/lowest.txt
	$(FLOOR_VENV)/bin/python -m pip install --quiet -r $(FLOOR_VENV)/lowest.txt
	$(FLOOR_VENV)/bin/python -m pip freeze | grep -i -E '^(pulumi|cryptography|email)'
	SECRET_CHAIN_PLUGIN_PYTHON=$(abspath $(FLOOR_VENV))/bin/python $(PY) -m pytest tests/test_engine_schema.py tests/test_engine_construct.py

clean:
	rm -rf $(VENV) $(FLOOR_VENV) policy/venv .pytest_cache .mypy_cache .ruff_cache .hypothesis build/site
