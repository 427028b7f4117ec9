"""`python -m ghostrun.daemon --project ROOT`: the daemon process `ghostrun up` starts."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# See ghostrun.cli: set before any worker imports LightGBM/XGBoost.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ghostrun.daemon")
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--overrides", default="{}", help="settings as a JSON object")
    parser.add_argument("--foreground", action="store_true")
    args = parser.parse_args(argv)

    from ghostrun.daemon.logs import configure
    from ghostrun.daemon.service import Daemon
    from ghostrun.errors import GhostrunError
    from ghostrun.project import Project

    overrides = json.loads(args.overrides)
    try:
        project = Project.open(args.project, overrides)
        project.ensure_state_dir()
        configure(project.log_path, foreground=args.foreground)
        Daemon(project, overrides).run()
    except GhostrunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
