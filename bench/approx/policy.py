"""Replaying ladder policies on a fidelity study (`bench.approx.study`), edit by edit.

For each edit of a studied session (parent = the previous version), a policy picks the
first stage's fidelity and seeds, a margin, and optionally a second stage; its verdicts
are computed from the study's measured metrics exactly as the ladder would compute them
(paired deltas over sample seeds, a Student t margin), and graded against the full delta
with the fidelity bench's noise threshold. Times are the study's measured seconds of the
runs each stage needs, as a fraction of the baseline's full run (a plain re-run). It
answers "what would this choice have said, how fast" without re-running the bench.

    python -m bench.approx.policy --study /tmp/study.json --noise results.json
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.approx.judge import grade
from ghostrun.approx.sensitivity import moves_rescaled_knob, scale_sensitive
from ghostrun.engine.verdict import StageEvidence, judge
from ghostrun.workflow.types import Change, OpChange

__all__ = ["Policy", "evaluate", "main"]

Grades = Counter


@dataclass(frozen=True)
class Policy:
    name: str
    first: tuple[float, float] = (0.05, 0.25)  # (fraction, budget)
    seeds: int = 3
    second: tuple[float, float] | None = (0.2, 0.5)
    provisional: bool = True  # a one-seed report of the first stage before the others
    # budgets for sensitive edits' stages (None: as for any edit)
    sensitive_first: tuple[float, float] | None = None
    sensitive_second: tuple[float, float] | None = None
    prior_edits: int = 8  # earlier edits whose seed spread a one-seed report borrows (0: none)
    prior_min: int = 2  # ... and how many of them it needs
    bias: bool = False  # a bias allowance learnt from earlier edits' stage vs full deltas
    bias_by_class: bool = False  # ... from earlier edits of the same kind (sensitive or not)
    bias_needs_kind: bool = False  # ... for a sensitive edit, only once one was among them
    # ... and on a budget-scaled stage, for a budget or rate edit, once one was among them
    rescaled_needs_kind: bool = False


def _knob_moves(version: dict[str, Any]) -> list[OpChange]:
    return [OpChange(op, Change.KNOB, {k: tuple(v) for k, v in moved.items()})
            for op, moved in version.get("knobs", {}).items()]


def _sensitive(version: dict[str, Any]) -> bool:
    """The study's own record of `scale_sensitive`, or today's rule on the recorded knob
    moves (a study made before a knob joined the rule), or (older studies, no record) the
    rule on the recorded changes, taking an operator named "model" as the one that fits."""
    knobs = _knob_moves(version)
    if "sensitive" in version:
        return bool(version["sensitive"]) or scale_sensitive(knobs, {})
    code = [op for op, change in version.get("changes", {}).items()
            if change in ("code", "new") and op == "model"]
    return scale_sensitive(knobs, {}) or bool(code)


def _runs(version: dict[str, Any], f: float, b: float) -> dict[int, dict[str, Any]]:
    return {r["seed"]: r for r in version["runs"] if r["fraction"] == f and r["budget"] == b}


def _seconds(run: dict[str, Any]) -> float:
    return sum(run["computed"].values()) if isinstance(run["computed"], dict) else run["seconds"]


def _deltas(child: dict, parent: dict, f: float, b: float, seeds: int) -> tuple[float, ...]:
    c, p = _runs(child, f, b), _runs(parent, f, b)
    return tuple(c[s]["metric"] - p[s]["metric"] for s in range(seeds) if s in c and s in p)


def _seed_spread(policy: Policy, earlier: list[tuple[dict, dict]], f: float, b: float
                 ) -> float | None:
    """One seed's paired-delta spread as the ladder would borrow it from earlier edits."""
    sds = []
    for parent, child in earlier[-policy.prior_edits:]:
        d = _deltas(child, parent, f, b, policy.seeds)
        if len(d) >= 2 and statistics.stdev(d) > 0:
            sds.append(statistics.stdev(d))
    if len(sds) < policy.prior_min:
        return None
    return max(sds)


