"""Component provider plugin: hosts the secret-chain components for every Pulumi language.

The repository root's ``__main__.py`` is the stack program; this directory is the plugin that
``pulumi package add`` runs. It puts the repository's source folder ``components/`` on ``sys.path`` (so
``secret_chain`` imports from the checkout, local or cloned from git) and hands the component classes to the SDK's host,
which infers the schema from their type annotations and docstrings.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "components"))

from secret_chain.provider import main

if __name__ == "__main__":
    main()
