"""The policy pack's module, loaded once for every test that calls its policies directly.

``policy/`` is not a package (the Pulumi CLI runs ``policy/__main__.py``), so it is loaded from its path;
the ``PolicyPack`` object itself is created only in ``policy/__main__.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

NAME = "secret_chain_policies"


def load() -> ModuleType:
    """The module ``policy/secret_chain_policies.py``, imported once per test session."""
    if NAME in sys.modules:
        return sys.modules[NAME]
    path = Path(__file__).resolve().parent.parent / "policy" / f"{NAME}.py"
    spec = importlib.util.spec_from_file_location(NAME, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module
    spec.loader.exec_module(module)
    return module
