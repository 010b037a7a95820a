"""``python -m secret_chain``: the secret-chain command line (:mod:`secret_chain.ops.cli`)."""

import sys

from secret_chain.ops.cli import main

sys.exit(main())
