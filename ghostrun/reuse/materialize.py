"""Which results are worth keeping on disk, and which to evict over the storage budget.

Writing a result pays off when later runs read it instead of recomputing it (Helix). The
saving per read is the time to get the result back without its entry: its own compute
time plus, for each input, reading that input if it is kept, or else getting it back the
same way, so ancestors that are themselves kept cost a read, not their whole chain. How
many later runs read it follows from the chance that its cache key survives an edit,
learned from which operators the user has been editing lately: a key that survives each
edit with chance p serves p + p² + … = p/(1-p) more runs. Over the budget, the entries
with the least expected saving per byte go first; age only discounts an entry that no
current run uses, it never decides alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ghostrun.reuse.store import Entry, Store

# Bytes in memory per second, measured on the replay benchmark's feature table and
# train/test split (130-140 MB each, LZ4 on 2 threads, a busy 2-core machine): a save
# took 0.2-0.4 s, a load 0.06-0.17 s. The estimates stay on the slow side.
WRITE_SPEED = 350e6  # plan, compress, checksum, write
READ_SPEED = 800e6  # read, verify, decompress, assemble
PER_ENTRY = 0.004  # seconds of fixed cost to write and read one entry
MAX_REUSES = 4.0  # later runs one kept result is credited with, at most
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


def read_chances(
    recent: Sequence[Mapping[str, str]], consumers: Mapping[str, Sequence[str]]
) -> dict[str, float]:
    """P(the next run reads an operator's kept result): the share of recent edits that
    left it unchanged but changed one of its consumers (whose own kept results would
    otherwise serve the run instead), Laplace-smoothed. A sink is read whenever it is
    unchanged. A train/test split is read after each model edit; the feature table it was
    cut from only when the split itself changed."""
    chances = {}
    for op, after in consumers.items():
        seen = [edit for edit in recent if op in edit]
        reads = sum(
            edit[op] == "unchanged"
            and (not after or any(edit.get(c, "new") != "unchanged" for c in after))
            for edit in seen
        )
        chances[op] = (reads + 1) / (len(seen) + 2)
    return chances


def expected_reuses(survival: float) -> float:
    """Later runs a kept result serves before an edit invalidates its key."""
    return expected_reads(survival, survival)


def expected_reads(survival: float, read: float) -> float:
    """Later runs that read a kept result: each run reads it with chance `read`, for as
    long as its key survives (p + p² + … more runs on average: (read/p)·p/(1-p))."""
    if survival >= 1.0:
        return MAX_REUSES
    return min(MAX_REUSES, max(0.0, read) / (1.0 - survival))


@dataclass
class RecomputeCosts:
    """Seconds to get each output of this run back in a later one without its own entry.

    Responsibilities: remember, as operators finish, what each output would cost to get
    again (a read if it was kept, else its recomputation); give a computed operator's
    recompute cost from its inputs' (Helix: recompute from the kept ancestors only).
    Shared ancestors of several inputs are counted once per input: an upper bound.
    """

    inputs: Mapping[str, Sequence[str]]
    read_speed: float = READ_SPEED
    _fetch: dict[str, float] = field(default_factory=dict)
    _kept: dict[str, bool] = field(default_factory=dict)

    def recompute(self, op: str, seconds: float) -> float:
        return seconds + sum(self._fetch.get(i, 0.0) for i in self.inputs.get(op, ()))

    def decided(self, op: str, kept: bool) -> None:
        self._kept[op] = kept

    def finished(self, op: str, state: str, seconds: float, nbytes: int | None) -> None:
        if state == "loaded":
            self._fetch[op] = seconds  # measured: what a read of it costs
        elif state == "computed":
            if self._kept.get(op, False):
                self._fetch[op] = PER_ENTRY + (nbytes or 0) / self.read_speed
            else:
                self._fetch[op] = self.recompute(op, seconds)


def from_upstream(upstream: Mapping[str, float]) -> Callable[[str, float], float]:
    """A recompute estimate from fixed ancestor times (op's seconds + its ancestors')."""
    return lambda op, seconds: seconds + upstream.get(op, 0.0)


@dataclass(frozen=True)
class MaterializationPolicy:
    """Decides online, after each operator, whether its output is written to disk."""

    survival: Mapping[str, float]
    recompute: Callable[[str, float], float]  # (op, its seconds) -> seconds to get it back
    read_speed: float = READ_SPEED
    write_speed: float = WRITE_SPEED
    tracker: RecomputeCosts | None = None
    reads: Mapping[str, float] | None = None  # P(a later run reads it), default: survival

    @classmethod
    def online(
        cls,
        survival: Mapping[str, float],
        inputs: Mapping[str, Sequence[str]],
        reads: Mapping[str, float] | None = None,
    ) -> MaterializationPolicy:
        """For one run: recompute costs follow what the run keeps (`finished`)."""
        tracker = RecomputeCosts(inputs)
        return cls(survival, tracker.recompute, tracker=tracker, reads=reads)

    def expected_saving(self, op: str, seconds: float, nbytes: int) -> float:
        per_read = self.recompute(op, seconds) - self.read_cost(nbytes)
        p = self.survival.get(op, 0.5)
        q = p if self.reads is None else self.reads.get(op, p)
        return expected_reads(p, q) * max(0.0, per_read)

    def read_cost(self, nbytes: int) -> float:
        return PER_ENTRY / 2 + nbytes / self.read_speed

    def write_cost(self, nbytes: int) -> float:
        return PER_ENTRY / 2 + nbytes / self.write_speed

    def should_store(
        self, op: str, seconds: float, nbytes: int, *, is_metric: bool = False
    ) -> bool:
        """Metrics are always kept: they are the run's results, and a cached metric lets an
        edit that changes nothing compute nothing."""
        keep = is_metric or self.expected_saving(op, seconds, nbytes) > self.write_cost(nbytes)
        if self.tracker is not None:
            self.tracker.decided(op, keep)
        return keep

    def finished(self, op: str, state: str, seconds: float, nbytes: int | None) -> None:
        """An operator's outcome in this run: what its output costs to get back later."""
        if self.tracker is not None:
            self.tracker.finished(op, state, seconds, nbytes)


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
