"""`python -m bench.approx`. Guarded: ghostrun's run worker starts with the spawn method,
which imports this module again in the worker process."""

import sys

if __name__ == "__main__":
    from bench.approx.main import main

    sys.exit(main())
