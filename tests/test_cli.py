"""The command line as a user runs it: real processes, real files, exit codes, JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.conftest import HELPERS, PIPELINE, write_table


def ghostrun(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ghostrun", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.ghostrun]\nworkflow = "pipeline.py"\n')
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    (tmp_path / "helpers.py").write_text(HELPERS)
    write_table(tmp_path / "data" / "table.csv")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_run_json_follows_the_contract(proj: Path) -> None:
    first = ghostrun(proj, "run", "--json")
    assert first.returncode == 0, first.stderr
    edit(proj / "pipeline.py", "C=1.0", "C=0.2")
    second = ghostrun(proj, "run", "--json")
    assert second.returncode == 0, second.stderr
    out = json.loads(second.stdout)
    for key in (
        "run_id",
        "version_id",
        "fidelity",
        "metrics",
        "primary",
        "ops",
        "seconds",
        "stages",
    ):
        assert key in out
    assert out["fidelity"]["fraction"] == 1.0 and out["fidelity"]["precision"] == "float64"
    assert out["primary"] == "auc" and isinstance(out["metrics"]["auc"], float)
    ops = {o["name"]: o for o in out["ops"]}
    assert list(ops) == ["raw", "features", "labels", "model", "auc"]
    assert ops["model"] == {**ops["model"], "state": "computed", "change": "knob"}
    # raw is unchanged; on a table this small, reading the CSV again can beat keeping it
    assert ops["raw"]["change"] == "unchanged"
    assert {o["state"] for o in out["ops"]} <= {"computed", "loaded", "pruned"}
    (stage,) = out["stages"]
    assert {"fidelity", "metrics", "elapsed", "delta", "uncertainty", "verdict"} <= set(stage)
    before = json.loads(first.stdout)["metrics"]["auc"]
    assert stage["delta"] == pytest.approx(out["metrics"]["auc"] - before)
    assert stage["verdict"] in ("better", "worse", "unclear")
    assert json.loads(first.stdout)["stages"][0]["delta"] is None


def test_people_see_changes_and_reuse(proj: Path) -> None:
    ghostrun(proj, "run")
    edit(proj / "pipeline.py", "power=gr.knob(1,", "power=gr.knob(2,")
    result = ghostrun(proj, "run")
    assert result.returncode == 0, result.stderr
    assert "knob" in result.stdout and "power 1 → 2" in result.stdout
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line}
    assert rows["raw"][1] == "unchanged" and rows["labels"][1] == "unchanged"
    assert rows["features"][-2] == "computed" and rows["model"][-2] == "computed"
    assert "reused" in result.stdout


def test_syntax_error_exits_2_naming_file_and_line(proj: Path) -> None:
    (proj / "pipeline.py").write_text(PIPELINE + "\ndef broken(:\n")
    result = ghostrun(proj, "run")
    line = len(PIPELINE.splitlines()) + 2
    assert result.returncode == 2
    assert f"pipeline.py:{line}" in result.stderr and "syntax" in result.stderr


def test_bad_config_exits_2_naming_the_key(proj: Path) -> None:
    (proj / "pyproject.toml").write_text("[tool.ghostrun]\nworkflow = 3\n")
    result = ghostrun(proj, "run")
    assert result.returncode == 2
    assert "pyproject.toml" in result.stderr and "workflow" in result.stderr


def test_missing_workflow_exits_2_with_the_fix(tmp_path: Path) -> None:
    result = ghostrun(tmp_path, "run")
    assert result.returncode == 2
    assert "pipeline.py" in result.stderr and "ghostrun init" in result.stderr


def test_failing_operator_exits_1_with_trimmed_traceback(proj: Path) -> None:
    ghostrun(proj, "run")
    edit(proj / "pipeline.py", 'return raw["y"]', 'return raw["y"] / 0 + undefined_name')
    result = ghostrun(proj, "run")
    assert result.returncode == 1
    assert "NameError" in result.stderr and "pipeline.py" in result.stderr
    assert "site-packages" not in result.stderr and "ghostrun/engine" not in result.stderr
    as_json = ghostrun(proj, "run", "--json")
    assert as_json.returncode == 1
    failure = json.loads(as_json.stdout)
    assert failure["error"]["op"] == "labels" and "NameError" in failure["error"]["message"]
    runs = json.loads(ghostrun(proj, "history", "--json").stdout)["runs"]
    assert runs[0]["status"] == "failed" and "NameError" in runs[0]["error"]
    assert runs[-1]["status"] == "ok"


def test_history_and_diff(proj: Path) -> None:
    ghostrun(proj, "run")
    edit(proj / "pipeline.py", "C=1.0", "C=0.5")
    ghostrun(proj, "run")
    listed = json.loads(ghostrun(proj, "history", "--json").stdout)["runs"]
    assert all(r["status"] == "ok" and "auc" in r["metrics"] for r in listed)
    # each short run also leaves sample runs to pair the next edit with; the full ones:
    runs = [r for r in listed if r["fidelity"]["fraction"] == 1]
    assert len(runs) == 2 and runs[0]["run_id"] > runs[1]["run_id"]
    assert runs[0]["version_id"] != runs[1]["version_id"]
    diff = ghostrun(proj, "diff", "--json")
    assert diff.returncode == 0, diff.stderr
    ops = {o["name"]: o for o in json.loads(diff.stdout)["ops"]}
    assert ops["model"]["change"] == "knob"
    assert ops["model"]["knobs"] == {"LogisticRegression.C": {"old": 1.0, "new": 0.5}}
    shown = ghostrun(proj, "diff", runs[1]["version_id"], runs[0]["version_id"])
    assert shown.returncode == 0 and "-    return LogisticRegression(C=1.0" in shown.stdout


def test_init_example_then_run(tmp_path: Path) -> None:
    init = ghostrun(tmp_path, "init", "--example")
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "ghostrun.toml").exists() and (tmp_path / "pipeline.py").exists()
    again = ghostrun(tmp_path, "init")
    assert "left as it is" in again.stdout
    result = ghostrun(tmp_path, "run", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["metrics"]["auc"] > 0.9


def test_gc_applies_the_storage_budget(proj: Path) -> None:
    before = json.loads(ghostrun(proj, "run", "--json").stdout)["metrics"]
    cache = proj / ".ghostrun" / "cache" / "blobs"
    size = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    assert size > 0
    result = ghostrun(proj, "gc", "--storage-budget", "1KiB")
    assert result.returncode == 0 and "Evicted" in result.stdout
    after = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    assert after <= 1024 < size
    assert json.loads(ghostrun(proj, "run", "--json").stdout)["metrics"] == before
