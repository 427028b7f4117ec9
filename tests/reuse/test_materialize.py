"""Cost-based materialisation and the storage budget, on a real store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ghostrun.reuse import Store, digest
from ghostrun.reuse.materialize import (
    MaterializationPolicy,
    RecomputeCosts,
    enforce_budget,
    entry_value,
    expected_reuses,
    from_upstream,
    prune_superseded,
    read_chances,
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
    policy = MaterializationPolicy({"op": survival}, from_upstream({"op": upstream}))
    assert policy.should_store("op", seconds, nbytes) is store


def test_a_result_is_read_when_it_survives_and_a_consumer_does_not() -> None:
    """After model edits the split is read (the model reruns on it); the feature table
    the split was cut from is not, the split's own entry serves."""
    consumers = {"features": ["split"], "split": ["model"], "model": ["auc"], "auc": []}
    model_edit = {"features": "unchanged", "split": "unchanged", "model": "knob",
                  "auc": "upstream"}  # fmt: skip
    comment = dict.fromkeys(consumers, "unchanged")
    chances = read_chances([model_edit, model_edit, comment], consumers)
    assert chances["split"] == pytest.approx(3 / 5)
    assert chances["features"] == pytest.approx(1 / 5)
    assert chances["auc"] == pytest.approx(2 / 5)  # a sink: read whenever unchanged
    assert read_chances([{"a": "unchanged"}], {"a": ["b"]})["a"] == pytest.approx(2 / 3)


def test_a_result_whose_key_rarely_survives_is_credited_with_fewer_reads() -> None:
    assert expected_reuses(0.0) == 0.0
    assert expected_reuses(0.5) == pytest.approx(1.0)  # p/(1-p): one more run on average
    assert expected_reuses(0.25) == pytest.approx(1 / 3)
    assert expected_reuses(0.99) == expected_reuses(1.0) == 4.0  # capped


def test_recompute_cost_counts_kept_ancestors_as_a_read_not_their_chain() -> None:
    """raw (slow) -> clean -> features: once `clean` is kept, getting `features` back
    costs its own time plus reading `clean`, not raw's and clean's computations."""
    inputs = {"raw": (), "clean": ("raw",), "features": ("clean",)}
    for keep_clean, expected in [(True, 1.0 + 0.1), (False, 1.0 + 2.0 + 30.0)]:
        tracker = RecomputeCosts(inputs, read_speed=1e9)
        tracker.decided("raw", False)
        tracker.finished("raw", "computed", 30.0, 10**9)
        tracker.decided("clean", keep_clean)
        tracker.finished("clean", "computed", 2.0, 10**8)
        assert tracker.recompute("features", 1.0) == pytest.approx(expected, abs=0.01)


def test_an_input_read_from_the_cache_costs_what_its_read_took() -> None:
    tracker = RecomputeCosts({"a": (), "b": ("a",)})
    tracker.finished("a", "loaded", 0.25, 10**8)
    assert tracker.recompute("b", 1.0) == pytest.approx(1.25)


def test_online_policy_keeps_what_is_slow_to_get_back_from_what_is_kept() -> None:
    """A cheap step after a slow, unkept one is worth keeping; after a kept one it is not."""
    inputs = {"raw": (), "step": ("raw",)}
    for keep_raw, stored in [(False, True), (True, False)]:
        policy = MaterializationPolicy.online({"raw": 0.5, "step": 0.5}, inputs)
        assert policy.tracker is not None
        policy.tracker.decided("raw", keep_raw)
        policy.finished("raw", "computed", 20.0, 10**6)
        assert policy.should_store("step", 0.01, 10**8) is stored


def test_metrics_are_always_stored() -> None:
    policy = MaterializationPolicy({"auc": 0.0}, from_upstream({}))
    assert policy.should_store("auc", 0.0, 10**9, is_metric=True)


def _fill(store: Store, specs: dict[str, tuple[str, float, int]]) -> None:
    for key, (op, seconds, n) in specs.items():
        # Random floats: compression leaves their size as it is, so budgets are exact.
        value = np.random.default_rng(sum(map(ord, key))).random(n)
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
