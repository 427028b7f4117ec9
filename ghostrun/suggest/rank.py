"""Ranking what exploration found into suggestions, from the history alone (DESIGN §7, §8).

A variant is suggested only as an improvement: its paired delta at the highest fidelity it
was measured at must point the goal's way (`evidence`). Suggestions come in three tiers:
confirmed on the full data beyond noise; better beyond noise on samples but not yet
confirmed; and improvements within noise, flagged as unconfirmed in `why`. Within a tier
they are ordered by the gain less one standard error, so a large but shaky gain does not
outrank a solid one; where findings were also measured on other train/test splits, those
come before the ones seen on a single split (one split's best delta is the luckiest).

Two more rules keep the list honest. A combination ranks above its simpler parts only
when it beats the best measured part beyond noise (otherwise the extra parts are noise
picked for luck). And each idea appears once: `alpha 1 → 0.06` and `alpha 1 → 0.03` are
one suggestion, the better ranked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ghostrun.history import History, TrialRecord
from ghostrun.suggest.evidence import (
    CONFIRMED,
    LIKELY,
    UNCONFIRMED,
    Evidence,
    evidence,
    part_keys,
)
from ghostrun.suggest.variant import Variant
from ghostrun.workflow.types import VersionSnapshot
from ghostrun.workflow.version import Version


@dataclass(frozen=True)
class Suggestion:
    """One change worth making to `base_version`, with its evidence."""

    rank: int
    variant: Variant
    description: str
    op: str
    location: str
    expected_delta: float
    uncertainty: float | None
    fidelities: list[float]
    runs: int
    confirmed_full: bool
    seconds: float | None  # measured time of the variant's full run, when known
    why: str
    base_version: str
    base_fingerprints: Mapping[str, str]

    @property
    def id(self) -> str:
        return self.variant.id

    def to_json(self) -> dict[str, Any]:
        """One entry of `ghostrun suggest --json` (DESIGN §8), plus `why`, `seconds` and
        what `apply` checks (`base_version`, `base_fingerprints`)."""
        return {
            "id": self.id,
            "rank": self.rank,
            "description": self.description,
            "op": self.op,
            "location": self.location,
            "change": self.variant.to_json(),
            "expected_delta": self.expected_delta,
            "uncertainty": self.uncertainty,
            "evidence": {
                "fidelities": list(self.fidelities),
                "runs": self.runs,
                "confirmed_full": self.confirmed_full,
            },
            "why": self.why,
            "seconds": self.seconds,
            "base_version": self.base_version,
            "base_fingerprints": dict(self.base_fingerprints),
        }


VersionRef = Version | VersionSnapshot | str | None


def suggestions(history: History, version: VersionRef = None, n: int = 10) -> list[Suggestion]:
    """Ranked by expected improvement of the primary metric (goal-aware), from the history
    alone (no daemon needed). `version` is the version to suggest changes to (a Version,
    a snapshot or a version id); by default the version last run by the user or explored,
    whichever came later."""
    base = _base_id(history, version)
    if base is None:
        return []
    measured = evidence(history, base)
    places: dict[str, _Ranked] = {}
    ranked = [_place(e, measured, places) for e in measured if e.tier is not None]
    ranked.sort(key=_order)
    return [r.suggestion(rank) for rank, r in enumerate(_distinct(ranked)[:n], start=1)]


def _order(r: _Ranked) -> tuple[int, bool, float, str]:
    """Tier; within it, measured on other splits before seen on one; then the score."""
    return r.tier, r.evidence.awaits_splits, -r.score, r.evidence.record.variant_id


def _base_id(history: History, version: VersionRef) -> str | None:
    if isinstance(version, Version | VersionSnapshot):
        return version.version_id
    if isinstance(version, str):
        return history.resolve_version(version)
    return _latest_base(history)


def _latest_base(history: History) -> str | None:
    """The version last run by the user or explored, whichever happened later (exploring
    the version on disk needs no user run of it first)."""
    user = history.runs(kind="user", limit=1)
    explored = history.trials(limit=1)
    if explored and (not user or explored[0].created >= user[0].started):
        return explored[0].base_version
    return user[0].version_id if user else None


@dataclass(frozen=True)
class _Ranked:
    """A suggestion's place: its evidence's tier and score, or those of a simpler part
    it does not clearly beat (`simpler`)."""

    evidence: Evidence
    tier: int
    score: float
    simpler: Evidence | None = None

    def suggestion(self, rank: int) -> Suggestion:
        e, record = self.evidence, self.evidence.record
        return Suggestion(
            rank=rank, variant=e.variant, description=record.description,
            op=",".join(record.ops), location=record.location,
            expected_delta=float(e.best.delta or 0.0), uncertainty=e.error,
            fidelities=e.fidelities, runs=e.runs, confirmed_full=self.tier == CONFIRMED,
            seconds=e.seconds, why=self._why(), base_version=record.base_version,
            base_fingerprints=record.base_fingerprints,
        )  # fmt: skip

    def _why(self) -> str:
        e = self.evidence
        metric = e.best.metric or "the primary metric"
        delta = f"{metric} {_with_error(e.best.delta or 0.0, e.error)}"
        where = _where(e.best)
        if e.splits is not None:
            mean, error, n = e.splits
            gain = f"mean gain {_with_error(mean, error)} over {n} train/test splits"
            if e.tier == CONFIRMED:
                text = f"confirmed on full data: {delta} on your split, {gain}"
            else:
                text = f"unconfirmed: {delta} on your split, but {gain} is within noise"
        elif e.tier == CONFIRMED:
            ladder = f", after {_plural(len(e.fidelities) - 1, 'sample rung')}"
            lower = ladder if len(e.fidelities) > 1 else ""
            text = f"confirmed on full data{lower}: {delta} paired with your version"
        elif e.awaits_splits and e.best.fidelity.is_full:
            text = f"unconfirmed: {delta} on your split, not yet measured on other splits"
        elif e.tier == LIKELY:
            text = f"better on {where}: {delta}; not yet confirmed on full data"
        else:
            text = f"unconfirmed: {delta} on {where} is within noise"
        if self.simpler is not None:
            simpler = self.simpler.record.description
            return f"unconfirmed: {delta} on {where}, no clear gain over {simpler} alone"
        return text


def _place(e: Evidence, measured: Sequence[Evidence], places: dict[str, _Ranked]) -> _Ranked:
    """`e`'s tier and score; a combination that does not clearly beat its best measured
    part takes the part's place (never confirmed), just behind it — unless the part is
    less established (confirmed beats unconfirmed, whatever the extra parts add)."""
    key = e.record.variant_id
    if key not in places:
        tier = e.tier if e.tier is not None else UNCONFIRMED
        part = _best_part(e, measured)
        behind = None if part is None else _place(part, measured, places)
        if behind is not None and behind.tier <= tier and not _clears(e, behind.evidence):
            tier = max(tier, min(behind.tier, UNCONFIRMED), LIKELY)
            places[key] = _Ranked(e, tier, behind.score - 1e-9 * len(e.variant.parts), part)
        else:
            places[key] = _Ranked(e, tier, e.score)
    return places[key]


def _best_part(e: Evidence, measured: Sequence[Evidence]) -> Evidence | None:
    """The best measured variant made of a strict subset of `e`'s parts."""
    mine = part_keys(e.variant)
    if len(mine) < 2:
        return None
    parts = [m for m in measured if m.gain is not None and part_keys(m.variant) < mine]
    return max(parts, key=lambda m: m.score, default=None)


