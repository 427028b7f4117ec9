"""Which variants to try next: a forest fitted on past trials, expected improvement, diversity.

The surrogate learns gain (the primary metric's delta in the goal's direction) from what a
change is — its kind, operator, knob, the log-ratio and direction of a knob move, where the
knob started, the estimator swapped to, how many columns dropped — and the fidelity it was
measured at. A random forest gives a mean and, from the spread of its trees, an
uncertainty; candidates are ranked by expected improvement over the best gain seen. A
greedy pick by expected improvement alone tends to spend everything on one knob, so
`choose` caps picks per knob in a batch and mixes in a few random ones.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ghostrun.workflow.types import Fidelity

MIN_OBSERVATIONS = 6  # below this, a fitted forest is mostly noise: pick for diversity
Change = Mapping[str, Any]


@dataclass(frozen=True)
class Observation:
    """A measured single-move change: its gain at a fidelity."""

    change: Change
    fidelity: Fidelity
    gain: float


@dataclass(frozen=True)
class Prediction:
    mean: float
    std: float


def group_of(change: Change) -> Hashable:
    """What diversity counts as "the same idea": one knob, an operator's estimator, an
    operator's column drops; a pair belongs to the groups of its parts (the first here)."""
    kind = change.get("kind")
    if kind == "pair":
        parts = list(change.get("parts") or [])
        return ("pair", *sorted(str(group_of(p)) for p in parts))
    if kind == "knob":
        return ("knob", change.get("op"), change.get("knob"))
    return (str(kind), change.get("op"))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


class FeatureSpace:
    """Numeric features of single-move changes; categories coded by a vocabulary built from
    every change the space was given (trees split codes fine; only equality matters)."""

    COLUMNS = (
        "is_knob", "is_estimator", "is_drop", "op", "knob", "param", "numeric", "direction",
        "log_ratio", "log_old", "bool_new", "choice_new", "estimator_new", "n_dropped",
        "log_fraction", "budget",
    )  # fmt: skip

    def __init__(self, changes: Sequence[Change]):
        self._codes: dict[tuple[str, str], int] = {}
        for change in changes:
            self.row(change, Fidelity())

    def _code(self, field: str, value: Any) -> float:
        key = (field, repr(value))
        if key not in self._codes:
            self._codes[key] = len(self._codes) + 1
        return float(self._codes[key])

    def row(self, change: Change, fidelity: Fidelity) -> list[float]:
        kind = change.get("kind")
        knob = str(change.get("knob", ""))
        old, new = change.get("old"), change.get("new")
        n_old, n_new = _number(old), _number(new)
        numeric = n_old is not None and n_new is not None
        positive = numeric and n_old > 0 and n_new > 0  # type: ignore[operator]
        log_ratio = math.log(n_new / n_old) if positive else 0.0  # type: ignore[operator]
        direction = float(np.sign(n_new - n_old)) if numeric else 0.0  # type: ignore[operator]
        return [
            float(kind == "knob"),
            float(kind == "estimator"),
            float(kind == "drop"),
            self._code("op", change.get("op")),
            self._code("knob", (change.get("op"), knob)) if kind == "knob" else 0.0,
            self._code("param", knob.rsplit(".", 1)[-1]) if kind == "knob" else 0.0,
            float(numeric),
            direction,
            log_ratio,
            math.log(n_old) if positive else 0.0,  # type: ignore[arg-type]
            float(new) if isinstance(new, bool) else -1.0,
            self._code("choice", new) if kind == "knob" and not numeric else 0.0,
            self._code("estimator", new) if kind == "estimator" else 0.0,
            float(len(change.get("columns") or ())),
            math.log2(max(fidelity.fraction, 1e-6)),
            float(fidelity.budget),
        ]


class Surrogate:
    """Responsibilities: fit gains of past single moves; predict a mean and an uncertainty
    for new changes (pairs as the sum of their parts)."""

    def __init__(self, *, seed: int = 0, trees: int = 64):
        self.seed = seed
        self.trees = trees
        self._forest: Any = None
        self._space: FeatureSpace | None = None
        self._floor = 0.0

    @property
    def fitted(self) -> bool:
        return self._forest is not None

    def fit(self, observations: Sequence[Observation], candidates: Sequence[Change] = ()) -> bool:
        """Fit on `observations` (pairs are skipped); False when there are too few."""
        from sklearn.ensemble import RandomForestRegressor  # heavy: only once needed

        singles = [o for o in observations if o.change.get("kind") != "pair"]
        if len(singles) < MIN_OBSERVATIONS:
            self._forest = None
            return False
        self._space = FeatureSpace([*(o.change for o in singles), *_singles(candidates)])
        X = np.array([self._space.row(o.change, o.fidelity) for o in singles])
        y = np.array([o.gain for o in singles])
        self._forest = RandomForestRegressor(
            n_estimators=self.trees, min_samples_leaf=2, random_state=self.seed, n_jobs=1
        ).fit(X, y)
        # The trees' spread collapses where they all agree; keep some doubt everywhere.
        self._floor = 0.1 * float(np.std(y)) if len(y) > 1 else 0.0
        return True

    def predict(self, changes: Sequence[Change], fidelity: Fidelity) -> list[Prediction]:
        if self._forest is None or self._space is None:
            raise ValueError("the surrogate is not fitted; call fit() with enough trials first.")
        return [self._predict_one(self._space, c, fidelity) for c in changes]

    def _predict_one(self, space: FeatureSpace, change: Change, fidelity: Fidelity) -> Prediction:
        X = np.array([space.row(p, fidelity) for p in _parts(change)])
        per_tree = np.stack([tree.predict(X) for tree in self._forest.estimators_])
        sums = per_tree.sum(axis=1)  # a pair: its parts' gains added, tree by tree
        return Prediction(float(sums.mean()), max(float(sums.std()), self._floor))


def _parts(change: Change) -> list[Change]:
    if change.get("kind") == "pair":
        return [p for part in change.get("parts") or [] for p in _parts(part)]
    return [change]


def _singles(changes: Sequence[Change]) -> list[Change]:
    return [p for c in changes for p in _parts(c)]


def expected_improvement(pred: Prediction, best: float) -> float:
    """E[max(gain − best, 0)] for a normal gain with the predicted mean and std."""
    if pred.std <= 0:
        return max(pred.mean - best, 0.0)
    z = (pred.mean - best) / pred.std
    cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return (pred.mean - best) * cdf + pred.std * pdf


def choose(
    candidates: Sequence[Change], scores: Sequence[float] | None, k: int, rng: random.Random,
    *, per_group: int = 1, random_share: float = 0.25,
) -> list[int]:  # fmt: skip
    """Indices of `k` candidates to try: best `scores` first (all equal when None: a cold
    start picks at random), at most `per_group` per group while other groups have
    candidates left, and about `random_share` of the picks at random for diversity."""
    order = list(range(len(candidates)))
    rng.shuffle(order)  # ties (and a cold start) broken at random
    if scores is not None:
        order.sort(key=lambda i: -scores[i])
    chosen: list[int] = []
    counts: dict[Hashable, int] = {}
    while len(chosen) < min(k, len(candidates)):
        open_ = [i for i in order if i not in chosen]
        capped = [i for i in open_ if counts.get(group_of(candidates[i]), 0) < per_group]
        pool = capped or open_
        pick = rng.choice(pool) if rng.random() < random_share else pool[0]
        chosen.append(pick)
        group = group_of(candidates[pick])
        counts[group] = counts.get(group, 0) + 1
        if not capped:
            per_group += 1  # every group is at its cap: allow one more each
    return chosen
