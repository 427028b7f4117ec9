"""`python bench/replay/run.py` (same as `python -m bench.replay`), from the repo root."""

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.replay.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
