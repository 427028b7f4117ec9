"""The skeleton `ghostrun init --from SCRIPT --write-skeleton` writes is a working workflow.

For each fixture script, in a throw-away project with small data: the script runs as
plain Python and prints its metric; `init` writes the skeleton and the config and leaves
the script byte for byte as it was; the loader reads the skeleton with exactly the
operators and knobs the explanation named; and `ghostrun run --full --json` reports the
number the script printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ghostrun.scaffold.from_script import analyse_script
from ghostrun.workflow.loader import load_workflow
from tests.scaffold._data import SCRIPTS, write_churn, write_houses

# OpenMP threads spin at barriers on a busy machine; ghostrun's CLI sets this for itself.
ENV = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}


@dataclass(frozen=True)
class Case:
    script: str
    data: Callable[[Path], None]
    printed: str  # what the script prints before its metric
    metric: str
    prints_in_operators: bool = False


CASES = [
    Case("churn_lgbm.py", write_churn, "AUC: ", "auc"),
    Case("houses_pipeline.py", write_houses, "RMSE ", "rmse"),
    Case("houses_functions.py", write_houses, "validation RMSE: ", "validation_rmse"),
    Case("churn_xgb_cv.py", write_churn, "OOF AUC: ", "oof_auc", prints_in_operators=True),
]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=240,
                          env=ENV)


def ghostrun(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(cwd, sys.executable, "-m", "ghostrun", *args)


def printed_metric(stdout: str, prefix: str) -> str:
    (line,) = [line for line in stdout.splitlines() if line.startswith(prefix)]
    return line.removeprefix(prefix).strip()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.script)
def test_skeleton_runs_and_reports_the_scripts_metric(tmp_path: Path, case: Case) -> None:
    case.data(tmp_path)
    script = tmp_path / "train.py"
    shutil.copy(SCRIPTS / case.script, script)
    before = script.read_bytes()
    original = run(tmp_path, sys.executable, "train.py")
    assert original.returncode == 0, original.stderr
    expected = printed_metric(original.stdout, case.printed)

    init = ghostrun(tmp_path, "init", "--from", "train.py", "--write-skeleton", "pipeline.py")
    assert init.returncode == 0, init.stderr
    assert script.read_bytes() == before
    config = tomllib.loads((tmp_path / "ghostrun.toml").read_text())
    assert config["workflow"] == "pipeline.py"

    plan = analyse_script(script)
    workflow = load_workflow(tmp_path / "pipeline.py", tmp_path)
    assert set(workflow.operators) == {s.name for s in plan.steps}
    assert workflow.primary == case.metric == plan.metrics[0].name
    for op in workflow.operators.values():
        assert {k.name for k in op.knobs} == {k.name for k in plan.step(op.name).knobs}, op.name
        assert op.kind == plan.step(op.name).kind

    result = ghostrun(tmp_path, "run", "--full", "--json")
    assert result.returncode == 0, result.stderr
    if case.prints_in_operators:
        # Operators' own prints share `run --json`'s stdout; read the recorded run instead.
        runs = json.loads(ghostrun(tmp_path, "history", "--json").stdout)["runs"]
        metrics = runs[0]["metrics"]
    else:
        metrics = json.loads(result.stdout)["metrics"]
    assert f"{metrics[case.metric]:.6f}" == expected
