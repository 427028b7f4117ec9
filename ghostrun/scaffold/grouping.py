"""Grouping the script's units into future operators ("drafts"), in the script's order.

Each read of a data file starts a source; consecutive transformations share one step;
a split, a model (its construction, fit and whatever else touches the model object) and
each metric get their own. Assignments that use no data yet (`model = LGBMClassifier(...)`,
`kf = KFold(5)`) move down into the first step that uses them, so a model's settings sit
with its fit. Prints, plots and file writes are left out; a print that reports a metric
gives that metric its value.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field

from ghostrun.scaffold import metrics
from ghostrun.scaffold.plan import Note
from ghostrun.scaffold.units import HelperKinds, Unit

OPERATOR_ROLES = frozenset({"read", "split", "model", "metric", "transform"})
LEFT_OUT_WHY = {
    "output": "prints or displays; operators return values instead",
    "write": "writes a file; keep it out of the workflow (or in a separate script)",
}


@dataclass
class Draft:
    """A future operator while it is being assembled."""

    role: str  # data, transform, split, model, predict, metric
    units: list[Unit] = field(default_factory=list)
    metric: metrics.MetricRead | None = None
    from_cv: bool = False

    @property
    def defs(self) -> list[str]:
        return list(dict.fromkeys(n for u in self.units for n in u.names.defs))

    def add(self, unit: Unit) -> None:
        self.units.append(unit)


class Grouper:
    """Walks the units once; `drafts` and `left_out` are the result."""

    def __init__(self, units: Sequence[Unit], kinds: HelperKinds, text: str) -> None:
        self.units = units
        self.kinds = kinds
        self.text = text
        self.drafts: list[Draft] = []
        self.left_out: list[Note] = []
        self._defined: set[str] = set()
        self._pending: list[Unit] = []
        self._consumed: set[int] = set()
        self._metric_vars: dict[str, Unit] = {}  # bound by a statement that computes a metric
        self._reported: set[str] = set()

    def run(self) -> Grouper:
        for index, unit in enumerate(self.units):
            if id(unit) in self._consumed:
                continue
            if unit.role in ("output", "write"):
                self._output(unit)
            elif unit.role in OPERATOR_ROLES:
                self._operator(index, unit)
        leftover, self._pending = self._pending, []
        for unit in leftover:  # what nothing later used is still what the script computed
            self._place(unit)
        return self

    # -- placing a statement ------------------------------------------------------------
    def _operator(self, index: int, unit: Unit) -> None:
        if self._is_deferred(unit):
            self._pending.append(unit)
            return
        draft = self._place(unit)
        if draft.role == "metric":
            self._read_metric(draft, index, unit)
            self._reported.update(unit.names.defs)

    def _place(self, unit: Unit) -> Draft:
        draft = self._draft_for(unit)
        for spec in self._specs_used_by(unit):
            draft.add(spec)
            self._defined.update(spec.names.defs)
        draft.add(unit)
        self._defined.update(unit.names.defs)
        if "metric" in unit.kinds:
            self._metric_vars.update(dict.fromkeys(unit.names.defs, unit))
        return draft

    def _is_deferred(self, unit: Unit) -> bool:
        """A plain assignment that uses no data yet: it moves to where it is used."""
        uses = set(unit.names.uses)
        return (isinstance(unit.stmt, ast.Assign | ast.AnnAssign) and not unit.names.mutated
                and unit.role in ("model", "transform") and not uses & self._defined
                and "fit" not in unit.kinds)

    def _specs_used_by(self, unit: Unit) -> list[Unit]:
        """The deferred statements `unit` needs (and those they need), in script order."""
        wanted = set(unit.names.uses)
        taken: list[Unit] = []
        for spec in reversed(self._pending):
            if wanted & set(spec.names.defs):
                taken.append(spec)
                wanted |= set(spec.names.uses)
        for spec in taken:
            self._pending.remove(spec)
        return sorted(taken, key=lambda u: u.line)

    def _draft_for(self, unit: Unit) -> Draft:
        role = unit.role
        uses_data = bool(set(unit.names.uses) & self._defined)
        if role == "read" and not uses_data:
            return self._new("data")
        current = self.drafts[-1] if self.drafts else None
        if role in ("split", "metric"):
            return self._new(role)
        if role == "model":
            if current is not None and current.role == "model" and (
                    set(unit.names.uses) & set(current.defs)):
                return current
            return self._new("model")
        if current is not None and current.role in ("transform", "predict"):
            return current
        modelled = any(d.role == "model" for d in self.drafts)
        return self._new("predict" if modelled else "transform")

    def _new(self, role: str) -> Draft:
        draft = Draft(role)
        self.drafts.append(draft)
        return draft

    # -- metrics --------------------------------------------------------------------------
    def _is_metric_call(self, call: ast.Call) -> bool:
        return "metric" in self.kinds.call_kinds(call)

    def _has_metric(self, expr: ast.expr) -> bool:
        return any(isinstance(n, ast.Call) and self._is_metric_call(n) for n in ast.walk(expr))

    def _read_metric(self, draft: Draft, index: int, unit: Unit) -> None:
        stmt = unit.stmt
        if isinstance(stmt, ast.Expr):
            value = stmt.value
            label = None
            if isinstance(value, ast.Call) and not self._is_metric_call(value):
                label = metrics.print_label(value)
                value = metrics.printed_value(value, self._has_metric) or value
            draft.metric = self._metric(value, [label], [unit])
            return
        names = list(unit.names.defs)
        printed, label = self._printed_later(index, names)
        value = printed or (ast.Name(names[0]) if names else self._first_metric_call(stmt))
        draft.metric = self._metric(value, [label, *names[:1]], [unit])
        draft.from_cv = "cv_metric" in unit.kinds and printed is None

    def _first_metric_call(self, stmt: ast.stmt) -> ast.expr:
        """For a metric that is neither printed nor kept (`assert auc(...) > 0.5`)."""
        calls = (n for n in ast.walk(stmt) if isinstance(n, ast.Call) and self._is_metric_call(n))
        return next(calls, ast.Constant(float("nan")))

    def _printed_later(self, index: int, names: list[str]) -> tuple[ast.expr | None, str | None]:
        """The first later print that shows one of `names`: its expression and label."""
        wanted = set(names)
        for unit in self.units[index + 1:]:
            if unit.role == "output" and isinstance(unit.stmt, ast.Expr):
                call = unit.stmt.value
                if isinstance(call, ast.Call):
                    found = metrics.printed_value(call, lambda e: bool(_loads(e) & wanted))
                    if found is not None:
                        self._consumed.add(id(unit))
                        return found, metrics.print_label(call)
            if wanted & set(unit.names.defs):
                break
        return None, None

    def _output(self, unit: Unit) -> None:
        """A print of a metric computed in a loop becomes that metric; the rest is left out."""
        stmt = unit.stmt
        shown = _loads(stmt) & set(self._metric_vars) - self._reported
        if shown and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            var = sorted(shown)[0]
            value = metrics.printed_value(stmt.value, lambda e: var in _loads(e))
            if value is not None:
                self._reported.add(var)
                draft = self._new("metric")
                draft.add(unit)
                label = metrics.print_label(stmt.value)
                draft.metric = self._metric(value, [label, var], [self._metric_vars[var]])
                draft.from_cv = "cv_metric" in self._metric_vars[var].kinds
                return
        text = ast.get_source_segment(self.text, stmt) or ast.unparse(stmt)
        self.left_out.append(Note(unit.line, text.splitlines()[0], LEFT_OUT_WHY[unit.role]))

    def _metric(self, value: ast.expr, names: list[str | None],
                where: list[Unit]) -> metrics.MetricRead:
        function = self._function(value, where)
        candidates = [n for n in [*names, metrics.short_name(function, value)] if n]
        goal = metrics.goal_for(function, value, candidates)
        return metrics.MetricRead(value, tuple(dict.fromkeys(candidates)), goal)

    def _function(self, value: ast.expr, where: list[Unit]) -> str | None:
        direct = metrics.metric_function([value, *(u.stmt for u in where)],
                                         lambda c: "metric" in self.kinds.calls.kinds(c))
        if direct is not None:
            return direct
        for unit in where:
            for helper in unit.helpers:
                found = metrics.metric_function(self.kinds.helper_body(helper),
                                                self._is_metric_call)
                if found is not None:
                    return found
        return None


def _loads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
