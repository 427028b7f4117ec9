"""The bench's table and summary, from the per-workflow results."""

from __future__ import annotations

import math
from typing import Any

from bench.suggest.run import improved


def _g(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:+.4f}"


def _v(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.4f}"


def at_least_as_good(result: dict[str, Any]) -> bool:
    """The best confirmed suggestion does no worse than TPE's best on held-out rows
    (no confirmed suggestion counts as the base version: a gain of 0)."""
    confirmed = result["confirmed"]
    ours = confirmed["holdout_gain"] if confirmed and "holdout_gain" in confirmed else 0.0
    theirs = result["tpe"]["holdout_gain"]
    return not math.isnan(ours) and (math.isnan(theirs) or ours >= theirs - 1e-12)


def render(results: list[dict[str, Any]], command: str) -> str:
    lines = ["", "Suggestion bench: gains are in the goal's direction (positive = better)", ""]
    for r in results:
        top, conf, tpe, ex = r["top"], r["confirmed"], r["tpe"], r["explore"]
        lines.append(f"{r['name']}  ({r['description']})")
        lines.append(
            f"  base {r['metric']} ({r['goal']}): validation {_v(r['base']['valid'])},"
            f" held-out {_v(r['base']['holdout'])}"
        )
        lines.append(
            f"  explore: {ex['trials']} trials, {ex['runs']} runs, {ex['wall_seconds']:.0f} s,"
            f" stopped: {ex['stopped']}"
        )
        if top is None:
            lines.append("  top suggestion: none")
        else:
            flag = "improves" if improved(top) else "does NOT improve"
            lines.append(f"  top: {top['description']}  (confirmed: {top.get('confirmed_full')})")
            lines.append(
                f"       validation gain {_g(top.get('valid_gain'))}, held-out gain"
                f" {_g(top.get('holdout_gain'))} -> {flag} the held-out metric"
            )
        if conf is not None and conf is not top and conf.get("id") != (top or {}).get("id"):
            lines.append(
                f"  best confirmed: {conf['description']}: validation {_g(conf.get('valid_gain'))},"
                f" held-out {_g(conf.get('holdout_gain'))}"
            )
        lines.append(
            f"  TPE: {tpe['trials']} trials over {tpe['dimensions']} knobs in"
            f" {tpe['seconds']:.0f} s: validation gain {_g(tpe['valid_gain'])}, held-out gain"
            f" {_g(tpe['holdout_gain'])}; params {tpe['params']}"
        )
        ours = conf["holdout_gain"] if conf and "holdout_gain" in conf else 0.0
        ratio = _ratio(ours, tpe["holdout_gain"])
        lines.append(
            f"  confirmed vs TPE on held-out rows: {_g(ours)} vs {_g(tpe['holdout_gain'])}"
            f" (ratio {ratio}) -> {'at least as good' if at_least_as_good(r) else 'worse'}"
        )
        lines.append("")
    lines += summary(results)
    lines += ["", f"Reproduce: {command}", ""]
    return "\n".join(lines)


def _ratio(ours: float, theirs: float) -> str:
    if math.isnan(ours) or math.isnan(theirs) or theirs <= 0:
        return "n/a"
    return f"{ours / theirs:.2f}"


def summary(results: list[dict[str, Any]]) -> list[str]:
    n = len(results)
    tops = sum(improved(r["top"]) for r in results)
    with_confirmed = [r for r in results if r["confirmed"] is not None]
    confirmed = sum(improved(r["confirmed"]) for r in with_confirmed)
    tpe = sum(improved(r["tpe"]) for r in results)
    good = sum(at_least_as_good(r) for r in results)
    share = 100.0 * tops / n if n else 0.0
    return [
        f"Top suggestion improves the held-out metric: {tops}/{n} workflows ({share:.0f}%;"
        " target >= 80%)",
        f"Top confirmed suggestion improves it: {confirmed}/{len(with_confirmed)} workflows"
        f" that have one ({n - len(with_confirmed)} without a confirmed suggestion)",
        f"For comparison, TPE's best improves it: {tpe}/{n} workflows",
        f"Best confirmed suggestion at least as good as TPE (same wall clock, held-out rows):"
        f" {good}/{n} workflows",
    ]
