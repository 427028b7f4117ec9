"""The min-cut planner against brute force on small graphs."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from ghostrun.engine import plan as plan_module
from ghostrun.engine.plan import PlanNode, is_feasible, min_cut_plan, plan, plan_cost

STATES = ("computed", "loaded", "pruned")


def brute_force(nodes: dict[str, PlanNode]) -> float:
    best = float("inf")
    names = list(nodes)
    for combo in itertools.product(STATES, repeat=len(names)):
        states = dict(zip(names, combo, strict=True))
        if is_feasible(nodes, states):
            best = min(best, plan_cost(nodes, states))
    return best


def random_dag(rng: random.Random, n: int) -> dict[str, PlanNode]:
    nodes = {}
    for i in range(n):
        inputs = tuple(f"n{j}" for j in range(i) if rng.random() < 0.35)
        cached = rng.random() < 0.7
        nodes[f"n{i}"] = PlanNode(
            inputs=inputs,
            compute=round(rng.uniform(0.0, 10.0), 2),
            load=round(rng.uniform(0.0, 6.0), 2) if cached else None,
        )
    sinks = [name for name in nodes if not any(name in nd.inputs for nd in nodes.values())]
    for name in rng.sample(sinks, k=max(1, len(sinks) // 2)):
        nodes[name] = PlanNode(nodes[name].inputs, nodes[name].compute, nodes[name].load, True)
    return nodes


@pytest.mark.parametrize("seed", range(60))
def test_min_cut_matches_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    nodes = random_dag(rng, rng.randint(2, 7))
    states = plan(nodes)
    assert is_feasible(nodes, states)
    assert plan_cost(nodes, states) == pytest.approx(brute_force(nodes), abs=1e-4)


def test_cheap_operator_on_a_loaded_input_is_recomputed_not_loaded() -> None:
    nodes = {
        "raw": PlanNode((), compute=30.0, load=2.0),
        "big": PlanNode(("raw",), compute=0.1, load=5.0),  # loading a big output is slower
        "model": PlanNode(("big",), compute=20.0, load=None, target=True),
    }
    assert plan(nodes) == {"raw": "loaded", "big": "computed", "model": "computed"}


def test_everything_cached_loads_only_targets() -> None:
    nodes = {
        "a": PlanNode((), compute=5.0, load=1.0),
        "b": PlanNode(("a",), compute=5.0, load=1.0),
        "m": PlanNode(("b",), compute=0.1, load=0.01, target=True),
    }
    assert plan(nodes) == {"a": "pruned", "b": "pruned", "m": "loaded"}


def test_uncached_chain_is_computed_from_the_nearest_cached_ancestor() -> None:
    nodes = {
        "a": PlanNode((), compute=5.0, load=1.0),
        "b": PlanNode(("a",), compute=5.0, load=2.0),
        "c": PlanNode(("b",), compute=1.0, load=None),
        "m": PlanNode(("c",), compute=0.1, load=None, target=True),
    }
    assert plan(nodes) == {"a": "pruned", "b": "loaded", "c": "computed", "m": "computed"}


def rerun_dag(rng: random.Random, n: int) -> dict[str, PlanNode]:
    """A rerun after an edit that changed nothing: every output cached, costs as measured
    (cheap metrics included, some near the bound)."""
    nodes = random_dag(rng, n)
    out = {}
    for name, node in nodes.items():
        compute = rng.choice([0.0, 0.0005, 0.002, 0.01, 1.0, rng.uniform(0.0, 0.01)])
        load = rng.choice([0.002, 0.0021, 0.004, rng.uniform(0.0, 0.01)])
        out[name] = PlanNode(node.inputs, compute, load, node.target)
    return out


@pytest.mark.parametrize("make", [random_dag, rerun_dag], ids=["any", "rerun"])
def test_the_plan_without_a_cut_is_the_cut_s_plan(make: Any) -> None:
    """`plan` skips networkx when it can prove 'load the targets, prune the rest' is the one
    cheapest plan: it must then be exactly what the cut gives, and it must apply often."""
    skipped = 0
    for seed in range(300):
        rng = random.Random(seed)
        nodes = make(rng, rng.randint(1, 9))
        states = plan(nodes)
        assert states == min_cut_plan(nodes), seed
        skipped += all(s == ("loaded" if nodes[n].target else "pruned") for n, s in states.items())
    assert skipped > 30


def test_a_metric_cheaper_to_compute_than_to_load_is_loaded_without_a_cut() -> None:
    nodes = {
        "raw": PlanNode((), compute=0.005, load=0.002),
        "features": PlanNode(("raw",), compute=0.0005, load=0.0021),
        "score": PlanNode(("features",), compute=0.0003, load=0.002, target=True),
    }
    expected = {"raw": "pruned", "features": "pruned", "score": "loaded"}
    assert plan_module._targets_loaded(nodes) == expected == min_cut_plan(nodes)
    nodes["raw"] = PlanNode((), compute=0.0001, load=0.002)  # now computing all is cheaper
    assert plan_module._targets_loaded(nodes) is None
    assert plan(nodes) == {"raw": "computed", "features": "computed", "score": "computed"}
