"""One engine for both faces of a variant: the overlay that runs it and the file edit.

Each part of a variant (a knob move, an estimator swap, dropped columns) edits the module
text, and the operators it touches are re-derived from that text: with `with_knobs` for a
knob (its value is masked out of the code hash), recompiled from the edited text for code
changes (`workflow.recompile`). Parts apply in order to the result of the previous ones,
so two parts touching one operator compose. `Variant.apply_to` keeps the workflow;
`apply.plan_edit` keeps the text. Because both come from the same edited text, the
overlay fingerprints exactly like the file after `apply`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from ghostrun.errors import WorkflowError
from ghostrun.workflow.dropcols import dropped_text
from ghostrun.workflow.estimators import Family, family_named, map_keywords
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.hashing import stable_repr
from ghostrun.workflow.overlay import source_with_knobs, with_knobs
from ghostrun.workflow.recompile import recompiled
from ghostrun.workflow.resplit import resplit_text
from ghostrun.workflow.sourcetext import operator_def, remember_text, with_def
from ghostrun.workflow.swap import find_call, swapped_text
from ghostrun.workflow.types import Operator


class VariantError(WorkflowError):
    """A variant no longer applies to the workflow (the code moved on)."""


@dataclass(frozen=True)
class Edited:
    workflow: Workflow  # the overlay
    text: str  # the module text `apply` writes


def edit(
    workflow: Workflow,
    text: str,
    parts: Sequence[Mapping[str, Any]],
    estimator_modules: Collection[str] | None = None,
) -> Edited:
    """Apply `parts` (variant changes, in order) to `workflow` loaded from `text`."""
    for part in parts:
        op = _operator(workflow, part)
        kind = part.get("kind")
        if kind == "knob":
            step = _knob
        elif kind == "estimator":
            step = _estimator
        elif kind == "drop":
            step = _drop
        elif kind == "resplit":
            step = _resplit
        else:
            raise VariantError(f"unknown variant kind {kind!r}.")
        with _no_longer_applies():
            workflow, text = step(workflow, op, text, part, estimator_modules)
    for name in {str(p.get("op")) for p in parts}:
        remember_text(workflow.operators[name], text)  # a further variant edits this text
    return Edited(workflow, text)


def _operator(workflow: Workflow, part: Mapping[str, Any]) -> Operator:
    name = part.get("op")
    if not isinstance(name, str) or name not in workflow.operators:
        raise VariantError(
            f"the workflow has no operator {name!r} any more.",
            file=workflow.relpath,
        )
    return workflow.operators[name]


def _knob(
    workflow: Workflow,
    op: Operator,
    text: str,
    part: Mapping[str, Any],
    estimator_modules: Collection[str] | None,
) -> tuple[Workflow, str]:
    name, new = part.get("knob"), part.get("new")
    knob = op.knob(str(name))
    if knob is None:
        raise VariantError(
            f"operator '{op.name}' has no knob {name!r} any more.",
            file=op.location.file,
            line=op.location.line,
        )
    if stable_repr(knob.value) == stable_repr(new):
        raise VariantError(
            f"knob '{knob.name}' of operator '{op.name}' is {new!r} already.",
            file=knob.location.file,
            line=knob.location.line,
        )
    values = {knob.name: new}
    node = operator_def(workflow, op, text)
    new_def = source_with_knobs(op, values)
    overlaid = with_knobs(workflow, {op.name: values})
    new_op = replace(overlaid.operators[op.name], source_text=new_def)
    return _with_op(overlaid, new_op), with_def(text, node, new_def)


def _estimator(
    workflow: Workflow,
    op: Operator,
    text: str,
    part: Mapping[str, Any],
    estimator_modules: Collection[str] | None,
) -> tuple[Workflow, str]:
    old, new = _family(part.get("old")), _family(part.get("new"))
    if new is old:
        raise VariantError(f"operator '{op.name}' uses {old.name} already.")
    label = str(part.get("call") or old.name)
    call = find_call(op, label)
    if call.family is not old:
        raise VariantError(
            f"the {label}(...) call of operator '{op.name}' is not {old.qualname} any more.",
            file=op.location.file,
            line=call.line,
        )
    mapped = map_keywords(call, new, part.get("added") or {})
    swapped = swapped_text(workflow, op, text, label, new, mapped)
    overlaid = recompiled(
        workflow, text, swapped.text, [op.name], swapped.extra_globals, estimator_modules
    )
    return overlaid, swapped.text


def _drop(
    workflow: Workflow,
    op: Operator,
    text: str,
    part: Mapping[str, Any],
    estimator_modules: Collection[str] | None,
) -> tuple[Workflow, str]:
    columns = list(part.get("columns") or [])
    if not columns:
        raise VariantError("a drop variant names no column.")
    group = bool(part.get("group"))
    new_text = dropped_text(workflow, op, text, columns, group)
    return _rewritten(workflow, op, text, new_text, estimator_modules)


def _resplit(
    workflow: Workflow,
    op: Operator,
    text: str,
    part: Mapping[str, Any],
    estimator_modules: Collection[str] | None,
) -> tuple[Workflow, str]:
    seed = part.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise VariantError(f"a resplit needs an integer seed, not {seed!r}.")
    return _rewritten(workflow, op, text, resplit_text(workflow, op, text, seed), estimator_modules)


def _rewritten(
    workflow: Workflow,
    op: Operator,
    text: str,
    new_text: str,
    estimator_modules: Collection[str] | None,
) -> tuple[Workflow, str]:
    """The workflow with `op` recompiled from `new_text`, and that text."""
    return recompiled(workflow, text, new_text, [op.name], None, estimator_modules), new_text


def _family(qualname: Any) -> Family:
    family = family_named(str(qualname))
    if family is None:
        raise VariantError(f"{qualname!r} is not an estimator ghostrun can swap.")
    return family


def _with_op(workflow: Workflow, op: Operator) -> Workflow:
    return replace(workflow, operators={**workflow.operators, op.name: op})


@contextmanager
def _no_longer_applies() -> Iterator[None]:
    """Report a workflow error met while applying as "the variant no longer applies"."""
    try:
        yield
    except VariantError:
        raise
    except WorkflowError as exc:
        raise VariantError(exc.message, file=exc.file, line=exc.line) from None
    except LookupError as exc:
        raise VariantError(f"the variant no longer applies: {exc}.") from None
