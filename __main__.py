"""The stack program: builds the secret chain for production, preview-base or preview-pr-<N>.

The package ``secret_chain`` lives in the source folder ``components/`` (``components/secret_chain/``); that
folder goes first on ``sys.path`` so the program is this checkout's own copy, installed or not.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "components"))

from secret_chain.program import main

main()
