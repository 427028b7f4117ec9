"""explore → suggest → apply → run from the command line, with no daemon (DESIGN §8)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.daemon.conftest import project_root  # noqa: F401 - fixture
from tests.daemon.harness import cli

BAD = "power=gr.knob(2,"
GOOD = "power=gr.knob(1,"


def _plant(root: Path) -> None:
    path = root / "pipeline.py"
    path.write_text(path.read_text().replace(GOOD, BAD))


def test_explore_suggest_apply_then_nothing_to_compute(project_root: Path) -> None:  # noqa: F811
    _plant(project_root)
    before = json.loads(cli(project_root, "run", "--full", "--json").stdout)
    explored = json.loads(cli(project_root, "explore", "--budget", "15", "--json").stdout)
    shown = json.loads(cli(project_root, "suggest", "--json", "-n", "3").stdout)["suggestions"]
    assert shown and shown[0]["id"] == explored["suggestions"][0]["id"]
    entry = shown[0]
    assert {"id", "rank", "description", "op", "location", "change", "expected_delta",
            "uncertainty", "evidence"} <= entry.keys()
    assert {"fidelities", "runs", "confirmed_full"} <= entry["evidence"].keys()
    assert entry["rank"] == 1 and entry["location"].startswith("pipeline.py:")

    applied = cli(project_root, "apply", "1", "--yes")
    assert "+def features" in applied.stdout or "power" in applied.stdout
    after = json.loads(cli(project_root, "run", "--full", "--json").stdout)
    assert {o["state"] for o in after["ops"]} <= {"loaded", "pruned"}
    assert after["metrics"]["auc"] > before["metrics"]["auc"]
    promised = before["metrics"]["auc"] + entry["expected_delta"]
    assert abs(after["metrics"]["auc"] - promised) < 1e-9 or not entry["evidence"]["confirmed_full"]


def test_apply_refuses_when_the_code_moved_on(project_root: Path) -> None:  # noqa: F811
    _plant(project_root)
    cli(project_root, "run", "--full")
    cli(project_root, "explore", "--budget", "10")
    cli(project_root, "suggest")
    pipeline = project_root / "pipeline.py"
    pipeline.write_text(pipeline.read_text().replace(BAD, "power=gr.knob(3,"))
    refused = cli(project_root, "apply", "1", "--yes", check=False)
    assert refused.returncode == 2 and "changed since this suggestion" in refused.stderr
    assert "power=gr.knob(3," in pipeline.read_text()


def test_apply_names_a_missing_suggestion_clearly(project_root: Path) -> None:  # noqa: F811
    done = cli(project_root, "apply", "7", "--yes", check=False)
    assert done.returncode == 2 and "no suggestion 7" in done.stderr


def test_run_json_stays_json_when_the_workflow_prints(project_root: Path) -> None:  # noqa: F811
    pipeline = project_root / "pipeline.py"
    pipeline.write_text(pipeline.read_text().replace(
        '    return raw["y"]', '    print("labels ready")\n    return raw["y"]'))
    done = cli(project_root, "run", "--full", "--json")
    assert "auc" in json.loads(done.stdout)["metrics"]
    assert "labels ready" in done.stderr
