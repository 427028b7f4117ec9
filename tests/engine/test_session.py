"""Runs through a real session: real files, a real SQLite history, a real result store."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghostrun.engine.session import RunFailed
from ghostrun.errors import MetricValueError
from ghostrun.history import History

from .conftest import ProjectDir, changes, states, write_table

ALL = ["raw", "features", "labels", "model", "auc"]


def test_first_run_computes_everything_and_records_it(project: ProjectDir) -> None:
    inv = project.run()
    assert states(inv) == dict.fromkeys(ALL, "computed")
    assert set(changes(inv).values()) == {"new"}
    assert 0.5 < inv.last.metrics["auc"] <= 1.0
    with History(project.root / ".ghostrun" / "history.sqlite") as h:
        run = h.run(inv.last.run_id)
    assert run is not None and run.status == "ok"
    assert run.metrics["auc"] == inv.last.metrics["auc"]
    assert {o.op for o in run.ops} == set(ALL)


def test_rerun_without_edit_computes_nothing(project: ProjectDir) -> None:
    first = project.run()
    second = project.run()
    assert "computed" not in states(second).values()
    assert states(second)["auc"] == "loaded"
    assert second.last.metrics == first.last.metrics
    assert second.version.version_id == first.version.version_id


@pytest.mark.parametrize(
    "old,new",
    [
        ("def labels(raw", "# a comment\ndef labels(raw"),
        ('    return raw["y"]', '    """The target."""\n    return raw["y"]'),
        ("LogisticRegression(C=1.0, max_iter=200)", "LogisticRegression(C=1.0,   max_iter=200 )"),
    ],
    ids=["comment", "docstring", "whitespace"],
)
def test_cosmetic_edit_computes_nothing(project: ProjectDir, old: str, new: str) -> None:
    project.run()
    project.edit("pipeline.py", old, new)
    inv = project.run()
    assert "computed" not in states(inv).values()
    assert set(changes(inv).values()) == {"unchanged"}


def test_implicit_knob_edit_reruns_model_only_and_matches_scratch(
    project: ProjectDir, tmp_path: Path
) -> None:
    project.run()
    project.edit("pipeline.py", "C=1.0", "C=0.01")
    inv = project.run()
    assert changes(inv) == {
        "raw": "unchanged",
        "features": "unchanged",
        "labels": "unchanged",
        "model": "knob",
        "auc": "upstream",
    }
    assert states(inv)["model"] == "computed"
    knob = next(c for c in inv.changes if c.op == "model").knobs
    assert knob == {"LogisticRegression.C": (1.0, 0.01)}
    assert inv.last.metrics == project.run_from_scratch(tmp_path).last.metrics


def test_helper_edit_is_never_stale(project: ProjectDir, tmp_path: Path) -> None:
    project.run()
    project.edit("helpers.py", "frame.std()", "(frame.std() * 2)")
    inv = project.run()
    assert changes(inv)["features"] == "code"
    assert states(inv)["features"] == "computed"
    assert inv.last.metrics == project.run_from_scratch(tmp_path).last.metrics


def test_refactor_with_identical_output_cuts_off_early(project: ProjectDir) -> None:
    project.run()
    project.edit("pipeline.py", 'return raw["y"]', 'target = raw["y"]\n    return target.copy()')
    inv = project.run()
    assert changes(inv)["labels"] == "code"
    assert states(inv)["labels"] == "computed"
    # labels recomputed to identical content, so model and auc keep their cache entries.
    assert states(inv)["model"] != "computed"
    assert states(inv)["auc"] == "loaded"


def test_data_change_reruns_the_source(project: ProjectDir, tmp_path: Path) -> None:
    project.run()
    write_table(project.root / "data" / "table.csv", seed=1)
    inv = project.run()
    assert changes(inv)["raw"] == "data"
    assert states(inv)["raw"] == "computed"
    assert inv.last.metrics == project.run_from_scratch(tmp_path).last.metrics


def test_operator_that_raises_is_recorded_and_leaves_no_stale_cache(
    project: ProjectDir, tmp_path: Path
) -> None:
    project.run()
    project.edit("pipeline.py", "X = raw[[", "X = raw[['missing_column', ")
    with pytest.raises(RunFailed) as failure:
        project.run()
    assert failure.value.cause.op == "features"
    assert "pipeline.py" in failure.value.cause.traceback_text
    assert "KeyError" in failure.value.cause.traceback_text
    with History(project.root / ".ghostrun" / "history.sqlite") as h:
        run = h.run(failure.value.run_id)
    assert run is not None and run.status == "failed" and "KeyError" in (run.error or "")
    project.edit("pipeline.py", "X = raw[['missing_column', ", "X = raw[[")
    inv = project.run()
    assert inv.last.metrics == project.run_from_scratch(tmp_path).last.metrics


def test_non_numeric_metric_fails_with_its_location(project: ProjectDir) -> None:
    project.edit("pipeline.py", "return float(roc_auc_score(", "return str(roc_auc_score(")
    with pytest.raises(RunFailed) as failure:
        project.run()
    assert isinstance(failure.value.cause, MetricValueError)
    assert "pipeline.py:" in str(failure.value.cause)
    assert "return a float" in str(failure.value.cause)


def _corrupt_blobs(root: Path) -> None:
    """Flip a byte in the middle of every stored blob."""
    for blob in (root / ".ghostrun" / "cache" / "blobs").rglob("*"):
        if blob.is_file() and blob.stat().st_size > 0:
            data = bytearray(blob.read_bytes())
            data[len(data) // 2] ^= 0xFF
            blob.write_bytes(bytes(data))


def test_corrupt_cache_entries_are_dropped_and_recomputed(
    project: ProjectDir, tmp_path: Path
) -> None:
    project.run()
    _corrupt_blobs(project.root)
    project.edit("pipeline.py", "C=1.0", "C=0.3")
    inv = project.run()
    # model must recompute; its inputs' entries are corrupt, so they recompute too.
    assert {n for n, s in states(inv).items() if s == "computed"} == set(ALL)
    assert inv.last.metrics == project.run_from_scratch(tmp_path).last.metrics
    assert "computed" not in states(project.run()).values()


def test_an_input_recomputed_to_other_content_rekeys_the_operator_that_asked_for_it(
    project: ProjectDir,
) -> None:
    """`model` loads `features`, the entry is corrupt, and `features` (not deterministic)
    recomputes to other content than the entry promised: `model` is keyed on what it got."""
    project.edit(
        "pipeline.py",
        '    X = raw[["a", "b", "c"]] ** power\n',
        '    X = raw[["a", "b", "c"]] ** power\n'
        '    X = X + __import__("numpy").random.default_rng().normal(0, 1e-9, X.shape)\n',
    )
    project.run()
    _corrupt_blobs(project.root)
    project.edit("pipeline.py", "C=1.0", "C=0.3")
    inv = project.run()
    assert states(inv)["model"] == "computed" and states(inv)["features"] == "computed"
    assert states(project.run())["auc"] == "loaded"


def test_removed_and_new_operators_are_classified(project: ProjectDir) -> None:
    first = project.run()
    project.edit("pipeline.py", "def labels(raw", "def target(raw")
    project.edit("pipeline.py", "def model(features, labels)", "def model(features, target)")
    project.edit("pipeline.py", "fit(features[:n], labels[:n])", "fit(features[:n], target[:n])")
    project.edit(
        "pipeline.py", "def auc(model, features, labels)", "def auc(model, features, target)"
    )
    project.edit("pipeline.py", "roc_auc_score(labels[n:]", "roc_auc_score(target[n:]")
    inv = project.run()
    got = changes(inv)
    assert got["target"] == "new" and got["labels"] == "removed"
    assert got["model"] == "code" and got["auc"] == "code"
    renamed = next(c for c in inv.changes if c.op == "target")
    assert "renamed from labels" in renamed.reason
    # Same code, same cache key: its result is reused whenever it was worth keeping (a
    # millisecond operator after a kept input may not be).
    assert inv.last.outcomes["target"].key == first.last.outcomes["labels"].key


def test_operator_mutating_its_input_cannot_poison_other_results(
    project: ProjectDir, tmp_path: Path
) -> None:
    # labels runs before features' consumers? No: features runs first by line order, so
    # make the mutating operator come first and a later one read the mutated column.
    project.edit(
        "pipeline.py", "def features(raw: pd.DataFrame,", "def features(labels, raw: pd.DataFrame,"
    )
    project.edit(
        "pipeline.py",
        'return raw["y"]',
        'y = raw["y"].copy()\n    raw["a"] = raw["b"]\n    return y',
    )
    with pytest.warns(UserWarning, match="modified its input 'raw' in place"):
        mutated = project.run()
    # Removing the mutation changes labels' code only; features must not change.
    project.edit(
        "pipeline.py",
        'y = raw["y"].copy()\n    raw["a"] = raw["b"]\n    return y',
        'return raw["y"]',
    )
    fixed = project.run()
    assert fixed.last.metrics == project.run_from_scratch(tmp_path).last.metrics
    assert mutated.last.metrics == fixed.last.metrics


def test_a_model_read_back_from_the_cache_is_not_mistaken_for_a_mutated_one(
    project: ProjectDir, tmp_path: Path
) -> None:
    # Pickling rebuilds a fitted model's shared references, so its digest after a load
    # differs from the one recorded at save; that must not look like an in-place change.
    project.edit(
        "pipeline.py",
        "LogisticRegression(C=1.0, max_iter=200)",
        "RandomForestClassifier(n_estimators=20, random_state=0)",
    )
    project.edit(
        "pipeline.py",
        "from sklearn.linear_model import LogisticRegression",
        "from sklearn.ensemble import RandomForestClassifier",
    )
    project.run()
    project.edit("pipeline.py", "return float(roc_auc_score(", "return 0.0 + float(roc_auc_score(")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inv = project.run()
    assert states(inv)["model"] == "loaded" and states(inv)["auc"] == "computed"
    assert inv.last.metrics == project.run_from_scratch(tmp_path).last.metrics


# --- the quick load in a fresh process (workflow/quickload.py) ------------------------------

QUICK_PIPELINE = """\
import ghostrun as gr
import pandas as pd
import sentinel_lib