def _plan(policy: Policy, sensitive: bool) -> list[tuple[float, float, int, bool]]:
    """(fraction, budget, seeds, provisional) of each reported approximate stage."""
    first = policy.sensitive_first if sensitive and policy.sensitive_first else policy.first
    second = policy.sensitive_second if sensitive and policy.sensitive_second else policy.second
    plan = [(*first, 1, True)] if policy.provisional and policy.seeds > 1 else []
    plan.append((*first, policy.seeds, False))
    if second is not None:
        plan.append((*second, 1, False))
    return plan


def _bias(policy: Policy, earlier: list[tuple[dict, dict]], f: float, b: float,
          child: dict, seeds: int) -> float | None:
    """How far this fidelity's mean paired delta has been from the full delta, at most, over
    earlier edits, as the ladder reads it from the history: on the `seeds` sample seeds the
    ladder runs there, not on all the study measured (a one-seed stage's record holds one
    seed's distance)."""
    gaps = []
    sensitive = _sensitive(child)
    rescaled = b < 1 and policy.rescaled_needs_kind and moves_rescaled_knob(_knob_moves(child))
    if policy.bias_by_class:
        earlier = [(p, c) for p, c in earlier if _sensitive(c) == sensitive]
    sensitive_seen = rescaled_seen = False
    for parent, before in earlier[-policy.prior_edits:]:
        d = _deltas(before, parent, f, b, seeds)
        if d:
            full = before["full"]["metric"] - parent["full"]["metric"]
            gaps.append(abs(statistics.fmean(d) - full))
            sensitive_seen = sensitive_seen or _sensitive(before)
            rescaled_seen = rescaled_seen or moves_rescaled_knob(_knob_moves(before))
    if (policy.bias_needs_kind and sensitive and not sensitive_seen) or (
        rescaled and not rescaled_seen
    ):
        return None
    return max(gaps) if len(gaps) >= policy.prior_min else None


def evaluate_edit(policy: Policy, parent: dict, child: dict, tau: float, plain: float,
                  earlier: list[tuple[dict, dict]]) -> dict[str, Any]:
    goal = child["goal"]
    truth = child["full"]["metric"] - parent["full"]["metric"]
    sensitive = _sensitive(child)
    kept: list[StageEvidence] = []
    stages, t, ran = [], 0.0, set()
    plan = _plan(policy, sensitive)
    for f, b, seeds, provisional in plan:
        runs = _runs(child, f, b)
        for s in range(seeds):
            if (f, b, s) not in ran and s in runs:
                ran.add((f, b, s))
                t += _seconds(runs[s])
        spread = _seed_spread(policy, earlier, f, b) if policy.prior_edits else None
        ran_there = max(n for ff, bb, n, _ in plan if (ff, bb) == (f, b))
        bias = _bias(policy, earlier, f, b, child, ran_there) if policy.bias else None
        ev = StageEvidence(f, b, _deltas(child, parent, f, b, seeds), spread, bias)
        c = judge([*kept, ev], goal)
        if c is None:
            continue
        if not provisional:
            kept.append(ev)
        stages.append({"at": f"{f:g}x{b:g}x{seeds}", "delta": c.delta, "se": c.uncertainty,
                       "verdict": c.verdict, "t": t / plain,
                       "grade": grade(c.verdict, truth, tau, goal)})
    return {"edit": child["edit"], "truth": truth, "beyond": abs(truth) > max(tau, 1e-12),
            "sensitive": sensitive, "stages": stages}


def evaluate(policy: Policy, study: dict[str, Any], tau: float) -> list[dict[str, Any]]:
    versions = study["versions"]
    plain = versions[0]["full"]["seconds"]
    pairs = [(p, c) for p, c in zip(versions, versions[1:], strict=False)
             if not _trivial(p, c)]
    return [evaluate_edit(policy, p, c, tau, plain, pairs[:i]) for i, (p, c) in enumerate(pairs)]


