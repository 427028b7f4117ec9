"""Estimated seconds to compute or load each operator, learned from the history.

Compute time is modelled per operator as a linear function of the row fraction it ran at
(rows scale with the sample), fitted on its recent computed executions; load time from the
bytes stored and the read speed measured on this machine by earlier loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ghostrun.history import OpExecution

DEFAULT_READ_SPEED = 400e6  # bytes/s, until loads have been measured here
LOAD_OVERHEAD = 0.002  # seconds per entry: open, checksum, manifest
UNKNOWN_COMPUTE = 1.0  # seconds, for an operator never computed before


class CostSource(Protocol):
    def op_history(self, op: str, *, limit: int = 200) -> list[OpExecution]: ...
    def load_throughput(self, *, limit: int = 200) -> tuple[int, float]: ...


@dataclass(frozen=True)
class LinearFit:
    intercept: float
    slope: float

    def __call__(self, x: float) -> float:
        return max(0.0, self.intercept + self.slope * x)


def fit_seconds(points: Sequence[tuple[float, float]]) -> LinearFit | None:
    """Least squares of seconds on row fraction; a constant when fractions are all equal."""
    if not points:
        return None
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    if var < 1e-12:
        # One fidelity only: assume time proportional to rows through that point.
        return LinearFit(0.0, mean_y / mean_x) if mean_x > 0 else LinearFit(mean_y, 0.0)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / var
    return LinearFit(mean_y - slope * mean_x, slope)


class CostModel:
    """Responsibilities: predict an operator's compute seconds at a fraction, and the
    seconds to load a stored result of a given size."""

    def __init__(self, source: CostSource | None = None, history_limit: int = 50):
        self._source = source
        self._limit = history_limit
        self._fits: dict[str, LinearFit | None] = {}
        self.read_speed = self._read_speed()

    def _read_speed(self) -> float:
        if self._source is None:
            return DEFAULT_READ_SPEED
        nbytes, seconds = self._source.load_throughput()
        if nbytes < 1 << 20 or seconds <= 0:
            return DEFAULT_READ_SPEED
        return nbytes / seconds

    def knows(self, op: str) -> bool:
        """Whether the history has timed this operator (else estimates are guesses)."""
        if op not in self._fits:
            self._fits[op] = self._fit(op)
        return self._fits[op] is not None

    def compute_seconds(self, op: str, fraction: float = 1.0) -> float:
        if op not in self._fits:
            self._fits[op] = self._fit(op)
        fit = self._fits[op]
        return fit(fraction) if fit else UNKNOWN_COMPUTE

    def _fit(self, op: str) -> LinearFit | None:
        if self._source is None:
            return None
        runs = self._source.op_history(op, limit=self._limit)
        points = [(r.fidelity.fraction, r.seconds) for r in runs if r.state == "computed"]
        return fit_seconds(points)

    def load_seconds(self, nbytes: int | None) -> float:
        return LOAD_OVERHEAD + (nbytes or 0) / self.read_speed