def _clears(e: Evidence, part: Evidence) -> bool:
    """Does `e` beat its part beyond the noise of its own delta?"""
    (gain, error), (theirs, _) = e.estimate, part.estimate
    return gain - theirs > e.z * error and gain > theirs


def _distinct(ranked: list[_Ranked]) -> list[_Ranked]:
    """The best of each idea only: `alpha 1 → 0.06` and `alpha 1 → 0.03` are one
    suggestion (the better ranked), as are two swaps of the same estimator."""
    seen: set[frozenset[tuple[Any, ...]]] = set()
    kept = []
    for r in ranked:
        key = frozenset(_idea(p) for p in r.evidence.variant.parts)
        if key not in seen:
            seen.add(key)
            kept.append(r)
    return kept


def _idea(part: Mapping[str, Any]) -> tuple[Any, ...]:
    kind, op = part.get("kind"), part.get("op")
    if kind == "knob":
        return (kind, op, part.get("knob"))
    if kind == "drop":
        return (kind, op, *sorted(map(str, part.get("columns") or ())))
    return (kind, op)


def _where(trial: TrialRecord) -> str:
    f = trial.fidelity
    if f.is_full:
        return "full data"
    seeds = len(trial.runs)
    return f"{f.fraction:.0%} samples ({_plural(seeds, 'seed')})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _with_error(value: float, error: float | None) -> str:
    """`+0.0123 ± 0.0026`: the value to the decimals its error warrants (or 3 digits)."""
    sign = "+" if value >= 0 else "−"
    if error is None or error <= 0 or not math.isfinite(error):
        return f"{sign}{abs(value):.3g}"
    decimals = max(0, 1 - math.floor(math.log10(error)))
    return f"{sign}{abs(value):.{decimals}f} ± {error:.{decimals}f}"
