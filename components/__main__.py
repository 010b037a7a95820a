"""``python -m components``: the secret-chain command line."""

import sys

from components.cli import main

sys.exit(main())