def _trivial(parent: dict, child: dict) -> bool:
    """Edits that change no model input (comments, new metrics): they go full at once."""
    return parent["full"]["metric"] == child["full"]["metric"] and not child.get("knobs") and \
        "model" not in child["changed"]


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    first = Grades(r["stages"][0]["grade"] for r in results if r["stages"])
    last = Grades(r["stages"][-1]["grade"] for r in results if r["stages"])
    decisive = Grades()
    for r in results:
        found = next((s for s in r["stages"] if s["verdict"] != "unclear"), None)
        decisive[found["grade"] if found else ("missed" if r["beyond"] else "unclear-ok")] += 1
    times = [r["stages"][0]["t"] for r in results if r["stages"]]
    return {"first": dict(first), "last": dict(last), "any": dict(decisive),
            "t_first": statistics.median(times) if times else None}


def _fmt(g: dict[str, int]) -> str:
    right, wrong, missed = g.get("right", 0), g.get("WRONG", 0), g.get("missed", 0)
    return f"{right:>2}R {wrong:>2}W {missed:>2}M {g.get('overcalled', 0):>2}O"


# The ladder as built first, then the alternatives it was chosen over.
POLICIES = [
    Policy("as built", second=(0.2, 1.0), bias=True, bias_needs_kind=True,
           rescaled_needs_kind=True),
    Policy("before rate edits waited for their own record", second=(0.2, 1.0), bias=True,
           bias_needs_kind=True),
    Policy("stage 2 at 0.1", second=(0.1, 1.0), bias=True, bias_needs_kind=True),
    Policy("no bias record", second=(0.2, 1.0)),
    Policy("bias record of any kind", second=(0.2, 1.0), bias=True),
    Policy("stage 2 at budget 0.25", second=(0.2, 0.25), bias=True, bias_needs_kind=True),
    Policy("both stages at budget 1", first=(0.05, 1.0), second=(0.2, 1.0), bias=True,
           bias_needs_kind=True),
    Policy("first stage 0.1", first=(0.1, 0.25), second=(0.2, 1.0), bias=True,
           bias_needs_kind=True),
    Policy("no provisional report", second=(0.2, 1.0), bias=True, bias_needs_kind=True,
           provisional=False),
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.approx.policy")
    p.add_argument("--study", type=Path, required=True)
    p.add_argument("--noise", type=Path, required=True,
                   help="fidelity bench results (JSON) whose noise thresholds to use")
    p.add_argument("--detail", default="", help="a policy name to print edit by edit")
    args = p.parse_args(argv)
    study = json.loads(args.study.read_text())
    noise = {s["workflow"]: s["noise"]["tau"]
             for s in json.loads(args.noise.read_text())["sessions"]}
    print(f"{'policy':<30} {'workflow':<10} {'t1st':>6}  first-verdict  | any-approx     | last")
    for policy in POLICIES:
        total = {"first": Grades(), "any": Grades(), "last": Grades()}
        for s in study["studies"]:
            res = evaluate(policy, s, noise[s["workflow"]])
            sm = summary(res)
            for k in total:
                total[k].update(sm[k])
            print(f"{policy.name:<30} {s['workflow']:<10} {sm['t_first']:>6.3f}  "
                  f"{_fmt(sm['first'])} | {_fmt(sm['any'])} | {_fmt(sm['last'])}")
            if policy.name == args.detail:
                for r in res:
                    print("     ", r["edit"], f"{r['truth']:+.5f}", r["beyond"], r["sensitive"],
                          [(s["at"], f"{s['delta']:+.4f}", s["se"] and f"{s['se']:.4f}",
                            s["verdict"], s["grade"], round(s["t"], 3)) for s in r["stages"]])
        print(f"{policy.name:<30} {'ALL':<10} {'':>6}  {_fmt(total['first'])} | "
              f"{_fmt(total['any'])} | {_fmt(total['last'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
