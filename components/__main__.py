"""``python -m components``: the secret-chain command line (:mod:`components.ops.cli`)."""

import sys

from components.ops.cli import main

sys.exit(main())
