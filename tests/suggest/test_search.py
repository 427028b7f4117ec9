"""`explore` on a small real project: trials in the history, the planted fix found and ranked
first, successive halving on sampled rungs, cancellation, resuming, re-checks."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ghostrun.engine.session import Session
from ghostrun.project import Project
from ghostrun.suggest.halving import FULL_RUNG, Rung
from ghostrun.suggest.rank import suggestions
from ghostrun.suggest.search import explore
from ghostrun.workflow.types import Fidelity

from .search_project import make_project

SAMPLED = Rung(Fidelity(0.1, budget=0.5), 3)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj")


@pytest.fixture
def session(root: Path) -> Iterator[Session]:
    with Session(Project.open(root)) as opened:
        yield opened


def leaves_up(change: dict[str, Any]) -> bool:
    parts = change.get("parts", [change])
    return any(p.get("knob", "").endswith("num_leaves") and p["new"] > p["old"] for p in parts)


def moves(change: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What a change sets, whatever it started from."""
    parts = change.get("parts", [change])
    return [(p["kind"], p["op"], p.get("knob"), p.get("new"), p.get("columns")) for p in parts]


def test_explore_records_trials_and_finds_the_planted_knob(session: Session) -> None:
    results: list[dict[str, Any]] = []
    report = explore(session, budget=10, on_result=results.append, seed=1)
    assert report.stopped == "budget" and report.error is None
    assert report.trials == len(results) >= 8
    history = session.history

    base = report.version_id
    trials = history.trials(base_version=base)
    assert {t.trial_id for t in trials} == {r["trial_id"] for r in results}
    runs = {r.run_id: r for r in history.runs(kind="explore", limit=500)}
    for trial in trials:
        for run in trial.runs:  # every trial run is an explore run of the variant's version
            variant = history.variant(trial.variant_id, base)
            assert runs[run.run_id].version_id == variant.version_id != base
            assert runs[run.base_run_id].version_id == base
    base_fps = history.load_version(base).ops
    for v in history.variants(base_version=base):
        assert v.base_fingerprints == {op: base_fps[op].fingerprint for op in v.ops}

    top = suggestions(history, base, n=5)
    assert top[0].confirmed_full and top[0].expected_delta > 0.2
    assert any(leaves_up(s.variant.to_json()) for s in top[:3])
    assert all(s.expected_delta > 0 for s in top)
    ok = [r for r in results if r["status"] == "ok"]
    assert {"version_id", "variant_id", "description", "fidelity", "delta", "uncertainty",
            "run_id", "time"} <= set(ok[0])  # fmt: skip

    again = explore(session, budget=4)  # the same version: it goes on, measuring nothing twice
    assert again.version_id == base
    measured = [(t.variant_id, t.fidelity) for t in history.trials(base_version=base)]
    assert len(measured) == len(set(measured)) == report.trials + again.trials


def test_successive_halving_on_sampled_rungs(tmp_path: Path) -> None:
    root = make_project(tmp_path / "big", rows=6000, min_sample_rows=300)
    with Session(Project.open(root)) as session:
        report = explore(session, budget=10, rungs=[SAMPLED, FULL_RUNG], seed=2)
        assert report.rungs == [SAMPLED.fidelity, FULL_RUNG.fidelity]
        trials = session.history.trials(base_version=report.version_id)
        sampled = {t.variant_id: t for t in trials if not t.fidelity.is_full}
        full = {t.variant_id: t for t in trials if t.fidelity.is_full}
        assert sampled and full
        assert set(full) <= set(sampled) and len(full) < len(sampled)
        for variant_id, confirmed in full.items():
            # promoted only while in the best third of those measured on the sample so far
            before = [t for t in sampled.values() if t.trial_id < confirmed.trial_id]
            mine = sampled[variant_id].gain
            better = sum((t.gain if t.gain is not None else -1) > mine for t in before)
            assert better < math.ceil(len(before) / 3)
        for trial in sampled.values():
            if trial.status != "ok":
                continue
            assert [r.seed for r in trial.runs] == [0, 1, 2] and trial.uncertainty is not None
            for r in trial.runs:  # paired: the base on the very same rows and seed
                base_run = session.history.run(r.base_run_id)
                mine = session.history.run(r.run_id)
                assert base_run.fidelity == mine.fidelity == Fidelity(0.1, budget=0.5, seed=r.seed)
        best = suggestions(session.history, report.version_id)[0]
        assert best.confirmed_full and best.fidelities == [0.1, 1.0]


def test_cancelling_stops_between_trials_and_inside_a_run(session: Session) -> None:
    seen: list[dict[str, Any]] = []
    report = explore(session, budget=60, on_result=seen.append, cancelled=lambda: bool(seen))
    assert (report.stopped, report.trials, len(seen)) == ("cancelled", 1, 1)

    started: list[int] = []  # cancel once a run is under way: it stops between operators
    session.on_run_start = lambda run_id, fidelity: started.append(run_id)
    report = explore(session, budget=60, cancelled=lambda: bool(started))
    assert (report.stopped, report.trials, len(started)) == ("cancelled", 0, 1)
    assert session.history.run(started[0]).status == "cancelled"  # type: ignore[union-attr]


