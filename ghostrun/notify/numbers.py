"""Short, human number and duration texts for notification titles (no scientific notation
for ordinary values, no misleading precision)."""

from __future__ import annotations

import math
from typing import Any


def as_float(value: Any) -> float | None:
    """A metric as a float, or None when it is missing or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def significant(value: float | None, digits: int = 4, *, signed: bool = False) -> str:
    """`value` to `digits` significant digits, trailing zeros dropped: 0.87341 → 0.8734,
    12345.6 → 12346 (whole numbers are never shortened to 1.235e+04)."""
    if value is None:
        return "n/a"
    if math.isnan(value):
        return "NaN"
    sign = "+" if signed and value >= 0 else ""
    if math.isinf(value):
        return f"{'-' if value < 0 else sign}∞"
    if value == 0:
        return f"{sign}0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -4 or magnitude >= 15:
        return f"{value:{sign}.{digits}g}"
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:{sign}.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def percent(fraction: float) -> str:
    """0.1 → 10%, 0.005 → 0.5%, 0.333 → 33%."""
    value = fraction * 100
    if value >= 10:
        return f"{min(round(value), 99) if fraction < 1 else round(value)}%"
    return f"{significant(value, 2)}%"


def seconds(value: float) -> str:
    """An elapsed time: 1.4 s, 41 s, 2 min 5 s, 1 h 3 min."""
    if value < 10:
        return f"{value:.1f} s"
    whole = round(value)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def eta(value: float) -> str:
    """A rough time to wait: ~40 s, ~3 min, ~1.5 h."""
    if value < 59.5:
        return f"~{max(1, round(value))} s"
    if value < 3570:
        return f"~{round(value / 60)} min"
    return f"~{significant(value / 3600, 2)} h"
