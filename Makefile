# Two commands on a fresh machine (python3, pip and make are all they need):
#   make demo   set up .venv and show, offline, what `pulumi up` would create for the example stack
#   make test   set up .venv and run lint, type checks and the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test setup lock clean

# Exact, hash-checked versions from the lock files; the package itself on top without resolving again.
$(VENV)/.installed: pyproject.toml requirements-dev.lock requirements-crd.lock Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	# Upstream CRD schemas (as generated models) for the tests; see tests/schemas.py for why these flags.
	$(PY) -m pip install --quiet --no-deps --ignore-requires-python --require-hashes -r requirements-crd.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(PY) -m components plan --stack production --config examples/config/production.json

test: setup
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

# Re-resolve requirements-dev.lock after changing dependencies in pyproject.toml (needs PyPI).
lock: setup
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes --quiet -o requirements-dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
