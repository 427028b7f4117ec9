"""Cost-based materialisation and the storage budget, on a real store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ghostrun.reuse import Store, digest
from ghostrun.reuse.materialize import (
    MaterializationPolicy,
    enforce_budget,
    entry_value,
    prune_superseded,
    survival_chances,
)


def test_survival_is_the_smoothed_share_of_edits_that_left_an_op_unchanged() -> None:
    recent = [
        {"raw": "unchanged", "model": "knob"},
        {"raw": "unchanged", "model": "code"},
        {"raw": "unchanged", "model": "unchanged"},
    ]
    chances = survival_chances(recent, ["raw", "model", "new_op"])
    assert chances["raw"] == pytest.approx(4 / 5)
    assert chances["model"] == pytest.approx(2 / 5)
    assert chances["new_op"] == pytest.approx(1 / 2)


@pytest.mark.parametrize(
    "seconds,upstream,survival,nbytes,store",
    [
        (10.0, 0.0, 0.9, 50_000_000, True),  # slow op, modest output: keep
        (0.001, 0.0, 0.9, 500_000_000, False),  # instant op, huge output: recompute
        (0.001, 30.0, 0.9, 10_000_000, True),  # cheap itself, but its ancestors are slow
        (5.0, 0.0, 0.01, 500_000_000, False),  # edited almost every time: not worth it
    ],
    ids=["slow", "instant-huge", "slow-ancestors", "always-edited"],
)
def test_should_store_weighs_saving_against_write_and_read(
    seconds: float, upstream: float, survival: float, nbytes: int, store: bool
) -> None:
    policy = MaterializationPolicy(survival={"op": survival}, recompute_upstream={"op": upstream})
    assert policy.should_store("op", seconds, nbytes) is store


def test_metrics_are_always_stored() -> None:
    policy = MaterializationPolicy(survival={"auc": 0.0}, recompute_upstream={})
    assert policy.should_store("auc", 0.0, 10**9, is_metric=True)


def _fill(store: Store, specs: dict[str, tuple[str, float, int]]) -> None:
    for key, (op, seconds, n) in specs.items():
        value = np.full(n, sum(map(ord, key)), dtype=np.float64) + np.arange(n)
        store.save(key, value, digest(value), op=op, seconds=seconds)


def test_budget_evicts_least_saving_per_byte_first(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    _fill(
        store,
        {
            "cheap-big": ("features", 0.01, 400_000),  # 3.2 MB, saves little
            "slow-small": ("model", 20.0, 10_000),  # 80 kB, saves a lot
            "old-version": ("model", 20.0, 200_000),  # not used by the current run
        },
    )
    total = store.total_bytes()
    budget = total - 3_000_000
    current = {"cheap-big", "slow-small"}
    evicted = enforce_budget(store, budget, {"features": 0.9, "model": 0.5}, current)
    assert [e.key for e in evicted] == ["cheap-big"]
    assert store.total_bytes() <= budget
    assert store.lookup("slow-small") is not None and store.lookup("old-version") is not None


def test_stale_entries_lose_value_with_age_but_not_to_zero(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    _fill(store, {"k": ("model", 10.0, 1000)})
    (entry,) = list(store.entries())
    fresh = entry_value(entry, {"model": 0.5}, set(), now=entry.last_used)
    day_old = entry_value(entry, {"model": 0.5}, set(), now=entry.last_used + 86400)
    current = entry_value(entry, {"model": 0.5}, {"k"}, now=entry.last_used + 86400)
    assert current > fresh > day_old > 0


def test_within_budget_nothing_is_evicted(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    _fill(store, {"a": ("x", 1.0, 1000)})
    assert enforce_budget(store, 10**9, {}, set()) == []
    assert store.lookup("a") is not None


def test_superseded_entries_beyond_the_last_few_are_dropped(tmp_path: Path) -> None:
    import os

    store = Store(tmp_path / "cache")
    _fill(store, {f"split-v{i}": ("split", 1.0, 1000 + i) for i in range(5)})
    _fill(store, {"model-v0": ("model", 5.0, 100)})
    for i in range(5):  # v4 used most recently
        manifest = tmp_path / "cache" / "entries" / f"split-v{i}.json"
        os.utime(manifest, (1_000_000 + i, 1_000_000 + i))
    dropped = prune_superseded(store, current={"split-v0"}, keep=2)
    assert sorted(e.key for e in dropped) == ["split-v1", "split-v2"]
    kept = {e.key for e in store.entries()}
    assert kept == {"split-v0", "split-v3", "split-v4", "model-v0"}
