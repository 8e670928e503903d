"""``python -m core.cli``: the same as the ``entra-sync`` command."""

import sys

from core.cli import main

sys.exit(main())
