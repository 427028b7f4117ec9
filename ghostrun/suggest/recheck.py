"""Carrying findings over: earlier versions' best variants re-expressed on the current one.

Once the user's code moves on, a variant measured on an earlier version is stale as a
measurement (its base is gone) but still evidence: the same move often helps again. A knob
move is re-expressed from the knob's current value (`num_leaves 31 → 63` becomes
`47 → 63` after the user set 47 by hand, and disappears once they set 63); a pair keeps
whichever parts still apply; estimator swaps and column drops are tried as they are, and
the overlay refuses those that no longer apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ghostrun.errors import WorkflowError
from ghostrun.history import History
from ghostrun.suggest.combine import from_json
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
        kept = _parts_that_apply(change.get("parts") or [], workflow)
        if len(kept) >= 2:
            return {**change, "parts": kept}
        return kept[0] if kept else None
    return dict(change)


def _parts_that_apply(parts: list[Change], workflow: Workflow) -> list[dict[str, Any]]:
    """Each part re-expressed on the workflow the parts before it produce (a knob of a
    swapped-in estimator exists only after the swap); parts that no longer apply go."""
    kept = []
    for part in parts:
        again = reexpress(part, workflow)
        single = from_json(again)
        if again is None or single is None:
            continue
        try:
            workflow = single.apply_to(workflow)
        except WorkflowError:
            continue
        kept.append(again)
    return kept


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
            variant = from_json(reexpress(suggestion.variant.to_json(), workflow))
            if variant is not None and variant.id not in found:
                found[variant.id] = variant
            if len(found) >= n:
                return list(found.values())
    return list(found.values())
