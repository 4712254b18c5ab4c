"""`python -m proxy.cli`."""

import sys

from . import main

sys.exit(main())
