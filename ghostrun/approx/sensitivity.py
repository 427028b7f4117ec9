"""Which edits a small sample or a scaled budget is likely to judge the wrong way round.

A learning curve's slope depends on the model's capacity and step size: more leaves,
deeper trees, more rounds or a different learning rate can lose on 5% of the rows (or
with a quarter of the rounds at a larger step) and win on all of them. Measured on the
fidelity bench (bench/approx/study.py), such edits gave paired deltas that were consistent
across sample seeds (|t| > 10) and still of the wrong sign, which no margin on the seeds'
spread can catch, and they were off by more than other edits. So the bias a verdict must
clear at a fidelity (`ghostrun.engine.pairing`) only counts for such an edit once such an
edit is on that fidelity's record.

Knobs that count rows are alike: a `min_count` threshold pools the categories seen fewer
times than it, and on a 10% sample every category is seen a tenth as often, so the same
threshold pools far more of them; on the bench such an edit's 10% stage pointed the other
way from the full run.

A budget or learning-rate edit is further off on a budget-scaled stage: that stage runs a
quarter of the rounds at a learning rate raised to compensate, so it measures another
edit (on the 1M-row replay session a learning-rate edit that was noise in full read
+0.018 AUC, beyond every other edit's record). Its record there only counts once such an
edit is on it (`moves_rescaled_knob`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ghostrun.approx.scaling import BUDGET_PARAMS, RATE_PARAMS
from ghostrun.workflow.types import Change, OpChange, Operator

__all__ = [
    "CAPACITY_PARAMS", "COUNT_PARAMS", "knob_names", "moves_rescaled_knob", "scale_sensitive"
]

# Knobs that set how much a tree ensemble can fit, by their usual names across
# scikit-learn, LightGBM and XGBoost.
CAPACITY_PARAMS = frozenset({
    "num_leaves", "max_leaves", "max_leaf_nodes", "max_depth", "min_child_samples",
    "min_child_weight", "min_data_in_leaf", "min_samples_leaf", "min_samples_split",
    "min_sum_hessian_in_leaf", "max_bin", "max_features", "colsample_bytree", "subsample",
    "reg_lambda", "reg_alpha", "lambda_l1", "lambda_l2", "l2_regularization", "gamma",
})
# Knobs compared with row counts (how often a value occurs), by their usual names.
COUNT_PARAMS = frozenset({
    "min_count", "min_counts", "min_freq", "min_frequency", "min_df", "max_df", "min_support",
    "min_occurrences", "min_category_count", "rare_threshold", "min_rows", "min_group_size",
})
_RESCALED = BUDGET_PARAMS | RATE_PARAMS
_MODEL = CAPACITY_PARAMS | _RESCALED
_SENSITIVE = _MODEL | COUNT_PARAMS


def scale_sensitive(changes: Iterable[OpChange], knobs: Mapping[str, Iterable[str]]) -> bool:
    """Whether the edit moved a budget, learning-rate, capacity or row-count knob, or
    changed the code of an operator that fits a model (one with a budget, rate or capacity
    knob: an estimator swap, a new model). `knobs`: each operator's knob names, in this
    version."""
    for change in changes:
        if change.change == Change.KNOB and any(_param(k) in _SENSITIVE for k in change.knobs):
            return True
        fits = any(_param(k) in _MODEL for k in knobs.get(change.op, ()))
        if change.change in (Change.CODE, Change.NEW) and fits:
            return True
    return False


def moves_rescaled_knob(changes: Iterable[OpChange]) -> bool:
    """Whether the edit moved a knob that budget scaling rewrites (a boosting budget or a
    learning rate), by its usual name."""
    return any(
        change.change == Change.KNOB and any(_param(k) in _RESCALED for k in change.knobs)
        for change in changes
    )


def knob_names(operators: Mapping[str, Operator]) -> dict[str, list[str]]:
    """Operator → knob names, as `scale_sensitive` takes them, from a loaded workflow."""
    return {name: [k.name for k in op.knobs] for name, op in operators.items()}


def _param(knob: str) -> str:
    return knob.rsplit(".", 1)[-1]
