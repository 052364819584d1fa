"""``python -m emulator``: run the Scenario emulator (see cli.py for the options)."""

import sys

from .cli import main

sys.exit(main())