from helpers import centre


@gr.source
def raw(path="data/table.csv") -> pd.DataFrame:
    return pd.read_csv(path)


@gr.op
def features(raw: pd.DataFrame, power=2) -> pd.DataFrame:
    return centre(raw[["a", "b"]] ** power)


@gr.metric(goal="max")
def spread(features) -> float:
    return float(sentinel_lib.scale(features["a"].std()))
"""

SENTINEL = """\
import os

with open(os.environ["SENTINEL_LOG"], "a") as log:
    log.write("imported\\n")


def scale(x):
    return 2 * x
"""


class FreshProcess:
    """`ghostrun run --json --full` in a new process per call, like the CLI after a save.

    The workflow imports `sentinel_lib`, a package installed in a folder of its own that
    notes every import of it in a log: a quick load must not import it."""

    def __init__(self, root: Path, site: Path):
        self.root = root
        self.site = site
        self.log = root.parent / "imports.log"

    def install(self, version: str) -> None:
        for old in self.site.glob("sentinel_lib-*.dist-info"):
            for f in old.iterdir():
                f.unlink()
            old.rmdir()
        info = self.site / f"sentinel_lib-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: sentinel-lib\nVersion: {version}\n"
        )
        (info / "top_level.txt").write_text("sentinel_lib\n")

    def run(self) -> dict[str, object]:
        import json
        import os
        import subprocess
        import sys

        env = {**os.environ, "PYTHONPATH": str(self.site), "SENTINEL_LOG": str(self.log)}
        done = subprocess.run(
            [sys.executable, "-m", "ghostrun", "run", "--json", "--full"],
            cwd=self.root, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    def imports(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


@pytest.fixture
def fresh(project: ProjectDir, tmp_path: Path) -> FreshProcess:
    site = tmp_path / "site"
    (site / "sentinel_lib").mkdir(parents=True)
    (site / "sentinel_lib" / "__init__.py").write_text(SENTINEL)
    project.write("pipeline.py", QUICK_PIPELINE)
    project.write("helpers.py", "def centre(frame):\n    return frame - frame.mean()\n")
    process = FreshProcess(project.root, site)
    process.install("1.0")
    return process


def _states(result: dict[str, object]) -> dict[str, str]:
    return {o["name"]: o["state"] for o in result["ops"]}  # type: ignore[attr-defined,index]


def test_fresh_process_skips_importing_an_unchanged_workflow(
    project: ProjectDir, fresh: FreshProcess
) -> None:
    first = fresh.run()
    assert fresh.imports() == 1
    project.edit("pipeline.py", "@gr.op\n", "# the features the metric reads\n@gr.op\n")
    project.edit("helpers.py", "    return", "    # centred per column\n    return")
    second = fresh.run()
    assert fresh.imports() == 1, "a comment-only edit imported the workflow"
    assert second["version_id"] == first["version_id"]
    assert second["metrics"] == first["metrics"]
    assert "computed" not in _states(second).values()


@pytest.mark.parametrize(
    "edit",
    ["helper", "knob", "data", "package"],
)
def test_fresh_process_imports_after_a_real_change(
    project: ProjectDir, fresh: FreshProcess, edit: str
) -> None:
    first = fresh.run()
    if edit == "helper":
        project.edit("helpers.py", "frame.mean()", "frame.median()")
    elif edit == "knob":
        project.edit("pipeline.py", "power=2", "power=3")
    elif edit == "data":
        write_table(project.root / "data" / "table.csv", seed=1)
    else:
        fresh.install("2.0")
    second = fresh.run()
    assert fresh.imports() == 2
    assert second["version_id"] != first["version_id"]
    assert "computed" in _states(second).values()


def test_fresh_process_imports_on_demand_when_a_result_is_missing(
    project: ProjectDir, fresh: FreshProcess
) -> None:
    first = fresh.run()
    for entry in (project.root / ".ghostrun" / "cache" / "entries").glob("*.json"):
        entry.unlink()
    second = fresh.run()
    assert fresh.imports() == 2
    assert second["version_id"] == first["version_id"]
    assert second["metrics"] == first["metrics"]
    assert _states(second)["spread"] == "computed"