def test_a_new_version_rechecks_the_best_earlier_findings_first(root: Path) -> None:
    with Session(Project.open(root)) as session:
        first = explore(session, budget=8, seed=3)
        earlier = suggestions(session.history, first.version_id, n=3)
    text = (root / "pipeline.py").read_text().replace("n_estimators=40", "n_estimators=50")
    (root / "pipeline.py").write_text(text)
    with Session(Project.open(root)) as session:
        seen: list[dict[str, Any]] = []
        second = explore(session, budget=60, on_result=seen.append,
                         cancelled=lambda: len(seen) > len(earlier))  # fmt: skip
        assert second.version_id != first.version_id
        assert earlier and len(seen) > len(earlier)
        rechecked = [r["change"] for r in seen[: len(earlier)]]
        assert [moves(c) for c in rechecked] == [moves(s.variant.to_json()) for s in earlier]
        for part in (p for c in rechecked for p in c.get("parts", [c])):
            if part.get("knob", "").endswith("n_estimators"):
                assert part["old"] == 50  # re-expressed from the new version's value
        # the earlier version's findings stay in the history, as evidence
        assert suggestions(session.history, first.version_id, n=3) == earlier


def test_a_workflow_without_a_metric_is_not_explored(root: Path) -> None:
    text = (root / "pipeline.py").read_text().replace('@gr.metric(goal="max")', "@gr.op")
    (root / "pipeline.py").write_text(text)
    with Session(Project.open(root)) as session:
        report = explore(session, budget=10)
        assert (report.stopped, report.trials) == ("no-metric", 0)


def test_a_failing_version_is_reported(root: Path) -> None:
    text = (root / "pipeline.py").read_text().replace("n = len(raw)", "n = 1 / 0 + len(raw)")
    (root / "pipeline.py").write_text(text)
    with Session(Project.open(root)) as session:
        report = explore(session, budget=10)
        assert report.stopped == "failed" and "ZeroDivisionError" in (report.error or "")


SEEDED_SPLIT = '''\
@gr.op
def split(raw: pd.DataFrame) -> dict:
    X_train, X_test, y_train, y_test = train_test_split(
        raw[["a", "b", "c"]], raw["y"], test_size=0.33, random_state=0
    )
    return {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test}
'''


def test_small_data_findings_are_measured_on_other_splits(tmp_path: Path) -> None:
    """On a short run with a seeded split, the best findings are measured again on other
    train/test splits, each paired with the base re-split the same way."""
    root = make_project(tmp_path / "seeded", rows=1200)
    text = (root / "pipeline.py").read_text()
    start, end = text.index("@gr.op\ndef split"), text.index("@gr.op\ndef model")
    text = text.replace(text[start:end], SEEDED_SPLIT + "\n\n")
    imports = "from sklearn.model_selection import train_test_split\n"
    (root / "pipeline.py").write_text(imports + text)
    with Session(Project.open(root)) as session:
        report = explore(session, budget=15, seed=1)
        history = session.history
        assert report.rungs == [FULL_RUNG.fidelity, FULL_RUNG.fidelity]
        trials = history.trials(base_version=report.version_id)
        resplit = [t for t in trials if len(t.runs) > 1 and t.status == "ok"]
        assert resplit, "no finding was measured on other splits"
        base_runs: dict[int, set[str]] = {}
        for trial in resplit:
            assert [r.seed for r in trial.runs] == [0, 1, 2, 3, 4]
            variant = history.variant(trial.variant_id, report.version_id)
            mine = [history.run(r.run_id).version_id for r in trial.runs]
            assert mine[0] == variant.version_id and len(set(mine)) == 5  # re-split overlays
            assert trial.delta == pytest.approx(trial.runs[0].value - trial.runs[0].base_value)
            for r in trial.runs:
                base_runs.setdefault(r.seed, set()).add(history.run(r.base_run_id).version_id)
        assert base_runs[0] == {report.version_id}
        assert all(len(v) == 1 for v in base_runs.values())  # one base per split
        assert len(set().union(*base_runs.values())) == 5
        top = suggestions(history, report.version_id)[0]
        assert top.confirmed_full and "train/test splits" in top.why
        assert leaves_up(top.variant.to_json())


def test_a_bigger_boosting_budget_is_predicted_to_cost_more(session: Session) -> None:
    """A walk up n_estimators must not start a trial that cannot end within the budget."""
    from ghostrun.engine.costs import CostModel
    from ghostrun.suggest.trials import RUN_OVERHEAD, Trials
    from ghostrun.suggest.variant import Variant
    from ghostrun.workflow.ondemand import real_workflow
    from ghostrun.workflow.types import FULL

    version = session.load()
    workflow = real_workflow(version.workflow)
    trials = Trials(session, session.prepare(version), workflow, "auc", lambda: False)
    trials.base_value(FULL)
    trials.costs = CostModel(session.history)

    def knob(name: str, old: int, new: int) -> Variant:
        change = {"kind": "knob", "op": "model", "knob": name, "old": old, "new": new}
        return Variant("knob", change)

    same = trials.predict_seconds(knob("LGBMClassifier.num_leaves", 2, 4), FULL_RUNG)
    more = trials.predict_seconds(knob("LGBMClassifier.n_estimators", 40, 320), FULL_RUNG)
    fit = trials._op_seconds("model", FULL)
    assert fit > 0
    assert more - same == pytest.approx(7 * fit)
    assert same > RUN_OVERHEAD
