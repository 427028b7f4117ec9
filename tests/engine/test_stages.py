"""Approximate stages through a real session: samples, seeds, paired deltas, budgets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghostrun.approx import ladder as ladder_module
from ghostrun.engine.pairing import TrackRecord, track_record
from ghostrun.engine.results import Invocation, StageResult
from ghostrun.engine.session import Session
from ghostrun.engine.stages import run_ladder, runtime_predictor
from ghostrun.errors import RunCancelled
from ghostrun.history import History
from ghostrun.project import Project
from ghostrun.workflow.types import Fidelity

from .conftest import write_table

PIPELINE = '''\
import ghostrun as gr
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.metrics import roc_auc_score


@gr.source
def raw(path="data/table.csv") -> pd.DataFrame:
    return pd.read_csv(path)


@gr.op
def model(raw):
    n = len(raw) * 2 // 3
    clf = LGBMClassifier(n_estimators=80, learning_rate=0.1, num_leaves=15, verbose=-1, n_jobs=1)
    return clf.fit(raw[["a", "b", "c"]][:n], raw["y"][:n])


@gr.metric(goal="max")
def auc(model, raw) -> float:
    n = len(raw) * 2 // 3
    return float(roc_auc_score(raw["y"][n:], model.predict_proba(raw[["a", "b", "c"]][n:])[:, 1]))


@gr.metric(goal="max")
def trees(model) -> float:
    return float(model.n_estimators)


@gr.metric(goal="max")
def rows(raw) -> float:
    return float(len(raw))
'''


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.ghostrun]\nworkflow = "pipeline.py"\n')
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    write_table(tmp_path / "data" / "table.csv", rows=60_000)
    return tmp_path


def ladder(root: Path, mode: str = "approx", **kwargs: object) -> Invocation:
    with Session(Project.open(root)) as session:
        invocation = session.prepare(session.load())
        return run_ladder(session, invocation, mode=mode, **kwargs)  # type: ignore[arg-type]


def edit(root: Path, old: str, new: str) -> None:
    path = root / "pipeline.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def refined(inv: Invocation) -> list[StageResult]:
    return [s for s in inv.stages if not s.provisional]


def test_first_stage_samples_rows_scales_the_budget_and_repeats_on_seeds(root: Path) -> None:
    inv = ladder(root)
    (stage,) = refined(inv)
    assert stage.fidelity.fraction < 1 and stage.fidelity.budget < 1 and stage.seeds >= 2
    assert 1500 <= stage.metrics["rows"] < 60_000 * stage.fidelity.fraction * 1.2
    assert stage.metrics["trees"] == round(80 * stage.fidelity.budget)
    assert stage.comparison is None  # a first version has nothing to compare with
    with History(root / ".ghostrun" / "history.sqlite") as h:
        seeds = sorted(r.fidelity.seed for r in h.runs() if r.fidelity.fraction < 1)
    assert seeds == list(range(stage.seeds))


def test_full_stage_is_exact_and_unscaled(root: Path) -> None:
    inv = ladder(root, mode="full")
    (stage,) = inv.stages
    assert stage.metrics["trees"] == 80.0 and stage.metrics["rows"] == 60_000


def test_second_version_gets_a_paired_delta_on_the_same_rows(root: Path) -> None:
    first = refined(ladder(root))[0]
    edit(root, "num_leaves=15", "num_leaves=3")
    second = refined(ladder(root))[0]
    assert second.fidelity == first.fidelity
    assert second.metrics["rows"] == first.metrics["rows"]  # same sample
    c = second.comparison
    assert c is not None and c.uncertainty is not None
    assert c.delta == pytest.approx(second.metrics["auc"] - first.metrics["auc"])
    assert c.verdict in ("better", "worse", "unclear")


def test_an_approximate_stage_is_deterministic_and_cached(root: Path) -> None:
    first = refined(ladder(root))[0]
    again = refined(ladder(root))[0]
    assert again.metrics == first.metrics
    assert all(o.state != "computed" for o in again.outcomes.values())


def test_a_newer_save_cancels_between_operators(root: Path) -> None:
    with pytest.raises(RunCancelled):
        ladder(root, cancelled=lambda: True)
    with History(root / ".ghostrun" / "history.sqlite") as h:
        statuses = {r.status for r in h.runs()}
    assert statuses == {"cancelled"}


def test_ladder_json_lists_every_stage_in_order(root: Path) -> None:
    ladder(root, mode="full")  # calibrates the runtime model
    edit(root, "num_leaves=15", "num_leaves=7")
    inv = ladder(root, mode="approx")
    data = inv.to_json()
    assert [s["fidelity"]["fraction"] for s in data["stages"]] == sorted(
        s["fidelity"]["fraction"] for s in data["stages"]
    )
    assert all(s["elapsed"] > 0 for s in data["stages"])


def test_the_first_stage_reports_after_its_first_seed_then_refines(root: Path) -> None:
    ladder(root, mode="full")
    edit(root, "num_leaves=15", "num_leaves=7")
    seen: list[tuple[StageResult, int]] = []

    def on_stage(stage: StageResult) -> None:
        with History(root / ".ghostrun" / "history.sqlite") as h:
            sampled = [r for r in h.runs() if r.fidelity == stage.fidelity]
        seen.append((stage, len(sampled)))

    inv = ladder(root, on_stage=on_stage)
    (early, runs_then), (late, _) = seen[:2]
    assert early.provisional and early.seeds == 1 and runs_then == 1  # before seeds 1, 2 ran
    assert not late.provisional and late.seeds > 1 and late.fidelity == early.fidelity
    assert [s for s, _ in seen] == inv.stages
    assert [s["provisional"] for s in inv.to_json()["stages"]][:2] == [True, False]


def test_a_run_that_went_full_at_once_leaves_its_successor_a_paired_first_stage(
    root: Path,
) -> None:
    first = ladder(root, mode="ladder")
    assert [s.fidelity.is_full for s in first.stages] == [True]  # no history: full at once
    with History(root / ".ghostrun" / "history.sqlite") as h:
        measured = {r.fidelity for r in h.runs() if r.fidelity.fraction < 1}
    edit(root, "num_leaves=15", "num_leaves=3")
    inv = ladder(root)
    stage = refined(inv)[0]
    assert {f for f in measured if f.budget == stage.fidelity.budget and
            f.fraction == stage.fidelity.fraction} == set(
        Fidelity(stage.fidelity.fraction, budget=stage.fidelity.budget, seed=s)
        for s in range(stage.seeds))
    assert stage.comparison is not None and stage.comparison.uncertainty is not None


def test_a_newer_save_stops_the_pairing_runs_quietly(root: Path) -> None:
    done: list[StageResult] = []
    inv = ladder(root, mode="ladder", on_stage=done.append, cancelled=lambda: bool(done))
    assert [s.fidelity.is_full for s in inv.stages] == [True]
    with History(root / ".ghostrun" / "history.sqlite") as h:
        sampled = {r.status for r in h.runs() if r.fidelity.fraction < 1}
    assert sampled == {"cancelled"}


def test_a_one_seed_report_borrows_its_error_from_earlier_edits(root: Path) -> None:
    ladder(root, mode="ladder")  # full at once, then measured for pairing
    errors = []
    for old, new in [("num_leaves=15", "num_leaves=7"), ("num_leaves=7", "num_leaves=4"),
                     ("num_leaves=4", "num_leaves=3")]:
        edit(root, old, new)
        early = ladder(root).stages[0]
        assert early.provisional and early.comparison is not None
        errors.append(early.comparison.uncertainty)
    # nothing to borrow from until two earlier edits were measured on several seeds
    assert errors[:2] == [None, None]
    assert errors[2] is not None and errors[2] > 0


def test_a_fidelity_s_track_record_needs_earlier_edits_measured_in_full(root: Path) -> None:
    def record_at(stage: StageResult) -> TrackRecord:
        with History(root / ".ghostrun" / "history.sqlite") as h:
            return track_record(h, stage.fidelity, "auc")

    ladder(root, mode="ladder")  # full at once, then measured for pairing
    edit(root, "num_leaves=15", "num_leaves=7")
    stage = refined(ladder(root))[0]
    assert record_at(stage).bias is None  # this edit has no full result yet
    ladder(root, mode="full")  # a re-run of the same version: its parent stays the first
    edit(root, "num_leaves=7", "num_leaves=4")
    ladder(root, mode="ladder")
    edit(root, "num_leaves=4", "num_leaves=5")
    stage = refined(ladder(root))[0]
    record = record_at(stage)
    assert record.bias is not None and record.seed_spread is not None
    assert 0 <= record.bias < 0.5


def test_a_rate_edit_s_budget_scaled_stage_waits_for_a_rate_edit_on_the_record(
    root: Path,
) -> None:
    """A quarter of the rounds at a compensating rate measures another edit: capacity
    edits on the record say nothing of how far off a learning-rate edit is there."""
    ladder(root, mode="ladder")
    for old, new in [("num_leaves=15", "num_leaves=7"), ("num_leaves=7", "num_leaves=4")]:
        edit(root, old, new)
        ladder(root, mode="ladder")
    edit(root, "learning_rate=0.1", "learning_rate=0.002")
    stage = refined(ladder(root))[0]
    assert stage.fidelity.budget < 1 and stage.comparison is not None
    with History(root / ".ghostrun" / "history.sqlite") as h:
        record = track_record(h, stage.fidelity, "auc")
    assert record.bias is not None and record.sensitive_seen and not record.rescaled_seen
    # far beyond the seeds' noise and the capacity edits' record, and still held back
    assert stage.comparison.delta < -3 * record.bias
    assert stage.comparison.verdict == "unclear"


def test_a_version_measured_in_full_before_goes_straight_to_full(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ladder_module, "SHORT_RUN", 0.0)  # every timed run approximates
    ladder(root, mode="ladder")
    edit(root, "num_leaves=15", "num_leaves=7")
    assert [s.fidelity.is_full for s in ladder(root, mode="ladder").stages][0] is False
    edit(root, "num_leaves=7", "num_leaves=15")  # back to the first version
    inv = ladder(root, mode="ladder")
    assert [s.fidelity.is_full for s in inv.stages] == [True]
    assert inv.stages[0].comparison is not None and inv.stages[0].comparison.delta != 0


def test_operators_reused_for_many_runs_still_count_as_timed(root: Path) -> None:
    ladder(root, mode="ladder")
    with Session(Project.open(root)) as session:
        invocation = session.prepare(session.load())
        for _ in range(60):  # the source is loaded or pruned, never computed, 60 times
            session.execute(invocation, Fidelity(0.05, budget=0.25))
        every_op = list(invocation.version.workflow.operators)
        predict = runtime_predictor(session, invocation, every_op)
    assert predict is not None and predict(Fidelity(0.05, budget=0.25)) > 0
