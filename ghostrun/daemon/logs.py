"""The daemon's log: `.ghostrun/daemon.log` (rotated), and the terminal in the foreground."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"


def configure(log_path: Path, *, foreground: bool) -> None:
    root = logging.getLogger("ghostrun")
    root.setLevel(logging.INFO)
    root.propagate = False
    for handler in list(root.handlers):
        root.removeHandler(handler)
    file_handler = logging.handlers.RotatingFileHandler(
        log_path, maxBytes=2 * 2**20, backupCount=2, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(file_handler)
    if foreground:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        root.addHandler(console)
    # APScheduler logs every job run at INFO; only its problems belong in our log.
    logging.getLogger("ghostrun.daemon.scheduler").setLevel(logging.WARNING)
