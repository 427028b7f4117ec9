"""The words of a notification for one finished stage or one failed run (DESIGN §5).

A title answers "did my change help?" at a glance (metric, direction, confidence, how
approximate, how long it took); the body says what changed and what comes next.
Inputs are the JSON shapes of `ghostrun run --json` stages and `run.failed` events, so the
daemon can pass what it publishes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ghostrun.notify import numbers
from ghostrun.notify.message import Message

_ARROWS = {1: "▲", -1: "▼", 0: "="}
_APPROX_WORDS = {"better": "likely better", "worse": "likely worse", "unclear": "too close to call"}
_KIND_WORDS = {
    "code": "code changed",
    "knob": "knobs changed",
    "data": "data changed",
    "new": "new",
    "removed": "removed",
}
_CHANGES_SHOWN = 2
_REASON_CHARS = 60
_MESSAGE_CHARS = 200


def stage_message(stage: Mapping[str, Any], context: Mapping[str, Any]) -> Message:
    """The notification for one stage: `auc 0.873 ▲ +0.006 ±0.004 likely better · 10% sample
    · 1.4 s` / `model: num_leaves 31→63 · reran 2, reused 5 · full result in ~40 s`."""
    return Message(_stage_title(stage, context), _stage_body(stage, context))


def failure_message(failure: Mapping[str, Any]) -> Message:
    """The notification for a `run.failed` payload: where it failed and the error's first
    line, so the user can jump to the line without opening a terminal."""
    op = failure.get("op")
    title = f"run failed in {op}" if op else "workflow error"
    text = str(failure.get("message") or "").strip()
    first = text.splitlines()[0].strip() if text else str(failure.get("code") or "unknown error")
    parts = [_clip(first, _MESSAGE_CHARS)]
    if failure.get("location"):
        parts.append(f"at {failure['location']}")
    return Message(title, " · ".join(parts), urgency="critical")


def is_approximate(fidelity: Mapping[str, Any]) -> bool:
    """Whether a stage ran on less than everything (rows, precision or boosting budget)."""
    return (
        float(fidelity.get("fraction", 1.0)) < 1.0
        or float(fidelity.get("budget", 1.0)) < 1.0
        or fidelity.get("precision", "float64") != "float64"
    )


def _stage_title(stage: Mapping[str, Any], context: Mapping[str, Any]) -> str:
    name, value = _primary(stage.get("metrics") or {}, context.get("primary"))
    headline = f"{name} {numbers.significant(value)}" if name else "no metric"
    fidelity = stage.get("fidelity") or {}
    change = _change_words(stage, is_approximate(fidelity))
    parts = [f"{headline} {change}" if change else f"{headline} · first run"]
    parts.append(_fidelity_words(fidelity, int(stage.get("seeds") or 1)))
    elapsed = numbers.as_float(stage.get("elapsed"))
    if elapsed is not None and math.isfinite(elapsed):
        parts.append(numbers.seconds(elapsed))
    return " · ".join(parts)


def _primary(metrics: Mapping[str, Any], primary: str | None) -> tuple[str | None, float | None]:
    """The primary metric's name and value; a dict metric reports as `name.key` entries."""
    if primary:
        if primary in metrics:
            return primary, numbers.as_float(metrics[primary])
        dotted = next((k for k in metrics if k.startswith(f"{primary}.")), None)
        return (dotted, numbers.as_float(metrics[dotted])) if dotted else (primary, None)
    for name, value in metrics.items():
        return name, numbers.as_float(value)
    return None, None


def _change_words(stage: Mapping[str, Any], approximate: bool) -> str | None:
    """`▲ +0.006 ±0.004 likely better`; None when there is nothing to compare with."""
    delta = numbers.as_float(stage.get("delta"))
    if delta is None:
        return None
    if math.isnan(delta):
        return "(change unknown)"
    words = [_ARROWS[(delta > 0) - (delta < 0)], numbers.significant(delta, 2, signed=True)]
    uncertainty = numbers.as_float(stage.get("uncertainty"))
    if uncertainty is not None and math.isfinite(uncertainty) and uncertainty > 0:
        words.append(f"±{numbers.significant(uncertainty, 2)}")
    verdict = stage.get("verdict")
    if approximate and verdict in _APPROX_WORDS:
        words.append(_APPROX_WORDS[verdict])
    elif verdict in ("better", "worse"):
        words.append(verdict)
    elif verdict == "unclear":
        words.append("no change" if delta == 0 else "within noise")
    return " ".join(words)


def _fidelity_words(fidelity: Mapping[str, Any], seeds: int) -> str:
    fraction = float(fidelity.get("fraction", 1.0))
    parts = ["full data" if fraction >= 1 else f"{numbers.percent(fraction)} sample"]
    budget = float(fidelity.get("budget", 1.0))
    if budget < 1:
        parts.append(f"{numbers.percent(budget)} budget")
    precision = fidelity.get("precision", "float64")
    if precision != "float64":
        parts.append(str(precision))
    text = ", ".join(parts)
    return f"{text} × {seeds} seeds" if seeds > 1 else text


def _stage_body(stage: Mapping[str, Any], context: Mapping[str, Any]) -> str:
    parts = [_changes_words(context.get("changes") or [])]
    reran, reused = context.get("reran"), context.get("reused")
    if reran is not None and reused is not None:
        parts.append(f"reran {reran}, reused {reused}")
    if not context.get("final", False):
        parts.append(_next_words(stage, context))
    return " · ".join(p for p in parts if p)


def _changes_words(changes: Sequence[Mapping[str, Any]]) -> str:
    """`model: num_leaves 31→63; features: code changed, +2 more` — own changes only:
    an operator rerun because its input moved is the consequence, not the news."""
    own = [c for c in changes if c.get("change") not in ("unchanged", "upstream")]
    if not own:
        return ""
    if len(own) > _CHANGES_SHOWN and all(c.get("change") == "new" for c in own):
        return f"{len(own)} new operators"
    shown = "; ".join(_change_words_one(c) for c in own[:_CHANGES_SHOWN])
    hidden = len(own) - _CHANGES_SHOWN
    return f"{shown}; +{hidden} more" if hidden > 0 else shown


def _change_words_one(change: Mapping[str, Any]) -> str:
    kind = str(change.get("change") or "")
    reason = str(change.get("reason") or _KIND_WORDS.get(kind, kind or "changed"))
    return f"{change.get('op', '?')}: {_clip(reason.replace(' → ', '→'), _REASON_CHARS)}"


def _next_words(stage: Mapping[str, Any], context: Mapping[str, Any]) -> str:
    """`full result in ~40 s`, with the extrapolated full-data value when there is one."""
    expected = numbers.as_float(stage.get("extrapolated"))
    guess = f" ≈ {numbers.significant(expected)}" if expected is not None else ""
    wait = numbers.as_float(context.get("full_eta"))
    if wait is None or not math.isfinite(wait):
        return f"full result{guess} to follow"
    return f"full result{guess} in {numbers.eta(max(wait, 0.0))}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
