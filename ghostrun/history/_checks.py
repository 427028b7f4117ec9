"""Validation of caller-supplied enumerations, so bad input fails with a sentence, not a
CHECK-constraint error from SQLite."""

from __future__ import annotations

from collections.abc import Sequence

from ghostrun.errors import HistoryError
from ghostrun.workflow.types import Change


def check_choice(value: str, allowed: Sequence[str], what: str) -> str:
    """Return `value` if it is one of `allowed`, else raise a HistoryError naming them."""
    if value not in allowed:
        raise HistoryError(f"{what} must be one of {', '.join(allowed)}, not {value!r}.")
    return value


def change_value(change: str | None) -> str | None:
    """The stored text of a change kind (a `Change` or its value), or None."""
    if change is None:
        return None
    try:
        return Change(change).value
    except ValueError:
        kinds = ", ".join(c.value for c in Change)
        raise HistoryError(f"change must be one of {kinds}, not {change!r}.") from None


def check_limit(limit: int) -> int:
    """A row limit must not be negative (SQLite would read -1 as 'no limit')."""
    if limit < 0:
        raise HistoryError(f"limit must be 0 or more, not {limit}.")
    return limit
