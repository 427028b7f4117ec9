"""The variants of one base version measured so far, rung by rung, and what they imply.

`Frontier` is the bookkeeping of asynchronous successive halving (ASHA): which variants
go up a rung (the best third of those measured at a rung that may still improve), which
finding to confirm next when time runs short, which moves are the best so far (to pair
and to extend), and whether a knob walk is still climbing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ghostrun.history import TrialRecord
from ghostrun.suggest.halving import ETA, Score, promote
from ghostrun.suggest.trials import Measured
from ghostrun.suggest.variant import Variant


@dataclass
class VariantState:
    """One variant of the base: what each rung (by index) measured."""

    variant: Variant
    results: dict[int, Measured | TrialRecord] = field(default_factory=dict)

    def gain(self, rung: int) -> float | None:
        found = self.results.get(rung)
        return None if found is None or found.status != "ok" else found.gain

    def score(self, rung: int) -> Score:
        found = self.results.get(rung)
        return Score(self.variant.id, self.gain(rung), found.uncertainty if found else None)

    @property
    def top(self) -> int:
        """The highest rung measured (-1: none)."""
        return max(self.results, default=-1)

    def hopeful(self) -> bool:
        """Still possibly an improvement at the highest rung it reached."""
        top = self.top
        return top >= 0 and bool(promote([self.score(top)], keep=1))

    def summary(self) -> dict[str, Any]:
        result = self.results[self.top]
        fidelity = result.fidelity if isinstance(result, TrialRecord) else result.rung.fidelity
        return {
            "variant_id": self.variant.id,
            "description": self.variant.describe(),
            "fidelity": fidelity.to_json(),
            "delta": result.delta,
            "uncertainty": result.uncertainty,
        }


class Frontier:
    """Responsibilities: hold every measured variant of one base by rung; answer ASHA's
    questions about them."""

    def __init__(self, rungs: int):
        self.rungs = rungs
        self.states: dict[str, VariantState] = {}

    def __contains__(self, variant_id: object) -> bool:
        return variant_id in self.states

    def __iter__(self) -> Iterator[VariantState]:
        return iter(self.states.values())

    def get(self, variant_id: str) -> VariantState | None:
        return self.states.get(variant_id)

    def add(self, variant: Variant) -> VariantState:
        return self.states.setdefault(variant.id, VariantState(variant))

    def _measured(self, rung: int) -> list[VariantState]:
        return [s for s in self.states.values() if rung in s.results]

    def promotions(self) -> list[tuple[Variant, int]]:
        """At each rung (highest first), the best third (rounded down) of those measured
        there that may still improve and have not yet run at the next rung."""
        found = []
        for rung in reversed(range(self.rungs - 1)):
            measured = self._measured(rung)
            for key in promote([s.score(rung) for s in measured], keep=len(measured) // ETA):
                state = self.states[key]
                if rung + 1 not in state.results:
                    found.append((state.variant, rung + 1))
        return found

    def finisher(self) -> tuple[Variant, int] | None:
        """The best variant not yet confirmed on full data among the best third (rounded
        up) of its rung, with the rung it goes to next."""
        best: tuple[tuple[int, float], Variant, int] | None = None
        for rung in range(self.rungs - 1):
            measured = self._measured(rung)
            for key in promote([s.score(rung) for s in measured]):
                state = self.states[key]
                if state.top == rung:
                    rank = (rung, state.gain(rung) or 0.0)
                    if best is None or rank > best[0]:
                        best = (rank, state.variant, rung + 1)
        return None if best is None else (best[1], best[2])

    def best(self, *, combined: bool, k: int) -> list[VariantState]:
        """The `k` best hopeful variants with a positive gain (single moves, or combined
        ones), by the highest rung reached, then the gain there."""
        found = [
            s for s in self.states.values()
            if (s.variant.kind == "pair") == combined and s.hopeful() and (s.gain(s.top) or 0) > 0
        ]  # fmt: skip
        found.sort(key=lambda s: (-s.top, -(s.gain(s.top) or 0.0)))
        return found[:k]

    def climbing(self, state: VariantState) -> bool:
        """A knob move is worth extending again only while it clearly beats the shorter
        move of the same knob before it (by 1% of its gain): a plateau (a ridge penalty
        already near zero) ends the walk instead of stepping on to the knob's bound."""
        before = self._shorter(state)
        if before is None:
            return True
        rung = min(state.top, before.top)
        mine, theirs = state.gain(rung), before.gain(rung)
        if mine is None or theirs is None:
            return False
        return mine > theirs + 0.01 * abs(theirs)

    def _shorter(self, state: VariantState) -> VariantState | None:
        """The measured move of the same knob from the same value, nearest short of it."""
        change = state.variant.to_json()
        if change.get("kind") != "knob":
            return None
        old, new = change.get("old"), change.get("new")
        best: tuple[float, VariantState] | None = None
        for other in self.states.values():
            c = other.variant.to_json()
            same = c.get("kind") == "knob" and (c.get("op"), c.get("knob"), c.get("old")) == (
                change.get("op"), change.get("knob"), old,
            )  # fmt: skip
            if same and other.top >= 0 and _strictly_between(c.get("new"), old, new):
                distance = abs(_log(new) - _log(c.get("new")))
                if best is None or distance < best[0]:
                    best = (distance, other)
        return None if best is None else best[1]

    def leaders(self, n: int) -> list[dict[str, Any]]:
        """Summaries of the `n` best measured variants (highest rung, then gain)."""
        measured = [s for s in self.states.values() if s.top >= 0 and s.gain(s.top) is not None]
        measured.sort(key=lambda s: (-s.top, -(s.gain(s.top) or 0.0)))
        return [s.summary() for s in measured[:n]]


def _strictly_between(value: Any, a: Any, b: Any) -> bool:
    numbers = [v for v in (value, a, b) if isinstance(v, int | float) and not isinstance(v, bool)]
    return len(numbers) == 3 and min(a, b) < value < max(a, b)


def _log(value: Any) -> float:
    return math.log(value) if isinstance(value, int | float) and value > 0 else float(value)
