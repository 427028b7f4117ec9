"""A rerun that only loads cached metrics imports none of the heavy libraries.

After a comment-only edit a fresh `ghostrun run` recognises the version without importing
the workflow (`workflow.quickload`), loads the metrics (plain pickles) and prunes the rest;
importing pandas, pyarrow, networkx, numpy or scikit-learn would cost it more than
everything else it does. Each run below is a fresh `python -m ghostrun run --full --json`
(through runpy, so the same process can then report what it imported).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.engine.conftest import ProjectDir

HEAVY = ("pandas", "pyarrow", "networkx", "numpy", "joblib", "sklearn", "scipy")

DRIVER = f"""\
import json, runpy, sys

report = sys.argv.pop(1)
sys.argv = ["ghostrun", "run", "--full", "--json"]
code = 0
try:
    runpy.run_module("ghostrun", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
with open(report, "w") as stream:
    json.dump({{"exit": code, "imported": [m for m in {HEAVY!r} if m in sys.modules]}}, stream)
"""


def _run(project: ProjectDir, driver: Path, report: Path) -> tuple[dict[str, Any], list[str]]:
    done = subprocess.run(
        [sys.executable, str(driver), str(report)],
        cwd=project.root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    outcome = json.loads(report.read_text())
    assert outcome["exit"] == 0, done.stderr
    return json.loads(done.stdout), outcome["imported"]


def test_a_comment_only_rerun_imports_no_heavy_library(project: ProjectDir, tmp_path: Path) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    first, imported = _run(project, driver, tmp_path / "first.json")
    assert "pandas" in imported  # the first run imports the workflow and runs it
    project.edit("pipeline.py", "CLIP = 3.0\n", "CLIP = 3.0  # clipped at three sigmas\n")

    again, imported = _run(project, driver, tmp_path / "again.json")

    assert again["version_id"] == first["version_id"]
    assert again["metrics"] == first["metrics"]
    states = {op["name"]: op["state"] for op in again["ops"]}
    assert states == {"raw": "pruned", "features": "pruned", "labels": "pruned",
                      "model": "pruned", "auc": "loaded"}  # fmt: skip
    assert imported == [], (
        f"the rerun imported {imported}; `python -X importtime -m ghostrun run --full "
        "--json` in a cached project shows which module imports them"
    )
