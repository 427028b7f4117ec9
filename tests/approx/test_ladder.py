"""Ladder sizing, paired deltas and extrapolation: the pure parts of approximate runs."""

from __future__ import annotations

import pytest

from ghostrun.approx.ladder import (
    FIRST_SEEDS,
    SHORT_RUN,
    SeedResults,
    critical_value,
    extrapolate,
    paired_delta,
    plan_ladder,
    short_run,
)
from ghostrun.workflow.types import FULL, Fidelity


def linear(full_seconds: float):
    """A runtime model where time is proportional to rows and budget."""
    return lambda f: full_seconds * f.fraction * f.budget


def test_short_runs_go_straight_to_full() -> None:
    stages = plan_ladder(linear(SHORT_RUN / 2))
    assert [s.fidelity for s in stages] == [FULL]


def test_no_history_runs_full_unless_approx_asked() -> None:
    assert [s.fidelity for s in plan_ladder(None)] == [FULL]
    (only,) = plan_ladder(None, approx_only=True)
    assert only.fidelity.fraction < 1 and only.seeds == FIRST_SEEDS


@pytest.mark.parametrize("full_seconds", [30.0, 120.0, 600.0])
def test_stages_fit_their_share_of_the_full_time(full_seconds: float) -> None:
    predict = linear(full_seconds)
    stages = plan_ladder(predict)
    assert stages[-1].fidelity == FULL
    first = stages[0]
    assert first.seeds == FIRST_SEEDS
    assert predict(first.fidelity) <= full_seconds / 30 + 1e-9
    fractions = [s.fidelity.fraction for s in stages]
    assert fractions == sorted(set(fractions))


def test_full_only_and_approx_only() -> None:
    assert [s.fidelity for s in plan_ladder(linear(100), full_only=True)] == [FULL]
    assert all(s.fidelity.fraction < 1 for s in plan_ladder(linear(100), approx_only=True))


def test_parent_fidelities_are_preferred_so_deltas_are_paired() -> None:
    parent = Fidelity(fraction=0.03, budget=0.25)
    stages = plan_ladder(linear(100.0), preferred=[parent])
    assert stages[0].fidelity == parent


def test_a_parent_fidelity_wins_over_a_better_sized_unpaired_one() -> None:
    small, large = Fidelity(0.02, budget=0.25), Fidelity(0.5, budget=0.25)
    # linear(100): the first stage's share is 3.3 s; 0.02 takes 0.5 s, 0.5 takes 12.5 s
    assert plan_ladder(linear(100.0), preferred=[small])[0].fidelity == small
    assert plan_ladder(linear(100.0), preferred=[large])[0].fidelity == large
    unpaired = plan_ladder(linear(100.0))[0].fidelity
    assert unpaired not in (small, large)


def test_stages_are_sized_on_the_whole_workflow() -> None:
    # the edited operator has a fixed cost: sized on it alone, nothing would fit
    def edited(f: Fidelity) -> float:
        return 2.0 + 10.0 * f.fraction * f.budget

    whole = linear(400.0)
    own = plan_ladder(edited, approx_only=True)[0].fidelity
    sized = plan_ladder(edited, size=whole, approx_only=True)[0].fidelity
    assert sized.fraction > own.fraction
    assert whole(sized) <= whole(FULL) / 30


def test_the_hot_worker_approximates_shorter_runs() -> None:
    assert short_run(hot=True) < short_run(hot=False) == SHORT_RUN
    seconds = (short_run(hot=True) + SHORT_RUN) / 2
    assert [s.fidelity for s in plan_ladder(linear(seconds))] == [FULL]
    assert len(plan_ladder(linear(seconds), short=short_run(hot=True))) > 1


def test_min_fraction_is_respected() -> None:
    stages = plan_ladder(linear(1000.0), min_fraction=0.1)
    assert stages[0].fidelity.fraction >= 0.1


def test_paired_delta_mean_and_standard_error() -> None:
    delta, error = paired_delta(SeedResults([0.80, 0.82, 0.81], [0.79, 0.80, 0.80]))
    assert delta == pytest.approx(0.0133333, abs=1e-6)
    assert error == pytest.approx(0.0033333, abs=1e-6)


def test_paired_delta_skips_seeds_the_parent_lacks() -> None:
    assert paired_delta(SeedResults([0.8, 0.9], [None, None])) == (None, None)
    delta, error = paired_delta(SeedResults([0.8, 0.9], [0.7, None]))
    assert delta == pytest.approx(0.1) and error is None


def test_fewer_pairs_need_a_wider_margin() -> None:
    assert critical_value(2) > critical_value(3) > critical_value(6) > 0
    assert critical_value(1) == 0.0


def test_extrapolation_follows_a_learning_curve() -> None:
    curve = [(f, 0.9 - 0.05 / f**0.5) for f in (0.05, 0.2)]
    assert extrapolate(curve) == pytest.approx(0.85)
    assert extrapolate([(0.1, 0.8)]) is None
