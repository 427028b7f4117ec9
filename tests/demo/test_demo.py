"""`ghostrun demo` end to end, as a newcomer runs it (small data to keep CI quick)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ghostrun.demo.runner import EDIT, TEMPLATE


def test_the_demo_shows_the_whole_loop_and_exits_cleanly(tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "ghostrun", "demo", "--keep", str(keep), "--rows", "4000",
         "--explore-budget", "20"],
        capture_output=True, text=True, timeout=600,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    for step in ("ghostrun up", "run.started", "full data",
                 "ghostrun explore", "ghostrun suggest", "ghostrun apply 1", "ghostrun down",
                 "Demo complete"):
        assert step in out, f"{step!r} missing from the demo's output:\n{out}"
    assert "🔔" in out  # the notification text, shown in the terminal without a desktop
    assert not (keep / ".ghostrun" / "daemon.json").exists()  # the daemon was stopped
    edited = (TEMPLATE / "pipeline.py").read_text().replace(*EDIT, 1)
    assert (keep / "pipeline.py").read_text() != edited  # `apply 1` wrote the suggestion
