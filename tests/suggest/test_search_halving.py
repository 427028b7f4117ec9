"""Successive halving on synthetic numbers: rungs, bracket sizes, promotion."""

from __future__ import annotations

import pytest

from ghostrun.suggest.halving import (
    FULL_RUNG,
    Rung,
    Score,
    bracket_cost,
    bracket_size,
    plan_rungs,
    promote,
    survivors,
)
from ghostrun.workflow.types import FULL, Fidelity


def linear(full_seconds: float):
    """A run whose time is proportional to rows and to the boosting budget."""
    return lambda f: full_seconds * f.fraction * f.budget


def test_a_short_or_unknown_run_explores_on_full_data_only() -> None:
    assert plan_rungs(None) == [FULL_RUNG]
    assert plan_rungs(linear(2.0)) == [FULL_RUNG]


def test_a_long_run_gets_a_cheap_seeded_rung_then_a_middle_one_then_full() -> None:
    first, second, full = plan_rungs(linear(100.0))
    assert (first.seeds, first.fidelity.budget) == (3, 0.25)
    assert first.fidelity.fraction < second.fidelity.fraction < 1
    assert 100.0 * first.fidelity.fraction * 0.25 <= 100.0 / 30
    assert (second.seeds, full) == (2, FULL_RUNG)
    assert [f.seed for f in first.fidelities()] == [0, 1, 2]
    assert FULL_RUNG.fidelities() == [FULL]


def test_a_fidelity_the_base_already_ran_at_is_preferred() -> None:
    known = Fidelity(0.05, budget=0.25, seed=2)
    first = plan_rungs(linear(100.0), preferred=[known])[0]
    assert first.fidelity == Fidelity(0.05, budget=0.25)
    too_big = Fidelity(0.5, budget=0.25)
    assert plan_rungs(linear(100.0), preferred=[too_big])[0].fidelity != too_big


@pytest.mark.parametrize(("n", "kept"), [(0, 0), (1, 1), (2, 1), (3, 1), (4, 2), (9, 3), (10, 4)])
def test_the_best_third_survive(n: int, kept: int) -> None:
    assert survivors(n) == kept


def test_bracket_cost_and_size_follow_the_halving() -> None:
    costs = [1.0, 4.0, 10.0]  # per variant: rung 0, rung 1, full
    assert bracket_cost(costs, 9) == 9 * 1 + 3 * 4 + 1 * 10
    assert bracket_size(costs, 31.0, most=50) == 9
    assert bracket_size(costs, 30.9, most=50) < 9
    assert bracket_size(costs, 1000.0, most=12) == 12
    assert bracket_size(costs, 5.0, most=12) == 0  # not even one variant up to full
    assert bracket_size([2.0], 7.0, most=12) == 3  # full data only: n variants, n runs


def test_promotion_keeps_the_best_third_of_those_that_may_improve() -> None:
    scores = [Score("a", 0.03, 0.01), Score("b", 0.02, 0.01), Score("c", 0.01, 0.01),
              Score("d", -0.01, 0.005), Score("e", None), Score("f", 0.05, 0.01)]  # fmt: skip
    assert promote(scores) == ["f", "a"]  # 6 measured → 2 promoted, best first
    assert promote(scores, keep=10) == ["f", "a", "b", "c"]  # d is clearly worse, e failed


def test_nothing_is_promoted_when_every_variant_is_clearly_worse() -> None:
    scores = [Score("a", -0.02, 0.005), Score("b", -0.01, 0.001), Score("c", 0.0, None)]
    assert promote(scores) == []


def test_a_noisy_small_loss_may_still_be_promoted() -> None:
    # within one standard error of zero: the cheap rung cannot tell it apart from a gain
    scores = [Score("a", -0.001, 0.01), Score("b", -0.05, 0.01), Score("c", -0.04, 0.01)]
    assert promote(scores) == ["a"]
    assert promote(scores, z=0.0) == []


def test_rungs_compare_by_value() -> None:
    assert Rung(Fidelity(0.1, budget=0.25), 3) == Rung(Fidelity(0.1, budget=0.25), 3)
    assert Rung(Fidelity(0.1), 2).fidelities()[1] == Fidelity(0.1, seed=1)
