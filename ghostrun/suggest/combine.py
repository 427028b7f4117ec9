"""New variants built from measured ones: pairs, further steps, moves around the best.

- `combined(a, b)`: both changes, unless they clash (move the same thing, or one swaps an
  estimator the other tunes: the swap drops or renames the other's keywords).
- `further_steps(v)`: for a numeric knob move that helped, the generator's next moves of
  the same knob in the same direction, as single moves from the base.
- `around(v)`: the generator's single moves of the variant's own workflow, each composed
  with the variant into one change from the base (a knob the variant already moved keeps
  one part, old → newest). Once the nearby single moves are used up, the search walks on
  from its best finding this way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ghostrun.errors import WorkflowError
from ghostrun.suggest.surrogate import group_of
from ghostrun.suggest.variant import Variant, pair
from ghostrun.workflow.graph import Workflow

Change = Mapping[str, Any]
Generate = Callable[[Workflow], Sequence[Variant]]


def clash(a: Variant, b: Variant) -> bool:
    groups = {str(group_of(p)) for p in a.parts}
    if any(str(group_of(p)) in groups for p in b.parts):
        return True
    swapped = {p["op"] for v in (a, b) for p in v.parts if p.get("kind") == "estimator"}
    touched = [p["op"] for v in (a, b) for p in v.parts]
    return any(touched.count(op) > 1 for op in swapped)


def combined(a: Variant, b: Variant) -> Variant | None:
    if clash(a, b):
        return None
    try:
        return pair(a, b)
    except (WorkflowError, ValueError):
        return None


def further_steps(variant: Variant, workflow: Workflow, generate: Generate) -> list[Variant]:
    change = variant.to_json()
    direction = _direction(change) if change.get("kind") == "knob" else 0
    moved = _applied(variant, workflow) if direction else None
    if moved is None:
        return []
    steps = []
    for nxt in generate(moved):
        c = nxt.to_json()
        if _same_knob(c, change) and _direction(c) == direction:
            further = from_json({**c, "old": change.get("old")})
            if further is not None:
                steps.append(further)
    return steps


def around(variant: Variant, workflow: Workflow, generate: Generate) -> list[Variant]:
    moved = _applied(variant, workflow)
    if moved is None:
        return []
    found = []
    for nxt in generate(moved):
        composed = compose(variant, nxt.to_json())
        if composed is not None:
            found.append(composed)
    return found


def compose(variant: Variant, move: Change) -> Variant | None:
    """`variant` then the single `move` (measured from the variant's workflow), as one
    change from the base; None when it undoes a part or swaps an estimator twice."""
    parts = [dict(p) for p in variant.parts]
    kind = move.get("kind")
    if kind == "knob":
        mine = next((p for p in parts if _same_knob(p, move)), None)
        if mine is not None:
            if move.get("new") == mine.get("old"):
                return None  # back where the base was: a measured sub-variant
            mine["new"] = move.get("new")
            return from_json(parts[0] if len(parts) == 1 else {"kind": "pair", "parts": parts})
    elif kind == "estimator":
        if any(p.get("kind") == "estimator" and p.get("op") == move.get("op") for p in parts):
            return None
    elif any(dict(p) == dict(move) for p in parts):
        return None
    return from_json({"kind": "pair", "parts": [*parts, dict(move)]})


def _applied(variant: Variant, workflow: Workflow) -> Workflow | None:
    try:
        return variant.apply_to(workflow)
    except WorkflowError:
        return None


def _same_knob(a: Change, b: Change) -> bool:
    return a.get("kind") == b.get("kind") == "knob" and (a.get("op"), a.get("knob")) == (
        b.get("op"),
        b.get("knob"),
    )


def _direction(change: Change) -> int:
    old, new = change.get("old"), change.get("new")
    numbers = [v for v in (old, new) if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) != 2:
        return 0
    return (new > old) - (new < old)  # type: ignore[operator]


def from_json(change: Change | None) -> Variant | None:
    """The variant of `change`, or None when it is not a valid one."""
    if change is None:
        return None
    try:
        return Variant.from_json(change)
    except (WorkflowError, ValueError, KeyError, TypeError):
        return None
