"""Which results are worth keeping on disk, and which to evict over the storage budget.

Writing a result pays off when the next run is likely to read it instead of recomputing:
the expected saving is the time to recompute it (its own time plus its ancestors'),
weighted by the chance that its cache key survives the next edit, learned from which
operators the user has been editing lately (Helix). Over the budget, the entries with the
least expected saving per byte go first; age only discounts an entry that no current run
uses, it never decides alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ghostrun.reuse.store import Entry, Store

WRITE_SPEED = 250e6  # bytes/s: serialise, checksum, write
READ_SPEED = 400e6  # bytes/s, until measured
PER_ENTRY = 0.004  # seconds of fixed cost to write and read one entry
STALE_WEIGHT = 0.1  # chance that an entry no current run uses is wanted again (a revert)
STALE_HALF_LIFE = 24 * 3600.0  # seconds


def survival_chances(recent: Sequence[Mapping[str, str]], ops: Iterable[str]) -> dict[str, float]:
    """P(an operator's key survives the next edit): the share of recent edits that left
    it unchanged (its own code, knobs, data and everything upstream), Laplace-smoothed."""
    chances = {}
    for op in ops:
        seen = [edit[op] for edit in recent if op in edit]
        kept = sum(change == "unchanged" for change in seen)
        chances[op] = (kept + 1) / (len(seen) + 2)
    return chances


@dataclass(frozen=True)
class MaterializationPolicy:
    """Decides online, after each operator, whether its output is written to disk."""

    survival: Mapping[str, float]
    recompute_upstream: Mapping[str, float]  # estimated seconds of each op's ancestors
    read_speed: float = READ_SPEED
    write_speed: float = WRITE_SPEED

    def expected_saving(self, op: str, seconds: float) -> float:
        recompute = seconds + self.recompute_upstream.get(op, 0.0)
        return self.survival.get(op, 0.5) * recompute

    def storage_cost(self, nbytes: int) -> float:
        return PER_ENTRY + nbytes / self.write_speed + nbytes / self.read_speed

    def should_store(
        self, op: str, seconds: float, nbytes: int, *, is_metric: bool = False
    ) -> bool:
        """Metrics are always kept: they are the run's results, and a cached metric lets an
        edit that changes nothing compute nothing."""
        if is_metric:
            return True
        return self.expected_saving(op, seconds) > self.storage_cost(nbytes)


def entry_value(
    entry: Entry, survival: Mapping[str, float], current: Collection[str], now: float
) -> float:
    """Expected seconds saved per byte kept."""
    if entry.key in current:
        weight = survival.get(entry.op, 0.5)
    else:
        age = max(0.0, now - entry.last_used)
        weight = STALE_WEIGHT * math.pow(0.5, age / STALE_HALF_LIFE)
    return entry.seconds * weight / max(entry.nbytes, 1)


KEEP_SUPERSEDED = 2  # per operator, besides the entries the current run uses


def prune_superseded(
    store: Store, current: Collection[str], keep: int = KEEP_SUPERSEDED
) -> list[Entry]:
    """Per operator, drop entries of older versions beyond the `keep` most recently used.

    After an edit, an operator's old results are useful only if the user goes back; the
    last few cover an undo or an A/B back-and-forth, older ones mostly take space (each
    version of a train/test split is another copy of the feature table).
    """
    by_op: dict[str, list[Entry]] = {}
    for entry in store.entries():
        if entry.key not in current:
            by_op.setdefault(entry.op, []).append(entry)
    dropped = []
    for entries in by_op.values():
        entries.sort(key=lambda e: e.last_used, reverse=True)
        for entry in entries[keep:]:
            store.delete(entry.key)
            dropped.append(entry)
    if dropped:
        store.collect_garbage()
    return dropped


def enforce_budget(
    store: Store,
    budget: int,
    survival: Mapping[str, float],
    current: Collection[str],
    now: float | None = None,
) -> list[Entry]:
    """Evict the least valuable entries until the store fits `budget` bytes."""
    if store.total_bytes() <= budget:
        return []
    now = time.time() if now is None else now
    ranked = sorted(store.entries(), key=lambda e: entry_value(e, survival, current, now))
    evicted: list[Entry] = []
    # Blobs are shared between entries, so freed bytes are known only after collection.
    while ranked and store.total_bytes() > budget:
        estimate = store.total_bytes()
        while ranked and estimate > budget:
            entry = ranked.pop(0)
            store.delete(entry.key)
            evicted.append(entry)
            estimate -= entry.nbytes
        store.collect_garbage()
    return evicted
