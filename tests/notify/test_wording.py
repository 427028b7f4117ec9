"""The words of stage and failure notifications, case by case."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from ghostrun.notify import Message, failure_message, numbers, stage_message

SAMPLE = {"fraction": 0.1, "precision": "float64", "budget": 1.0}
FULL = {"fraction": 1.0, "precision": "float64", "budget": 1.0}
KNOB = {"op": "model", "change": "knob", "reason": "num_leaves 31 → 63"}


def stage(**overrides: Any) -> dict[str, Any]:
    """One entry of `stages` in `ghostrun run --json`."""
    base = {
        "fidelity": SAMPLE, "metrics": {"auc": 0.87341}, "elapsed": 1.43, "delta": 0.00612,
        "uncertainty": None, "verdict": "better", "seeds": 1, "extrapolated": None, "run_id": 7,
    }
    return {**base, **overrides}


def context(**overrides: Any) -> dict[str, Any]:
    base = {
        "primary": "auc", "goal": "max", "changes": [KNOB], "reran": 2, "reused": 5,
        "full_eta": 40.2, "final": False,
    }
    return {**base, **overrides}


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    body: str
    stage: dict[str, Any] = field(default_factory=stage)
    context: dict[str, Any] = field(default_factory=context)


CASES = [
    Case(
        "design-example",
        "auc 0.8734 ▲ +0.0061 likely better · 10% sample · 1.4 s",
        "model: num_leaves 31→63 · reran 2, reused 5 · full result in ~40 s",
    ),
    Case(
        "approx-with-uncertainty-unclear",
        "auc 0.8734 ▲ +0.0061 ±0.0042 too close to call · 10% sample × 3 seeds · 2.0 s",
        "model: num_leaves 31→63 · reran 2, reused 5 · full result ≈ 0.8791 in ~3 min",
        stage(uncertainty=0.0042, verdict="unclear", seeds=3, elapsed=2.0, extrapolated=0.87912),
        context(full_eta=170),
    ),
    Case(
        "approx-worse",
        "auc 0.8612 ▼ -0.012 likely worse · 10% sample · 0.9 s",
        "model: num_leaves 31→63 · reran 2, reused 5 · full result in ~40 s",
        stage(metrics={"auc": 0.8612}, delta=-0.0122, verdict="worse", elapsed=0.94),
    ),
    Case(
        "full-final-better",
        "auc 0.8791 ▲ +0.0058 better · full data · 41 s",
        "model: num_leaves 31→63 · reran 2, reused 5",
        stage(fidelity=FULL, metrics={"auc": 0.8791}, delta=0.0058, elapsed=41.2),
        context(full_eta=None, final=True),
    ),
    Case(
        "full-no-change",
        "auc 0.8791 = +0 no change · full data · 3 min 5 s",
        "features: code changed · reran 1, reused 6",
        stage(fidelity=FULL, metrics={"auc": 0.8791}, delta=0.0, verdict="unclear", elapsed=185),
        context(changes=[{"op": "features", "change": "code", "reason": ""}], reran=1, reused=6,
                full_eta=None, final=True),
    ),
    Case(
        "min-goal-lower-is-better",
        "logloss 0.3102 ▼ -0.021 likely better · 25% sample, 50% budget, float32 · 1.1 s",
        "model: learning_rate 0.1→0.05 · reran 1, reused 4 · full result in ~2 min",
        stage(fidelity={"fraction": 0.25, "precision": "float32", "budget": 0.5},
              metrics={"logloss": 0.31024, "auc": 0.8}, delta=-0.021, elapsed=1.1),
        context(primary="logloss", goal="min", reran=1, reused=4, full_eta=95,
                changes=[{"op": "model", "change": "knob", "reason": "learning_rate 0.1 → 0.05"}]),
    ),
    Case(
        "first-run",
        "auc 0.8734 · first run · 10% sample · 1.4 s",
        "5 new operators · reran 5, reused 0 · full result in ~40 s",
        stage(delta=None, verdict=None),
        context(reran=5, reused=0, changes=[
            {"op": name, "change": "new", "reason": ""}
            for name in ("raw", "features", "labels", "model", "auc")
        ]),
    ),
    Case(
        "nan-metric",
        "auc NaN (change unknown) · 10% sample · 1.4 s",
        "model: num_leaves 31→63 · reran 2, reused 5 · full result to follow",
        stage(metrics={"auc": float("nan")}, delta=float("nan"), verdict="unclear"),
        context(full_eta=None),
    ),
    Case(
        "missing-metric",
        "auc n/a · first run · 10% sample · 1.4 s",
        "model: num_leaves 31→63 · reran 2, reused 5 · full result in ~40 s",
        stage(metrics={"rmse": 3.0}, delta=None, verdict=None),
    ),
    Case(
        "none-metric-and-no-primary",
        "score n/a · first run · full data · 12 s",
        "",
        stage(fidelity=FULL, metrics={"score": None}, delta=None, verdict=None, elapsed=12.4),
        context(primary=None, changes=[], reran=None, reused=None, final=True),
    ),
    Case(
        "dict-metric-and-many-changes",
        "scores.auc 12346 ▲ +1234 · 10% sample · 1.4 s",
        "a: code changed; b: data changed; +1 more · reran 3, reused 0 · full result in ~1 s",
        stage(metrics={"scores.auc": 12345.6, "scores.f1": 0.5}, delta=1234.5, verdict=None),
        context(primary="scores", reran=3, reused=0, full_eta=0.2, changes=[
            {"op": "a", "change": "code"}, {"op": "x", "change": "upstream", "reason": "input a"},
            {"op": "b", "change": "data"}, {"op": "c", "change": "removed"},
        ]),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_stage_message(case: Case) -> None:
    message = stage_message(case.stage, case.context)
    assert (message.title, message.body) == (case.title, case.body)
    assert message.urgency == "normal"


@pytest.mark.parametrize(
    ("failure", "title", "body"),
    [
        (
            {"op": "model", "message": "ValueError: bad input\nTraceback ...",
             "location": "pipeline.py:12", "code": "user_code"},
            "run failed in model", "ValueError: bad input · at pipeline.py:12",
        ),
        (
            {"op": None, "message": "pipeline.py:3: cycle between a and b", "location": None,
             "code": "workflow"},
            "workflow error", "pipeline.py:3: cycle between a and b",
        ),
        ({"op": "features", "message": "", "location": None, "code": "timeout"},
         "run failed in features", "timeout"),
        ({"op": "model", "message": "x" * 500, "location": None, "code": "user_code"},
         "run failed in model", "x" * 199 + "…"),
    ],
    ids=["with-location", "workflow-error", "no-message", "long-message"],
)
def test_failure_message(failure: dict[str, Any], title: str, body: str) -> None:
    assert failure_message(failure) == Message(title, body, urgency="critical")


@pytest.mark.parametrize(
    ("value", "digits", "signed", "text"),
    [
        (0.87341, 4, False, "0.8734"), (0.873, 4, False, "0.873"), (1.5, 4, False, "1.5"),
        (12345.6, 4, False, "12346"), (0.000012345, 4, False, "1.234e-05"),
        (0.00612, 2, True, "+0.0061"), (-0.0122, 2, True, "-0.012"), (0.0, 2, True, "+0"),
        (float("inf"), 4, True, "+∞"), (float("-inf"), 4, False, "-∞"), (None, 4, False, "n/a"),
    ],
)
def test_significant(value: float | None, digits: int, signed: bool, text: str) -> None:
    assert numbers.significant(value, digits, signed=signed) == text


@pytest.mark.parametrize(
    ("fraction", "text"), [(0.1, "10%"), (0.005, "0.5%"), (0.333, "33%"), (0.999, "99%")]
)
def test_percent(fraction: float, text: str) -> None:
    assert numbers.percent(fraction) == text


def test_message_rejects_unknown_urgency() -> None:
    with pytest.raises(ValueError, match="low, normal, critical"):
        Message("t", "b", urgency="urgent")
