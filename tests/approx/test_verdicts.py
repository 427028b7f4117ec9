"""Approximate verdicts: margins on the seeds' noise, borrowed errors, and edits whose
sign a small sample can get wrong (they need stages that back each other up)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ghostrun.approx.sensitivity import moves_rescaled_knob, scale_sensitive
from ghostrun.engine.verdict import StageEvidence, judge
from ghostrun.workflow.types import Change, OpChange


def ev(fraction: float, *deltas: float, spread: float | None = None,
       bias: float | None = None) -> StageEvidence:
    return StageEvidence(fraction, 0.25, tuple(deltas), spread, bias)


@dataclass(frozen=True)
class Case:
    name: str
    stages: list[StageEvidence]
    verdict: str | None
    goal: str = "max"


CASES = [
    Case("first-stage-clears-noise-and-past-bias", [ev(0.05, 0.010, 0.011, 0.012, bias=0.003)],
         "better"),
    Case("goal-min", [ev(0.05, 0.010, 0.011, 0.012, bias=0.003)], "worse", goal="min"),
    Case("first-stage-without-a-track-record-waits", [ev(0.05, 0.010, 0.011, 0.012)],
         "unclear"),
    Case("first-stage-within-past-bias", [ev(0.05, 0.010, 0.011, 0.012, bias=0.02)],
         "unclear"),
    Case("seeds-disagree", [ev(0.05, 0.010, -0.008, 0.004, bias=0.0)], "unclear"),
    Case("a-small-delta-within-noise", [ev(0.05, 0.001, 0.003, -0.001, bias=0.0)], "unclear"),
    Case("no-pairs", [ev(0.05)], None),
    Case("one-seed-nothing-to-borrow", [ev(0.05, 0.01, bias=0.0)], "unclear"),
    Case("one-seed-far-beyond-earlier-spreads", [ev(0.05, 0.05, spread=0.004, bias=0.01)],
         "better"),
    Case("one-seed-within-earlier-spreads", [ev(0.05, 0.01, spread=0.004, bias=0.0)],
         "unclear"),
    Case(
        "later-stage-backed-by-the-first",
        [ev(0.05, -0.010, -0.011, -0.012), ev(0.2, -0.008)],
        "worse",
    ),
    Case(
        "borrowed-error-too-large",
        [ev(0.05, 0.010, -0.002, 0.004), ev(0.2, 0.002)],
        "unclear",
    ),
    Case("later-stage-disagrees-with-the-first",
         [ev(0.05, 0.010, 0.011, 0.012), ev(0.2, -0.008)], "unclear"),
    Case("later-stage-clears-past-bias-on-its-own",
         [ev(0.05, 0.010, 0.011, 0.012), ev(0.2, -0.008, bias=0.001)], "worse"),
    Case(
        # the first stage agrees in sign only: as likely as not for a change within noise
        "a-sign-alone-does-not-back",
        [ev(0.05, 0.004, -0.003, 0.005), ev(0.2, 0.008)],
        "unclear",
    ),
    Case(
        # the demo's min_count 50 → 500 at 10% of the rows (full delta +0.0013): the seeds
        # are sure, but the record says the fidelity has been off by more
        "within-the-record-though-the-seeds-are-sure",
        [ev(0.05, -0.0030, -0.0028, -0.0032), StageEvidence(0.1, 1.0, (-0.0049,), bias=0.006)],
        "unclear",
    ),
    Case(
        # backing by an earlier stage does not excuse the record: they share its bias
        "backed-but-within-the-record",
        [ev(0.05, -0.010, -0.011, -0.012), ev(0.2, -0.008, bias=0.0085)],
        "unclear",
    ),
    Case(
        # the seeds' margin and the record combine as independent errors
        "clears-seeds-and-record-together",
        [ev(0.05, -0.010, -0.011, -0.012), ev(0.2, -0.008, bias=0.0075)],
        "worse",
    ),
    Case(
        # a delta far beyond what the fidelity has been off by
        "a-large-delta-clears-the-record",
        [ev(0.05, 0.04, 0.042, 0.041), ev(0.2, 0.05, bias=0.01)],
        "better",
    ),
    Case(
        # consistent in sign, but shrinking fast: on all rows it points the other way
        "trend-crosses-zero",
        [ev(0.05, -0.0160, -0.0162, -0.0158), ev(0.2, -0.0040)],
        "unclear",
    ),
    Case(
        # the same at different budgets: a budget change moves a delta too, so no trend
        "no-trend-across-budgets",
        [ev(0.05, -0.0160, -0.0162, -0.0158), StageEvidence(0.2, 1.0, (-0.0040,))],
        "worse",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_judge(case: Case) -> None:
    result = judge(case.stages, case.goal)  # type: ignore[arg-type]
    assert (result.verdict if result else None) == case.verdict
    if result is not None:
        assert result.delta == pytest.approx(case.stages[-1].mean)


OPS = {
    "features": ["min_count"],
    "model": ["LGBMClassifier.n_estimators", "LGBMClassifier.num_leaves"],
    "auc": [],
}

SENSITIVITY = [
    ("leaves", [OpChange("model", Change.KNOB, {"LGBMClassifier.num_leaves": (31, 63)})], True),
    ("explicit-depth", [OpChange("model", Change.KNOB, {"max_depth": (6, 8)})], True),
    ("learning-rate", [OpChange("model", Change.KNOB, {"XGBClassifier.eta": (0.1, 0.3)})], True),
    ("estimator-swap", [OpChange("model", Change.CODE)], True),
    # a row-count threshold means something else on a sample
    ("row-count-knob", [OpChange("features", Change.KNOB, {"min_count": (50, 200)})], True),
    ("other-preprocessing-knob", [OpChange("features", Change.KNOB, {"recent_days": (365, 90)})],
     False),
    # code of an operator with a row-count knob: not a model, so not by that alone
    ("feature-code", [OpChange("features", Change.CODE)], False),
    ("model-upstream", [OpChange("features", Change.CODE), OpChange("model", Change.UPSTREAM)],
     False),
    ("metric", [OpChange("auc", Change.CODE)], False),
]


@pytest.mark.parametrize(("changes", "expected"), [s[1:] for s in SENSITIVITY],
                         ids=[s[0] for s in SENSITIVITY])
def test_scale_sensitive(changes: list[OpChange], expected: bool) -> None:
    assert scale_sensitive(changes, OPS) is expected


RESCALED = [
    ("rounds", [OpChange("model", Change.KNOB, {"LGBMClassifier.n_estimators": (100, 200)})],
     True),
    ("eta", [OpChange("model", Change.KNOB, {"XGBClassifier.eta": (0.1, 0.3)})], True),
    ("leaves", [OpChange("model", Change.KNOB, {"LGBMClassifier.num_leaves": (31, 63)})], False),
    ("estimator-swap", [OpChange("model", Change.CODE)], False),
]


@pytest.mark.parametrize(("changes", "expected"), [s[1:] for s in RESCALED],
                         ids=[s[0] for s in RESCALED])
def test_moves_rescaled_knob(changes: list[OpChange], expected: bool) -> None:
    assert moves_rescaled_knob(changes) is expected
