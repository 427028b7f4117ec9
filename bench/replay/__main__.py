"""`python -m bench.replay`."""

import sys

from bench.replay.main import main

sys.exit(main())
