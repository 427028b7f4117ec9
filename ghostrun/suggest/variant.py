"""A variant: a nearby change of the current version, run as an overlay (DESIGN §7).

A variant is plain JSON (`change`): enough to rebuild it from the base workflow in any
process (overlaid functions do not pickle; send the JSON and overlay there). Kinds:

- knob:      {"kind": "knob", "op": "model", "knob": "num_leaves", "old": 31, "new": 63}
- estimator: {"kind": "estimator", "op": "model", "old": "lightgbm.LGBMClassifier",
              "new": "xgboost.XGBClassifier", "kept": {new keyword: value text},
              "dropped": [old keywords], "added": {keyword: value text}}
              (+ "call": "LGBMClassifier#2" when it is not the operator's first such call)
- drop:      {"kind": "drop", "op": "features", "columns": ["city"]}
              (+ "group": "city" for a one-hot group, whose columns drop together)
- pair:      {"kind": "pair", "parts": [<change>, <change>]}  (applied in order)
- resplit:   {"kind": "resplit", "op": "split", "seed": 1009}: the split re-seeded. Never
             suggested: exploration measures a finding on other splits with it (`resplit`).

`apply_to` never edits the user's files, yet the overlaid workflow fingerprints exactly
like the file after `ghostrun apply` (same code hashes, dependencies and knob values, so
the same version id and cache keys). An estimator swap recomputes which keywords carry
over from the code as it is; `kept`/`dropped` record what they were when generated.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from ghostrun.suggest.edits import VariantError, edit
from ghostrun.workflow.dropcols import return_lines
from ghostrun.workflow.estimators import estimator_calls
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.hashing import hash_parts, stable_repr
from ghostrun.workflow.ondemand import real_workflow
from ghostrun.workflow.sourcetext import loaded_text

__all__ = ["KINDS", "Variant", "VariantError", "pair", "resplit"]

KINDS = ("knob", "estimator", "drop", "pair", "resplit")
PART_KINDS = ("knob", "estimator", "drop", "resplit")


@dataclass(frozen=True)
class Variant:
    """A nearby change of the current version: an overlay, never an edit of user files."""

    kind: str
    change: Mapping[str, Any] = field(hash=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS or self.change.get("kind") != self.kind:
            raise VariantError(f"not a variant: {dict(self.change)!r}.")
        object.__setattr__(self, "change", _plain(self.change))
        parts = self.parts
        if not parts or any(p.get("kind") not in PART_KINDS or "op" not in p for p in parts):
            raise VariantError(f"not a variant: {dict(self.change)!r}.")

    @property
    def id(self) -> str:
        """A short hash of `change`: the same change has the same id in every process."""
        return hash_parts("variant", stable_repr(self.change))[:10]

    @property
    def parts(self) -> list[Mapping[str, Any]]:
        """The single changes, in the order they apply."""
        if self.kind != "pair":
            return [self.change]
        parts = self.change.get("parts")
        return [p for p in parts if isinstance(p, Mapping)] if isinstance(parts, list) else []

    @property
    def ops(self) -> tuple[str, ...]:
        """The operators it modifies."""
        return tuple(dict.fromkeys(str(p["op"]) for p in self.parts))

    def describe(self) -> str:
        """One line for people: "model: num_leaves 31 → 63"."""
        return " + ".join(_describe(p) for p in self.parts)

    def location(self, workflow: Workflow) -> str:
        """`file:line` of what it changes (the first part's, for a pair)."""
        part = self.parts[0]
        op = workflow.operators.get(str(part["op"]))
        if op is None:
            return workflow.relpath
        return f"{op.location.file}:{_line(op, part)}"

    def apply_to(
        self, workflow: Workflow, *, estimator_modules: Collection[str] | None = None
    ) -> Workflow:
        """The overlay: a new Workflow running the variant (raises VariantError when it no
        longer applies). `estimator_modules`: the configured setting, if not the default."""
        workflow = real_workflow(workflow)
        ops = [workflow.operators[n] for n in self.ops if n in workflow.operators]
        if not ops:
            raise VariantError(
                f"the workflow has no operator {self.ops[0]!r} any more.", file=workflow.relpath
            )
        text = loaded_text(workflow, ops[0])
        return edit(workflow, text, self.parts, estimator_modules).workflow

    def to_json(self) -> dict[str, Any]:
        return dict(self.change)

    @classmethod
    def from_json(cls, change: Mapping[str, Any]) -> Variant:
        return cls(kind=str(change.get("kind")), change=change)


def pair(a: Variant, b: Variant) -> Variant:
    """Both changes, `a` first (nested pairs are flattened)."""
    return Variant("pair", {"kind": "pair", "parts": [*a.parts, *b.parts]})


def resplit(op: str, seed: int, variant: Variant | None = None) -> Variant:
    """The split of `op` re-seeded with `seed`, after `variant`'s changes (if any)."""
    again = Variant("resplit", {"kind": "resplit", "op": op, "seed": seed})
    return again if variant is None else pair(variant, again)


def _plain(change: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON round trip: tuples become lists, so a variant equals its JSON's rebuild."""
    try:
        plain: dict[str, Any] = json.loads(json.dumps(dict(change), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise VariantError(f"a variant must be plain JSON: {exc}.") from None
    return plain


def _describe(part: Mapping[str, Any]) -> str:
    op, kind = part["op"], part["kind"]
    if kind == "knob":
        return f"{op}: {part['knob']} {_short(part.get('old'))} → {_short(part['new'])}"
    if kind == "estimator":
        return f"{op}: {_class(part['old'])} → {_class(part['new'])}"
    if kind == "resplit":
        return f"{op}: split re-seeded ({part['seed']})"
    columns = [str(c) for c in part["columns"]]
    if part.get("group"):
        return f"{op}: drop one-hot group {part['group']}_* ({len(columns)} columns)"
    if len(columns) == 1:
        return f"{op}: drop column {columns[0]}"
    return f"{op}: drop columns {', '.join(columns)}"


def _class(qualname: Any) -> str:
    return str(qualname).rsplit(".", 1)[-1]


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _line(op: Any, part: Mapping[str, Any]) -> int:
    kind = part["kind"]
    if kind == "knob":
        knob = op.knob(str(part["knob"]))
        return int(knob.location.line) if knob is not None else int(op.location.line)
    if kind == "estimator":
        label = str(part.get("call") or _class(part["old"]))
        call = next((c for c in estimator_calls(op) if c.label == label), None)
        return call.line if call is not None else int(op.location.line)
    if kind == "resplit":
        return int(op.location.line)
    lines = return_lines(op)
    return lines[0] if lines else int(op.location.line)
