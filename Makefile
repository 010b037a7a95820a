# Two commands on a fresh machine (python3, pip and make are all they need):
#   make demo   set up .venv and show, offline, what `pulumi up` would create for the example stack
#   make test   set up .venv and run lint, type checks and the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CRD_MODELS := cloudcoil-models-fluxcd==2.9.5.1 cloudcoil-models-cert-manager==1.21.1.1 cloudcoil-models-prometheus-operator==0.93.1.1

.PHONY: demo test setup clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# Upstream CRD schemas (as generated models) for the tests; see tests/schemas.py for why these flags.
	$(PY) -m pip install --quiet --no-deps --ignore-requires-python $(CRD_MODELS)
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(PY) -m components plan --stack production --config examples/config/production.json

test: setup
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
