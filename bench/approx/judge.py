"""Judging one edit's approximate feedback against the full truth.

Truth is the plain re-run: the full delta of an edit is the primary metric of this
version minus that of the previous one, both from plain runs. It is *beyond noise* when
|delta| > tau, where tau = 2·√2·σ and σ is the standard deviation of the full metric over
a few model seeds (same data, same split, only the estimator's `random_state` moved; see
`noise_threshold`): two versions that differ only by chance differ by about √2·σ, and 95%
of such differences stay within 2·√2·σ.

A stage's verdict (better / worse / unclear) is then:
- right / WRONG: beyond noise, decisive, with / against the full delta's direction;
- missed: beyond noise but "unclear" (safe, but no help);
- unclear-ok: within noise and "unclear" (what it should say);
- overcalled: within noise but decisive (a noise-level change called better or worse);
- none: no verdict (no parent measured at that fidelity: nothing to pair with).
A verdict from the full stage is exact: it is reported, but not counted as a prediction.

Besides the first verdict (which may be a provisional, one-seed report of the first
stage), each ladder records its first *decisive* approximate verdict and its last
approximate one (what the user knew just before the exact result).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

__all__ = ["expected_verdict", "first_with", "grade", "judge_ladder", "noise_threshold"]

NOISE_SIGMAS = 2.0 * math.sqrt(2.0)


def noise_threshold(values: Sequence[float]) -> tuple[float, float]:
    """(σ, tau) from the full metric of one version under several model seeds."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    sigma = statistics.stdev(finite) if len(finite) >= 2 else 0.0
    return sigma, NOISE_SIGMAS * sigma


def expected_verdict(delta: float, goal: str) -> str:
    gain = delta if goal == "max" else -delta
    return "better" if gain > 0 else "worse" if gain < 0 else "unclear"


def grade(verdict: str | None, delta: float | None, tau: float, goal: str) -> str:
    """One of right, WRONG, missed, unclear-ok, overcalled, none (see the module doc)."""
    if verdict is None or delta is None:
        return "none"
    beyond = abs(delta) > max(tau, 1e-12)
    if not beyond:
        return "unclear-ok" if verdict == "unclear" else "overcalled"
    if verdict == "unclear":
        return "missed"
    return "right" if verdict == expected_verdict(delta, goal) else "WRONG"


def first_with(stages: Sequence[dict[str, Any]], verdict: bool) -> int | None:
    """Index of the first stage (with a verdict, when `verdict`)."""
    for i, stage in enumerate(stages):
        if not verdict or stage.get("verdict") is not None:
            return i
    return None


def _is_full(stage: dict[str, Any]) -> bool:
    f = stage["fidelity"]
    return f["fraction"] >= 1 and f["budget"] >= 1 and f.get("precision", "float64") == "float64"


def judge_ladder(stages: list[dict[str, Any]], times: list[float], plain_seconds: float,
                 full_delta: float | None, full_metric: float | None, primary: str,
                 tau: float, goal: str) -> dict[str, Any]:
    """What one ladder (cold or hot) told the user about one edit, and how it fared.

    `times[i]` is when stage i reached the user, in seconds from the start."""
    # a stage without its time (a lost event) is left out rather than failing the report
    views = [_stage_view(s, t, full_delta, full_metric, primary, tau, goal)
             for s, t in zip(stages, times, strict=False)]
    for n, view in enumerate(views):
        view["stage"] = n
    out: dict[str, Any] = {"stages": views}
    for label, need_verdict in (("first", False), ("verdict", True)):
        i = first_with(stages[: len(views)], need_verdict)
        if i is None:
            out[label] = None
            continue
        view = out["stages"][i]
        out[label] = {"index": i, "seconds": times[i], "ratio": _ratio(times[i], plain_seconds),
                      "approx": not view["full"], "verdict": view["verdict"],
                      "grade": view["grade"] if not view["full"] else "exact"}
    approx = [v for v in out["stages"] if not v["full"]]
    out["approx_stages"] = len(approx)
    out["decisive"] = _decisive(approx, times, plain_seconds)
    out["last_approx"] = _summary_of(approx[-1], times, plain_seconds) if approx else None
    out["extrapolation"] = _extrapolation(approx, full_metric)
    return out


def _summary_of(view: dict[str, Any], times: list[float], plain_seconds: float
                ) -> dict[str, Any]:
    i = view["stage"]
    return {"index": i, "seconds": times[i], "ratio": _ratio(times[i], plain_seconds),
            "approx": True, "verdict": view["verdict"], "grade": view["grade"]}


def _decisive(approx: list[dict[str, Any]], times: list[float], plain_seconds: float
              ) -> dict[str, Any] | None:
    """The first approximate stage that said better or worse (None: none did)."""
    found = next((v for v in approx if v["verdict"] in ("better", "worse")), None)
    return None if found is None else _summary_of(found, times, plain_seconds)


def _stage_view(stage: dict[str, Any], t: float, full_delta: float | None,
                full_metric: float | None, primary: str, tau: float, goal: str) -> dict[str, Any]:
    f = stage["fidelity"]
    metric = (stage.get("metrics") or {}).get(primary)
    delta = stage.get("delta")
    truth = None
    if full_delta is not None:
        beyond = abs(full_delta) > max(tau, 1e-12)
        truth = expected_verdict(full_delta, goal) if beyond else "noise"
    return {
        "fraction": f["fraction"], "budget": f["budget"], "seeds": stage.get("seeds", 1),
        "provisional": bool(stage.get("provisional")),
        "full": _is_full(stage), "t": t, "elapsed": stage.get("elapsed"),
        "metric": metric, "delta": stage.get("delta"), "uncertainty": stage.get("uncertainty"),
        "verdict": stage.get("verdict"), "extrapolated": stage.get("extrapolated"),
        "grade": grade(stage.get("verdict"), full_delta, tau, goal),
        "gain": None if delta is None else (delta if goal == "max" else -delta),
        "truth": truth,
        "metric_error": None if metric is None or full_metric is None
        else abs(metric - full_metric),
    }


def _extrapolation(approx: list[dict[str, Any]], full_metric: float | None
                   ) -> dict[str, Any] | None:
    """|extrapolated − full| of the last approximate stage that extrapolated, beside the
    error of taking that stage's own (sampled, budget-scaled) metric as the full one."""
    with_extra = [v for v in approx if v["extrapolated"] is not None]
    if not with_extra or full_metric is None:
        return None
    last = with_extra[-1]
    return {"error": abs(last["extrapolated"] - full_metric), "stage_error": last["metric_error"],
            "extrapolated": last["extrapolated"], "full": full_metric,
            "fraction": last["fraction"], "budget": last["budget"]}


def _ratio(seconds: float, plain: float) -> float | None:
    return seconds / plain if plain and plain > 0 else None
