"""What other verdict margins would have said, replayed on the measured stages.

The ladder calls a stage "better" when its paired gain exceeds margin = c × standard
error (c: a 90% Student t value for its pairs, 2.92 with three seeds), "worse" below
−margin, else "unclear". Each approximate stage with a paired delta and an error is
re-graded here with c in `FACTORS`, against the full truth (`truth`: "better", "worse" or
"noise" when the full delta is within the noise threshold).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["FACTORS", "margin_table"]

FACTORS = (0.0, 1.0, 1.64, 2.0, 2.92, 4.0)
_COLUMNS = ("right", "WRONG", "missed", "unclear-ok", "overcalled")


def _grade(gain: float, error: float, c: float, truth: str) -> str:
    verdict = "better" if gain > c * error else "worse" if gain < -c * error else "unclear"
    if truth == "noise":
        return "unclear-ok" if verdict == "unclear" else "overcalled"
    if verdict == "unclear":
        return "missed"
    return "right" if verdict == truth else "WRONG"


def margin_table(views: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts per factor, for first stages, later approximate stages, and both."""
    usable = [v for v in views if v.get("gain") is not None and v.get("uncertainty")
              and v.get("truth") is not None]
    groups = {"first stage": [v for v in usable if v["stage"] == 0],
              "later stages": [v for v in usable if v["stage"] > 0]}
    rows = []
    for label, group in groups.items():
        for c in FACTORS:
            counts = dict.fromkeys(_COLUMNS, 0)
            for v in group:
                counts[_grade(v["gain"], v["uncertainty"], c, v["truth"])] += 1
            decisive = counts["right"] + counts["WRONG"]
            rows.append({"group": label, "factor": c, "n": len(group), **counts,
                         "agreement": counts["right"] / decisive if decisive else None})
    unusable = len(views) - len(usable)
    return {"rows": rows, "without_error": unusable, "text": _text(rows, unusable)}


def _text(rows: list[dict[str, Any]], unusable: int) -> str:
    head = f"  {'stages':<13} {'c':>5} {'n':>4} " + " ".join(f"{c:>10}" for c in _COLUMNS) + \
        f" {'agree':>6}"
    lines = [head]
    for r in rows:
        agree = "–" if r["agreement"] is None else f"{100 * r['agreement']:.0f}%"
        lines.append(f"  {r['group']:<13} {r['factor']:>5.2f} {r['n']:>4} "
                     + " ".join(f"{r[c]:>10}" for c in _COLUMNS) + f" {agree:>6}")
    lines.append(f"  ({unusable} approximate stages had no paired delta or no error: not "
                 "re-graded)")
    return "\n".join(lines)
