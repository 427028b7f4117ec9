"""What the plan cannot do for the user: things in the script a workflow needs changed by
hand, each said as a fix."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Sequence

from ghostrun.scaffold.grouping import Draft
from ghostrun.scaffold.knobs import Constant, literal
from ghostrun.scaffold.names import names_of
from ghostrun.scaffold.plan import Step
from ghostrun.scaffold.script import Script
from ghostrun.scaffold.units import HelperKinds


def plan_warnings(script: Script, kinds: HelperKinds, steps: Sequence[Step],
                  drafts: Sequence[Draft], constants: Mapping[str, Constant]) -> Iterator[str]:
    if not any(s.kind == "metric" for s in steps):
        yield ("No metric found: add an operator decorated with @gr.metric(goal=\"max\" or "
               "\"min\") that returns the number you judge a change by.")
    if not any(s.kind == "source" for s in steps):
        yield ("No data file read was recognised: decorate the operator that loads your data "
               "with @gr.source, so approximate runs can sample its rows.")
    data_vars = {v for d in drafts for v in d.defs}
    for name, helper in kinds.helpers.items():
        yield from _helper_warnings(name, helper, kinds, data_vars)
    yield from _dict_constants(steps, constants)
    yield from _work_in_a_function(script, kinds)
    origins = kinds.calls.imports.origins.values()
    if "argparse" in origins or "sys.argv" in ast.unparse(script.tree):
        yield ("The script reads command-line arguments; operators are called without them: "
               "make each argument a parameter default of the operator that uses it.")


def _helper_warnings(name: str, helper: ast.stmt, kinds: HelperKinds,
                     data_vars: set[str]) -> Iterator[str]:
    if not isinstance(helper, ast.FunctionDef | ast.AsyncFunctionDef):
        return
    globals_read = sorted(set(names_of(helper).uses) & data_vars)
    if globals_read:
        yield (f"Function {name} (line {helper.lineno}) reads the script's "
               f"{_plural('variable', globals_read)} {', '.join(globals_read)} as globals; "
               "in a workflow they are operators' results: pass them in as parameters.")
    for call in (n for n in ast.walk(helper) if isinstance(n, ast.Call)):
        label = kinds.calls.estimator_label(call)
        literals = [k.arg for k in call.keywords if k.arg and literal(k.value)[0]]
        if label and literals:
            shown = ", ".join(f"{k}=..." for k in literals)
            yield (f"{label}({shown}) at line {call.lineno} sits in function {name}: implicit "
                   f"knobs are read only in an operator's own body; make them parameters of "
                   f"{name} or build the estimator in the operator to explore them.")


def _work_in_a_function(script: Script, kinds: HelperKinds) -> Iterator[str]:
    """`main("data.csv")`: the whole script in one call the plan cannot look into."""
    for stmt in script.body:
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            continue
        func = stmt.value.func
        if isinstance(func, ast.Name) and func.id in kinds.helpers:
            if kinds.call_kinds(stmt.value) & {"read", "estimator", "fit"}:
                yield (f"The script does its work inside {func.id}(...) (line {stmt.lineno}), "
                       "called with arguments, so it is read as one block: move that "
                       "function's body to the top level of the script for a finer plan.")


def _dict_constants(steps: Sequence[Step], constants: Mapping[str, Constant]) -> Iterator[str]:
    for const in constants.values():
        if not isinstance(const.value, dict):
            continue
        numbers = [k for k, v in const.value.items()
                   if isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)]
        readers = [s.name for s in steps if const.name in _loads(s)]
        if numbers and readers:
            yield (f"Dict {const.name} (line {const.line}) is fingerprinted, but its entries are "
                   f"not knobs: to explore one (e.g. {numbers[0]}), make it a parameter of "
                   f"{readers[0]} and put it in the dict there.")


def _loads(step: Step) -> set[str]:
    return {n.id for u in step.units for n in ast.walk(u.stmt) if isinstance(n, ast.Name)}


def _plural(word: str, items: Sequence[str]) -> str:
    return word if len(items) == 1 else word + "s"
