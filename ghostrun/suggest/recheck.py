"""Carrying findings over: earlier versions' best variants re-expressed on the current one,
and one more step along an improving knob's direction.

Once the user's code moves on, a variant measured on an earlier version is stale as a
measurement (its base is gone) but still evidence: the same move often helps again. A knob
move is re-expressed from the knob's current value (`num_leaves 31 → 63` becomes
`47 → 63` after the user set 47 by hand, and disappears once they set 63); a pair keeps
whichever parts still apply; estimator swaps and column drops are tried as they are, and
the overlay refuses those that no longer apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ghostrun.errors import WorkflowError
from ghostrun.history import History
from ghostrun.suggest.rank import suggestions
from ghostrun.suggest.variant import Variant
from ghostrun.workflow.graph import Workflow

Change = Mapping[str, Any]
_MISSING = object()


def reexpress(change: Change, workflow: Workflow) -> dict[str, Any] | None:
    """`change` as a move from `workflow`'s current state, or None when it says nothing new
    there (its knob is gone, or already has the value the move sets)."""
    kind = change.get("kind")
    if kind == "knob":
        op = workflow.operators.get(str(change.get("op")))
        knob = op.knob(str(change.get("knob"))) if op else None
        if knob is None or _same(knob.value, change.get("new", _MISSING)):
            return None
        return {**change, "old": knob.value}
    if kind == "pair":
        parts = [reexpress(p, workflow) for p in change.get("parts") or []]
        kept = [p for p in parts if p is not None]
        if len(kept) == len(parts) and len(kept) >= 2:
            return {**change, "parts": kept}
        return kept[0] if len(kept) == 1 else None
    return dict(change)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def earlier_findings(history: History, base: str, workflow: Workflow, n: int) -> list[Variant]:
    """The `n` best suggestions for earlier versions (the most recently explored first),
    re-expressed on `workflow`."""
    bases: dict[str, None] = {}
    for trial in history.trials():  # newest first
        if trial.base_version != base:
            bases.setdefault(trial.base_version, None)
    found: dict[str, Variant] = {}
    for earlier in bases:
        for suggestion in suggestions(history, earlier, n=n):
            variant = _variant(reexpress(suggestion.variant.to_json(), workflow))
            if variant is not None and variant.id not in found:
                found[variant.id] = variant
            if len(found) >= n:
                return list(found.values())
    return list(found.values())


def further_steps(
    variant: Variant, workflow: Workflow, generate: Callable[[Workflow], Sequence[Variant]]
) -> list[Variant]:
    """For a numeric knob move that helped, the generator's next moves of the same knob in
    the same direction from the variant, re-expressed as single moves from `workflow`."""
    change = variant.to_json()
    if change.get("kind") != "knob":
        return []
    direction = _direction(change)
    if direction == 0:
        return []
    try:
        moved = variant.apply_to(workflow)
    except WorkflowError:
        return []
    steps = []
    for nxt in generate(moved):
        c = nxt.to_json()
        same_knob = c.get("kind") == "knob" and (c.get("op"), c.get("knob")) == (
            change.get("op"), change.get("knob"),
        )  # fmt: skip
        if same_knob and _direction(c) == direction:
            further = _variant({**c, "old": change.get("old")})
            if further is not None:
                steps.append(further)
    return steps


def _direction(change: Change) -> int:
    old, new = change.get("old"), change.get("new")
    numbers = [v for v in (old, new) if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) != 2:
        return 0
    return (new > old) - (new < old)  # type: ignore[operator]


def _variant(change: Change | None) -> Variant | None:
    if change is None:
        return None
    try:
        return Variant.from_json(change)
    except (WorkflowError, ValueError, KeyError, TypeError):
        return None
