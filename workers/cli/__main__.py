"""`python -m workers.cli` is the `gridwatch` command."""

import sys

from workers.cli import main

sys.exit(main())
