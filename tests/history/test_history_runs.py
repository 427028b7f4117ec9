"""Runs, operator executions and metrics, as written and as read back."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ghostrun.errors import HistoryError
from ghostrun.history import History, OpExecution
from ghostrun.workflow.types import FULL, Change, Fidelity

from .builders import make_snapshot

SAMPLE = Fidelity(fraction=0.1)
SAMPLE32 = Fidelity(fraction=0.1, precision="float32")


@pytest.fixture
def saved(history: History) -> History:
    for version in ("v1", "v2", "v3"):
        history.save_version(make_snapshot(version), workflow_path="w.py")
    return history


def _run(
    history: History, version: str, *, kind: str = "user", fidelity: Fidelity = FULL,
    status: str = "ok", auc: float | None = None, parent: str | None = None,
) -> int:  # fmt: skip
    """A finished run; with `auc`, its only (and primary) metric."""
    run_id = history.start_run(version, kind=kind, fidelity=fidelity, parent_id=parent)
    metrics, primary = ({}, None) if auc is None else ({"auc": auc}, "auc")
    history.finish_run(run_id, status=status, seconds=1.0, metrics=metrics, primary=primary)
    return run_id


def test_a_run_from_start_to_finish(saved: History) -> None:
    before = time.time()
    run_id = saved.start_run("v2", kind="user", fidelity=SAMPLE, parent_id="v1")
    started = saved.run(run_id)
    assert (started.status, started.finished, started.seconds) == ("running", None, None)
    assert started.ops == ()
    assert started.metrics == {} and started.primary is None

    saved.record_op(run_id, "load", state="loaded", seconds=0.01, rows=1000, nbytes=8000,
                    key="k-load", content_hash="c-load", change="unchanged")  # fmt: skip
    saved.record_op(run_id, "model", state="computed", seconds=2.5, rows=None, nbytes=None,
                    key=None, content_hash=None, change=Change.KNOB)  # fmt: skip
    saved.finish_run(run_id, status="ok", seconds=2.6, metrics={"auc": 0.81, "logloss": 0.4},
                     primary="auc", uncertainty={"auc": 0.02})  # fmt: skip

    run = saved.run(run_id)
    assert (run.run_id, run.version_id, run.parent_id, run.kind) == (run_id, "v2", "v1", "user")
    assert (run.fidelity, run.status, run.seconds, run.error) == (SAMPLE, "ok", 2.6, None)
    assert before <= run.started <= run.finished <= time.time()
    assert run.metrics == {"auc": 0.81, "logloss": 0.4} and list(run.metrics) == ["auc", "logloss"]
    assert run.uncertainty == {"auc": 0.02}
    assert run.primary == "auc" and run.primary_value == 0.81
    assert run.ops == (
        OpExecution("load", "loaded", 0.01, 1000, 8000, "k-load", "c-load", "unchanged", run_id,
                    SAMPLE),
        OpExecution("model", "computed", 2.5, None, None, None, None, "knob", run_id, SAMPLE),
    )  # fmt: skip


def test_failed_run_keeps_its_error(saved: History) -> None:
    run_id = saved.start_run("v1", kind="manual", fidelity=FULL, parent_id=None)
    saved.finish_run(run_id, status="failed", seconds=0.5, error="operator 'model' failed: boom")
    run = saved.run(run_id)
    assert (run.status, run.metrics, run.kind) == ("failed", {}, "manual")
    assert run.error == "operator 'model' failed: boom"


def test_recording_an_operator_twice_keeps_the_last(saved: History) -> None:
    run_id = saved.start_run("v1", kind="user", fidelity=FULL, parent_id=None)
    for seconds in (1.0, 2.0):
        saved.record_op(run_id, "model", state="computed", seconds=seconds, rows=1, nbytes=1,
                        key=None, content_hash=None, change=None)  # fmt: skip
    assert [op.seconds for op in saved.run(run_id).ops] == [2.0]


def test_nan_and_infinite_metrics_survive(saved: History) -> None:
    run_id = saved.start_run("v1", kind="user", fidelity=FULL, parent_id=None)
    saved.finish_run(run_id, status="ok", seconds=1, metrics={"auc": math.nan, "loss": math.inf})
    metrics = saved.run(run_id).metrics
    assert math.isnan(metrics["auc"]) and metrics["loss"] == math.inf
    assert math.isnan(saved.metrics_for("v1", FULL)["auc"])


def test_unknown_run_is_none(saved: History) -> None:
    assert saved.run(42) is None


def test_runs_are_newest_first_and_filter(saved: History) -> None:
    r1 = _run(saved, "v1", auc=0.7)
    r2 = _run(saved, "v2", kind="explore", status="failed")
    r3 = _run(saved, "v1", fidelity=SAMPLE, auc=0.6)
    r4 = saved.start_run("v3", kind="user", fidelity=FULL, parent_id="v1")

    assert [r.run_id for r in saved.runs()] == [r4, r3, r2, r1]
    assert [r.run_id for r in saved.runs(limit=2)] == [r4, r3]
    assert [r.run_id for r in saved.runs(kind="user")] == [r4, r3, r1]
    assert [r.run_id for r in saved.runs(version_id="v1")] == [r3, r1]
    assert [r.run_id for r in saved.runs(status="running")] == [r4]
    newest_ok = saved.runs(kind="user", version_id="v1", status="ok", limit=1)
    assert [r.run_id for r in newest_ok] == [r3]
    assert [r.metrics for r in saved.runs(version_id="v1")] == [{"auc": 0.6}, {"auc": 0.7}]
    assert saved.runs(limit=0) == []


def test_metrics_for_picks_the_latest_ok_run_at_an_equal_fidelity(saved: History) -> None:
    assert saved.metrics_for("v1", FULL) is None
    _run(saved, "v1", auc=0.80)
    _run(saved, "v1", fidelity=SAMPLE, auc=0.70)
    _run(saved, "v1", fidelity=SAMPLE32, auc=0.69)
    _run(saved, "v1", status="failed", auc=0.10)
    _run(saved, "v2", auc=0.99)
    saved.start_run("v1", kind="user", fidelity=FULL, parent_id=None)  # still running

    assert saved.metrics_for("v1", Fidelity()) == {"auc": 0.80}
    assert saved.metrics_for("v1", Fidelity(fraction=1, budget=1)) == {"auc": 0.80}
    assert saved.metrics_for("v1", Fidelity(fraction=0.1)) == {"auc": 0.70}
    assert saved.metrics_for("v1", SAMPLE32) == {"auc": 0.69}
    assert saved.metrics_for("v1", Fidelity(fraction=0.1, budget=0.5)) is None
    _run(saved, "v1", kind="explore", auc=0.85)
    assert saved.metrics_for("v1", FULL) == {"auc": 0.85}


def test_current_version_and_parent_of(saved: History) -> None:
    assert saved.current_version() is None and saved.parent_of("v1") is None
    _run(saved, "v1")
    _run(saved, "v2", parent="v1")
    _run(saved, "v3", kind="explore", parent="v2")
    _run(saved, "v2", parent="v3")  # a later run with another parent does not rewrite history
    assert saved.current_version() == "v2"
    assert saved.current_version("explore") == "v3"
    assert saved.current_version("manual") is None
    assert saved.parent_of("v2") == "v1"
    assert saved.parent_of("v3") == "v2"
    assert saved.parent_of("v1") is None


def test_op_history_is_newest_first_with_fidelity(saved: History) -> None:
    for fidelity, seconds in [(SAMPLE, 0.2), (FULL, 2.0), (SAMPLE32, 0.1)]:
        run_id = saved.start_run("v1", kind="explore", fidelity=fidelity, parent_id=None)
        for op in ("load", "model"):
            saved.record_op(run_id, op, state="computed", seconds=seconds, rows=10, nbytes=80,
                            key=f"{op}-{run_id}", content_hash=None, change=None)  # fmt: skip
    history = saved.op_history("model")
    assert [(e.op, e.seconds, e.fidelity) for e in history] == [
        ("model", 0.1, SAMPLE32), ("model", 2.0, FULL), ("model", 0.2, SAMPLE),
    ]  # fmt: skip
    assert [e.key for e in saved.op_history("model", limit=2)] == ["model-3", "model-2"]
    assert saved.op_history("nothing") == []


def test_a_refused_finish_leaves_the_run_running(saved: History) -> None:
    run_id = saved.start_run("v1", kind="user", fidelity=FULL, parent_id=None)
    with pytest.raises(HistoryError, match="primary metric 'acc' is not among its metrics"):
        saved.finish_run(run_id, status="ok", seconds=1, metrics={"auc": 0.5}, primary="acc")
    with pytest.raises(HistoryError, match="metric 'auc' is 'high', not a number"):
        saved.finish_run(run_id, status="ok", seconds=1, metrics={"auc": "high"})  # type: ignore
    with pytest.raises(HistoryError, match="uncertainty given for unknown metrics f1"):
        saved.finish_run(run_id, status="ok", seconds=1, metrics={"auc": 1}, uncertainty={"f1": 0})
    run = saved.run(run_id)
    assert (run.status, run.metrics) == ("running", {})


USER = {"kind": "user", "fidelity": FULL}
NO_OP = {"seconds": 1, "rows": None, "nbytes": None, "key": None, "content_hash": None}
BAD_CALLS: dict[str, tuple[Callable[[History], object], str]] = {
    "unsaved-version": (lambda h: h.start_run("v9", **USER, parent_id=None), "run version 'v9'"),
    "unsaved-parent": (lambda h: h.start_run("v1", **USER, parent_id="v9"), "parent version 'v9'"),
    "bad-kind": (
        lambda h: h.start_run("v1", kind="nightly", fidelity=FULL, parent_id=None),
        "run kind must be one of user, explore, manual",
    ),
    "record-unknown-run": (
        lambda h: h.record_op(7, "x", state="computed", change=None, **NO_OP),
        "there is no run 7",
    ),
    "bad-state": (
        lambda h: h.record_op(1, "x", state="cached", change=None, **NO_OP),
        "operator state must",
    ),
    "bad-change": (
        lambda h: h.record_op(1, "x", state="loaded", change="moved", **NO_OP),
        "change must be",
    ),
    "finish-unknown-run": (lambda h: h.finish_run(7, status="ok", seconds=1), "there is no run 7"),
    "finish-running": (lambda h: h.finish_run(1, status="running", seconds=1), "final run status"),
    "negative-limit": (lambda h: h.runs(limit=-1), "limit must be 0 or more"),
    "bad-status": (lambda h: h.runs(status="done"), "run status must be"),
    "current-bad-kind": (lambda h: h.current_version("nightly"), "run kind must be"),
}


@pytest.mark.parametrize("call, message", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_input_gets_a_clear_error(
    saved: History, call: Callable[[History], object], message: str
) -> None:
    saved.start_run("v1", kind="user", fidelity=FULL, parent_id=None)
    with pytest.raises(HistoryError, match=message):
        call(saved)
    assert len(saved.runs()) == 1 and saved.run(1).ops == ()


def test_closed_history_refuses_calls(db_path: Path) -> None:
    history = History(db_path)
    history.close()
    history.close()
    with pytest.raises(HistoryError, match="is closed"):
        history.runs()
