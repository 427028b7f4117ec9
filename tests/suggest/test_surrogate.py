"""The surrogate: features, fit/predict with an uncertainty, expected improvement, diversity."""

from __future__ import annotations

import math
import random

import pytest

from ghostrun.suggest.surrogate import (
    FeatureSpace,
    Observation,
    Prediction,
    Surrogate,
    choose,
    expected_improvement,
    group_of,
)
from ghostrun.workflow.types import FULL, Fidelity

SAMPLE = Fidelity(0.1, budget=0.25)


def knob(name: str, old: float, new: float, op: str = "model") -> dict:
    return {"kind": "knob", "op": op, "knob": name, "old": old, "new": new}


def leaves_gain(old: float, new: float) -> float:
    """A planted truth: more leaves help up to 64, then hurt."""
    return 0.01 * (math.log2(min(new, 64)) - math.log2(min(old, 64))) - 0.004 * (new > 64)


def observations() -> list[Observation]:
    found = []
    for old in (2, 4, 8, 16, 32, 64, 128):
        for new in (old * 2, old // 2):
            if new >= 1:
                found.append(Observation(knob("num_leaves", old, new), SAMPLE,
                                         leaves_gain(old, new)))  # fmt: skip
    for rate in (0.01, 0.03, 0.1, 0.3):  # the learning rate does nothing here
        for new in (rate * 3, rate / 3):
            found.append(Observation(knob("learning_rate", rate, new), SAMPLE, 0.0))
    return found


def test_features_say_what_a_change_is() -> None:
    up = knob("num_leaves", 31, 62)
    space = FeatureSpace([up])
    row = dict(zip(FeatureSpace.COLUMNS, space.row(up, SAMPLE), strict=True))
    assert (row["is_knob"], row["numeric"], row["direction"]) == (1.0, 1.0, 1.0)
    assert row["log_ratio"] == pytest.approx(math.log(2)) and row["log_old"] == math.log(31)
    assert row["log_fraction"] == pytest.approx(math.log2(0.1)) and row["budget"] == 0.25
    swap = {"kind": "estimator", "op": "model", "old": "a.A", "new": "b.B", "kept": {},
            "dropped": []}  # fmt: skip
    drop = {"kind": "drop", "op": "features", "columns": ["x", "y"]}
    srow = dict(zip(FeatureSpace.COLUMNS, space.row(swap, FULL), strict=True))
    drow = dict(zip(FeatureSpace.COLUMNS, space.row(drop, FULL), strict=True))
    assert (srow["is_estimator"], srow["estimator_new"] > 0, srow["log_fraction"]) == (1, 1, 0)
    assert (drow["is_drop"], drow["n_dropped"], drow["op"] != row["op"]) == (1.0, 2.0, True)
    flag = space.row({"kind": "knob", "op": "f", "knob": "shape", "old": True, "new": False}, FULL)
    assert dict(zip(FeatureSpace.COLUMNS, flag, strict=True))["bool_new"] == 0.0


def test_too_few_trials_leave_the_surrogate_unfitted() -> None:
    surrogate = Surrogate()
    assert not surrogate.fit(observations()[:3])
    assert not surrogate.fitted
    with pytest.raises(ValueError, match="not fitted"):
        surrogate.predict([knob("num_leaves", 2, 4)], SAMPLE)


def test_the_forest_learns_which_moves_help_and_how_sure_it_is() -> None:
    surrogate = Surrogate(seed=1)
    assert surrogate.fit(observations())
    good, bad, idle = surrogate.predict(
        [knob("num_leaves", 4, 8), knob("num_leaves", 8, 4), knob("learning_rate", 0.1, 0.3)],
        SAMPLE,
    )
    assert good.mean > idle.mean > bad.mean
    assert abs(idle.mean) < good.mean / 2
    assert all(p.std > 0 for p in (good, bad, idle))
    # far outside what was seen, the trees disagree more than on well-covered moves
    unseen = surrogate.predict([knob("max_depth", 3, 6, op="other")], SAMPLE)[0]
    assert unseen.std >= idle.std


def test_a_pair_is_predicted_as_the_sum_of_its_parts() -> None:
    surrogate = Surrogate(seed=2)
    surrogate.fit(observations())
    a, b = knob("num_leaves", 4, 8), knob("learning_rate", 0.1, 0.3)
    pa, pb, pair = surrogate.predict([a, b, {"kind": "pair", "parts": [a, b]}], SAMPLE)
    assert pair.mean == pytest.approx(pa.mean + pb.mean)


def test_expected_improvement() -> None:
    assert expected_improvement(Prediction(0.02, 0.0), 0.01) == pytest.approx(0.01)
    assert expected_improvement(Prediction(0.0, 0.0), 0.01) == 0.0
    sure, unsure = Prediction(0.0, 0.001), Prediction(0.0, 0.02)
    assert expected_improvement(unsure, 0.01) > expected_improvement(sure, 0.01) > 0
    assert expected_improvement(Prediction(0.01, 0.01), 0.01) == pytest.approx(
        0.01 / math.sqrt(2 * math.pi)
    )


def test_choose_spreads_picks_over_knobs() -> None:
    candidates = [knob("num_leaves", 31, v) for v in (62, 15, 124, 8)]
    candidates += [knob("learning_rate", 0.1, 0.3), knob("max_depth", 6, 3)]
    scores = [1.0, 0.9, 0.8, 0.7, 0.1, 0.05]
    picks = choose(candidates, scores, 3, random.Random(0), random_share=0.0)
    assert picks == [0, 4, 5]  # the best num_leaves move, then the other knobs
    more = choose(candidates, scores, 5, random.Random(0), random_share=0.0)
    assert more == [0, 4, 5, 1, 2]  # once every knob had its turn, the best of the rest


def test_choose_mixes_in_random_picks_and_is_reproducible() -> None:
    candidates = [knob(f"k{i}", 1, 2) for i in range(40)]
    scores = [float(-i) for i in range(40)]
    greedy = choose(candidates, scores, 10, random.Random(3), random_share=0.0)
    mixed = choose(candidates, scores, 10, random.Random(3), random_share=0.5)
    assert greedy == list(range(10))
    assert len(set(mixed)) == 10 and set(mixed) != set(greedy)
    assert mixed == choose(candidates, scores, 10, random.Random(3), random_share=0.5)
    cold = choose(candidates, None, 40, random.Random(4))
    assert sorted(cold) == list(range(40))


def test_groups() -> None:
    a, b = knob("num_leaves", 31, 62), knob("num_leaves", 31, 15)
    assert group_of(a) == group_of(b) != group_of(knob("max_depth", 1, 2))
    drops = [{"kind": "drop", "op": "f", "columns": [c]} for c in "xy"]
    assert group_of(drops[0]) == group_of(drops[1])
    assert group_of({"kind": "pair", "parts": [a, drops[0]]}) == group_of(
        {"kind": "pair", "parts": [drops[1], b]}
    )
