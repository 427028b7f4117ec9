"""`ghostrun init --from SCRIPT`: a static reading of a plain script as a future workflow.

The script is parsed, never run: statements are grouped into operators (grouping.py),
linked by the variables they pass on (linking.py), named, and their literals sorted into
knobs (knobs.py). The result is a `Plan` that explain.py prints and skeleton.py writes.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Sequence
from pathlib import Path

from ghostrun.scaffold import linking
from ghostrun.scaffold.advice import plan_warnings
from ghostrun.scaffold.calls import CallKinds, Imports
from ghostrun.scaffold.grouping import Draft, Grouper
from ghostrun.scaffold.knobs import Constant, KnobFinder, literal, worth_exploring
from ghostrun.scaffold.metrics import as_float
from ghostrun.scaffold.plan import Input, KnobHint, Plan, Step
from ghostrun.scaffold.script import Script, read_script
from ghostrun.scaffold.units import HelperKinds, build_units

__all__ = ["analyse_script", "uses_ghostrun"]

DEFAULT_ESTIMATOR_MODULES = ("sklearn", "xgboost", "lightgbm")
MODULE_ROLES = frozenset({"import", "helper", "constant", "setup"})
KIND_OF_ROLE = {"data": "source", "metric": "metric"}


def analyse_script(path: Path,
                   estimator_modules: Collection[str] = DEFAULT_ESTIMATOR_MODULES) -> Plan:
    """The plan for turning the script at `path` into a workflow (ScriptError if unreadable)."""
    return _Analysis(read_script(path), estimator_modules).plan()


def uses_ghostrun(path: Path) -> bool:
    """Whether the script already imports ghostrun (then it is a workflow already)."""
    script = read_script(path)
    return any(origin.split(".")[0] == "ghostrun"
               for origin in Imports.of(script.tree.body).origins.values())


class _Analysis:
    def __init__(self, script: Script, estimator_modules: Collection[str]) -> None:
        self.script = script
        self.calls = CallKinds(Imports.of(script.tree.body), tuple(estimator_modules))
        self.kinds = HelperKinds.of_body(script.body, self.calls)
        self.units = build_units(script.body, self.calls)
        self.constants = {
            u.names.defs[0]: Constant(u.names.defs[0], ast.literal_eval(u.stmt.value), u.line)
            for u in self.units if u.role == "constant" and isinstance(u.stmt, ast.Assign)
        }
        bound = {n for u in self.units for n in u.names.defs}
        for name, default in script.defaults:
            ok, value = literal(default)
            if ok and name not in bound:
                self.constants[name] = Constant(name, value, default.lineno)
        self.helpers = tuple(self.kinds.helpers)
        self.module_names = (set(self.calls.imports.origins) | set(self.helpers)
                             | set(self.constants))

    def plan(self) -> Plan:
        grouper = Grouper(self.units, self.kinds, self.script.text).run()
        drafts = grouper.drafts
        links = linking.link(drafts)
        names = self._names(drafts, links)
        users = self._constant_users(drafts)
        single = {c: next(iter(u)) for c, u in users.items() if len(u) == 1 and -1 not in u}
        finder = KnobFinder(self.kinds, self.constants, single, set(names) | self.module_names)
        steps = tuple(self._step(i, d, links, names, finder) for i, d in enumerate(drafts))
        return Plan(
            script=self.script.path,
            steps=steps,
            helpers=self.helpers,
            constants=self._kept_constants(users, names, steps),
            left_out=tuple(sorted(grouper.left_out, key=lambda n: n.line)),
            warnings=tuple(plan_warnings(self.script, self.kinds, steps, drafts,
                                         self.constants)),
            module=tuple(u for u in self.units if u.role in MODULE_ROLES),
            defaults=tuple((n, ast.unparse(d)) for n, d in self.script.defaults),
            text=self.script.text,
        )

    def _names(self, drafts: Sequence[Draft], links: Sequence[linking.Link]) -> list[str]:
        namer = linking.Namer(linking.script_names(self.script.tree), self.module_names)
        constants = {n: c.value for n, c in self.constants.items()}
        chosen = []
        for index, draft in enumerate(drafts):
            outputs = links[index].outputs
            wanted = linking.candidates(draft, drafts[:index], outputs, constants,
                                        lambda c: "read" in self.kinds.call_kinds(c))
            own = set(outputs[:1]) if len(outputs) == 1 else set()
            if draft.role == "metric":
                own |= set(draft.defs)
            chosen.append(namer.choose(wanted, own))
        return chosen

    def _constant_users(self, drafts: Sequence[Draft]) -> dict[str, set[int]]:
        """Constant → indexes of the steps reading it (-1 for a helper function)."""
        users: dict[str, set[int]] = {name: set() for name in self.constants}
        for index, draft in enumerate(drafts):
            for name in _loads(linking.emitted(draft)) & set(users):
                users[name].add(index)
        for unit in self.units:
            if unit.role == "helper":
                for name in _loads([unit.stmt]) & set(users):
                    users[name].add(-1)
        return users

    def _step(self, index: int, draft: Draft, links: Sequence[linking.Link], names: list[str],
              finder: KnobFinder) -> Step:
        link = links[index]
        knobs = finder.find(index, draft.role, linking.emitted(draft))
        grouped: dict[int, list[str]] = {}
        for source, var in link.inputs:
            grouped.setdefault(source, []).append(var)
        inputs = tuple(Input(names[s], tuple(v)) for s, v in grouped.items())
        mutated = {n for u in draft.units for n in u.names.mutated}
        return Step(
            name=names[index],
            kind=KIND_OF_ROLE.get(draft.role, "op"),  # type: ignore[arg-type]
            role=draft.role,  # type: ignore[arg-type]
            first_line=min(u.line for u in draft.units),
            last_line=max(u.end_line for u in draft.units),
            inputs=inputs,
            outputs=link.outputs,
            knobs=tuple(knobs.hints),
            goal=draft.metric.goal if draft.metric else None,  # type: ignore[arg-type]
            value=ast.unparse(draft.metric.value) if draft.metric else None,
            helpers=tuple(dict.fromkeys(h for u in draft.units for h in u.helpers)),
            params=tuple(knobs.params),
            returns=_returns(draft, link.outputs),
            units=tuple(draft.units),
            edits=tuple(knobs.edits),
            copies=tuple(v for _, v in link.inputs if v in mutated),
            replaces=tuple(knobs.replaces),
        )

    def _kept_constants(self, users: dict[str, set[int]], names: Sequence[str],
                        steps: Sequence[Step]) -> tuple[KnobHint, ...]:
        """Numeric module constants that stay module-level, with who reads them."""
        lifted = {c for s in steps for c in s.replaces}
        kept = []
        for name, const in self.constants.items():
            ok, value = literal(ast.Constant(const.value))
            if name in lifted or not ok or isinstance(value, bool | str):
                continue
            readers = [names[i] if i >= 0 else "helper functions" for i in sorted(users[name])]
            why = ("a seed or setting, not worth exploring" if not worth_exploring(name)
                   else "read by " + ", ".join(readers) if len(readers) > 1
                   else "read by no step" if not readers else "read by " + readers[0])
            kept.append(KnobHint(name, value, const.line, "constant", why))
        return tuple(kept)


def _returns(draft: Draft, outputs: Sequence[str]) -> str:
    if draft.metric is not None:
        return as_float(draft.metric.value, draft.from_cv)
    if len(outputs) == 1:
        return outputs[0]
    if outputs:
        return "{" + ", ".join(f'"{v}": {v}' for v in outputs) + "}"
    defs = draft.defs
    return defs[-1] if defs else "None"


def _loads(nodes: Sequence[ast.AST]) -> set[str]:
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}

