"""Budget scaling: fewer rounds (rounded, floored, never more) and a compensating rate."""

from __future__ import annotations

from typing import Any

import pytest

from ghostrun.approx import compensated_learning_rate, scaled_budget

BUDGETS: list[tuple[str, dict[str, Any], int]] = [
    ("tenth", {"value": 600, "scale": 0.1}, 60),
    ("full-scale", {"value": 600, "scale": 1.0}, 600),
    ("rounds-half-up", {"value": 25, "scale": 0.5}, 13),
    ("rounds-down", {"value": 101, "scale": 0.1}, 10),
    ("float-budget", {"value": 200.0, "scale": 0.25}, 50),
    ("floored-at-minimum", {"value": 100, "scale": 0.01}, 10),
    ("custom-minimum", {"value": 100, "scale": 0.01, "minimum": 25}, 25),
    ("zero-minimum", {"value": 100, "scale": 0.001, "minimum": 0}, 0),
    ("already-below-minimum-kept", {"value": 5, "scale": 0.1}, 5),
    ("never-raised-by-the-floor", {"value": 12, "scale": 0.5}, 10),
    ("sentinel-kept", {"value": -1, "scale": 0.1}, -1),
]


@pytest.mark.parametrize(
    ("kwargs", "expected"), [b[1:] for b in BUDGETS], ids=[b[0] for b in BUDGETS]
)
def test_scaled_budget(kwargs: dict[str, Any], expected: int) -> None:
    result = scaled_budget(**kwargs)
    assert result == expected and type(result) is int


RATES: list[tuple[str, dict[str, Any], float]] = [
    ("tenth", {"lr": 0.03, "scale": 0.1}, 0.3),
    ("full-scale", {"lr": 0.05, "scale": 1.0}, 0.05),
    ("capped", {"lr": 0.1, "scale": 0.1}, 0.5),
    ("custom-cap", {"lr": 0.1, "scale": 0.1, "cap": 0.8}, 0.8),
    ("above-cap-kept", {"lr": 0.9, "scale": 0.1}, 0.9),
    ("exactly-at-cap", {"lr": 0.05, "scale": 0.1}, 0.5),
]


@pytest.mark.parametrize(("kwargs", "expected"), [r[1:] for r in RATES], ids=[r[0] for r in RATES])
def test_compensated_learning_rate(kwargs: dict[str, Any], expected: float) -> None:
    assert compensated_learning_rate(**kwargs) == pytest.approx(expected)


def test_rounds_times_rate_is_kept_when_uncapped() -> None:
    rounds, lr = 500, 0.02
    for scale in (0.5, 0.2, 0.1):
        new_rounds = scaled_budget(rounds, scale)
        new_lr = compensated_learning_rate(lr, new_rounds / rounds)
        assert new_rounds * new_lr == pytest.approx(rounds * lr)
        assert new_rounds < rounds


BAD: list[tuple[str, Any, dict[str, Any]]] = [
    ("budget-scale-zero", scaled_budget, {"value": 100, "scale": 0}),
    ("budget-scale-above-one", scaled_budget, {"value": 100, "scale": 2.0}),
    ("budget-scale-nan", scaled_budget, {"value": 100, "scale": float("nan")}),
    ("budget-value-inf", scaled_budget, {"value": float("inf"), "scale": 0.5}),
    ("budget-value-text", scaled_budget, {"value": "100", "scale": 0.5}),
    ("budget-value-bool", scaled_budget, {"value": True, "scale": 0.5}),
    ("budget-minimum-negative", scaled_budget, {"value": 100, "scale": 0.5, "minimum": -1}),
    ("rate-zero", compensated_learning_rate, {"lr": 0.0, "scale": 0.5}),
    ("rate-scale-zero", compensated_learning_rate, {"lr": 0.1, "scale": 0.0}),
    ("rate-cap-negative", compensated_learning_rate, {"lr": 0.1, "scale": 0.5, "cap": -1}),
]


@pytest.mark.parametrize(("fn", "kwargs"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_arguments_are_value_errors(fn: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        fn(**kwargs)
