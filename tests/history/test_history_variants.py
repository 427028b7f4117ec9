"""Variants and trials: written, read back, filtered, migrated onto an old database."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from ghostrun.errors import HistoryError
from ghostrun.history import MIGRATIONS, History, TrialRun, VariantRecord
from ghostrun.workflow.types import FULL, Fidelity

from .builders import make_snapshot

SAMPLE = Fidelity(fraction=0.1, budget=0.25)
CHANGE = {"kind": "knob", "op": "model", "knob": "n_estimators", "old": 100, "new": 200}


def _variant(base: str = "v1", version: str | None = "v2", vid: str = "abc123") -> VariantRecord:
    return VariantRecord(
        variant_id=vid, base_version=base, version_id=version, kind="knob", change=CHANGE,
        description="model: n_estimators 100 → 200", location="workflow.py:10",
        ops=("model",), base_fingerprints={"model": "fp-model"},
    )  # fmt: skip


@pytest.fixture
def saved(history: History) -> History:
    history.save_version(make_snapshot("v1"), workflow_path="w.py")
    history.save_version(make_snapshot("v2", knobs={"n_estimators": 200}), workflow_path="w.py")
    history.save_version(make_snapshot("v3", knobs={"n_estimators": 50}), workflow_path="w.py")
    return history


def _run(history: History, version: str, fidelity: Fidelity, auc: float) -> int:
    run_id = history.start_run(version, kind="explore", fidelity=fidelity, parent_id=None)
    history.finish_run(run_id, status="ok", seconds=0.5, metrics={"auc": auc}, primary="auc")
    return run_id


def _pairs(history: History, deltas: list[float]) -> list[TrialRun]:
    runs = []
    for seed, d in enumerate(deltas):
        f = Fidelity(SAMPLE.fraction, SAMPLE.precision, SAMPLE.budget, seed)
        base = _run(history, "v1", f, 0.8)
        runs.append(TrialRun(seed, _run(history, "v2", f, 0.8 + d), base, 0.8 + d, 0.8))
    return runs


def test_a_variant_and_its_trials_round_trip(saved: History) -> None:
    saved.save_variant(_variant())
    saved.save_variant(_variant())  # the same change on the same base: nothing new
    assert saved.variants() == [saved.variant("abc123", "v1")]
    got = saved.variant("abc123", "v1")
    assert got is not None and got.created > 0
    assert (got.change, got.ops) == (CHANGE, ("model",))
    assert got.base_fingerprints == {"model": "fp-model"}
    assert (got.description, got.location, got.version_id) == (
        "model: n_estimators 100 → 200",
        "workflow.py:10",
        "v2",
    )

    runs = _pairs(saved, [0.01, 0.03])
    low = saved.record_trial(
        "abc123", "v1", SAMPLE, metric="auc", goal="max", status="ok", runs=runs, delta=0.02,
        uncertainty=0.01, value=0.82, base_value=0.8, seconds=1.0,
    )  # fmt: skip
    full_runs = [TrialRun(0, _run(saved, "v2", FULL, 0.83), None, 0.83, None)]
    high = saved.record_trial(
        "abc123", "v1", FULL, metric="auc", goal="max", status="ok", runs=full_runs,
        delta=0.025, uncertainty=None, value=0.83, base_value=0.805, seconds=2.0,
    )  # fmt: skip

    newest, oldest = saved.trials(base_version="v1")
    assert (newest.trial_id, oldest.trial_id) == (high, low)
    assert oldest.fidelity == SAMPLE and newest.fidelity == FULL
    assert oldest.runs == tuple(runs) and newest.runs == tuple(full_runs)
    assert (oldest.delta, oldest.uncertainty, oldest.gain) == (0.02, 0.01, 0.02)
    assert newest.uncertainty is None and newest.base_value == 0.805
    assert saved.trials(variant_id="nope") == [] and saved.trials(base_version="v3") == []
    assert [t.trial_id for t in saved.trials(limit=1)] == [high]


def test_a_min_goal_gain_and_a_failed_trial(saved: History) -> None:
    saved.save_variant(_variant())
    run_id = saved.start_run("v2", kind="explore", fidelity=SAMPLE, parent_id="v1")
    saved.finish_run(run_id, status="failed", seconds=0.1, error="boom")
    saved.record_trial(
        "abc123", "v1", SAMPLE, metric="rmse", goal="min", status="failed",
        runs=[TrialRun(0, run_id, None, None, None)], delta=None, uncertainty=None,
        value=None, base_value=None, seconds=0.1,
    )  # fmt: skip
    saved.record_trial(
        "abc123", "v1", FULL, metric="rmse", goal="min", status="ok", runs=[],
        delta=-0.5, uncertainty=math.nan, value=3.0, base_value=3.5, seconds=1.0,
    )  # fmt: skip
    ok, failed = saved.trials()
    assert (failed.status, failed.delta, failed.gain, failed.runs[0].value) == (
        "failed",
        None,
        None,
        None,
    )
    assert (ok.gain, ok.uncertainty) == (0.5, None)  # NaN is stored as "unknown"


def test_bad_trials_are_refused_with_a_sentence(saved: History) -> None:
    kwargs = dict(metric="auc", goal="max", status="ok", runs=[], delta=0.0, uncertainty=None,
                  value=None, base_value=None, seconds=1.0)  # fmt: skip
    with pytest.raises(HistoryError, match="save_variant it first"):
        saved.record_trial("abc123", "v1", SAMPLE, **kwargs)  # type: ignore[arg-type]
    saved.save_variant(_variant())
    with pytest.raises(HistoryError, match="trial status must be one of ok, failed"):
        saved.record_trial("abc123", "v1", SAMPLE, **{**kwargs, "status": "maybe"})  # type: ignore[arg-type]
    with pytest.raises(HistoryError, match="run 999, which is not in the history"):
        runs = [TrialRun(0, 999, None, 1.0, 1.0)]
        saved.record_trial("abc123", "v1", SAMPLE, **{**kwargs, "runs": runs})  # type: ignore[arg-type]
    twice = _pairs(saved, [0.0])
    with pytest.raises(HistoryError, match="each seed may appear once"):
        saved.record_trial("abc123", "v1", SAMPLE, **{**kwargs, "runs": twice * 2})  # type: ignore[arg-type]
    with pytest.raises(HistoryError, match="base version 'nowhere' is not in the history"):
        saved.save_variant(_variant(base="nowhere"))
    assert saved.trials() == []


def test_the_same_change_on_two_bases_is_two_variants(saved: History) -> None:
    saved.save_variant(_variant(base="v1", version=None))
    saved.save_variant(_variant(base="v3", version="v2"))
    saved.save_variant(_variant(base="v1", version="v2"))  # fills the missing version id
    assert {(v.base_version, v.version_id) for v in saved.variants()} == {
        ("v1", "v2"),
        ("v3", "v2"),
    }
    assert [v.base_version for v in saved.variants(base_version="v3")] == ["v3"]


def test_run_at_finds_the_run_of_that_fidelity_and_seed(saved: History) -> None:
    seeded = Fidelity(SAMPLE.fraction, SAMPLE.precision, SAMPLE.budget, 2)
    first = _run(saved, "v1", SAMPLE, 0.7)
    _run(saved, "v1", seeded, 0.75)
    assert saved.run_at("v1", SAMPLE).run_id == first  # type: ignore[union-attr]
    assert saved.run_at("v1", seeded).metrics == {"auc": 0.75}  # type: ignore[union-attr]
    assert saved.run_at("v1", FULL) is None and saved.run_at("v2", SAMPLE) is None


def test_an_old_database_gains_the_exploration_tables(db_path: Path) -> None:
    with History(db_path, migrations=MIGRATIONS[:3]) as old:
        old.save_version(make_snapshot("v1"), workflow_path="w.py")
        old.save_version(make_snapshot("v2"), workflow_path="w.py")
        run_id = old.start_run("v1", kind="explore", fidelity=SAMPLE, parent_id=None)
    with sqlite3.connect(db_path) as conn:
        assert "variants" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    with History(db_path) as history:
        assert history.run(run_id).kind == "explore"  # type: ignore[union-attr]
        history.save_variant(_variant())
        history.record_trial(
            "abc123", "v1", SAMPLE, metric="auc", goal="max", status="ok",
            runs=[TrialRun(0, run_id, None, 0.8, None)], delta=None, uncertainty=None,
            value=0.8, base_value=None, seconds=1.0,
        )  # fmt: skip
        assert [t.runs[0].run_id for t in history.trials()] == [run_id]
