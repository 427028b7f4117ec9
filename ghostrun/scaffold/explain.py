"""The plan as people read it: which blocks become which operators, what they take, which
literals become knobs, and what to change by hand."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ghostrun.config import display_path
from ghostrun.scaffold.knobs import source_literal
from ghostrun.scaffold.plan import KnobHint, Plan, Step


def explain(plan: Plan, skeleton: str | None = None) -> RenderableType:
    """Everything `ghostrun init --from` prints about the plan."""
    shown = display_path(plan.script)
    parts: list[RenderableType] = [
        Text.assemble(("How ", "bold"), (shown, "bold cyan"),
                      (" would become a ghostrun workflow", "bold"),
                      (" (read only: the script was not run or changed)", "dim")),
        _table(plan),
    ]
    parts += _section("Knobs", list(_knob_lines(plan)))
    parts += _section("What to change", list(_changes(plan, shown, skeleton)))
    parts += _section("Left out", [f"line {n.line}: {n.text}  [{n.why}]" for n in plan.left_out])
    parts += _section("Check by hand", list(plan.warnings))
    return Group(*parts)


def _table(plan: Plan) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 2, 0, 0))
    table.add_column("lines", no_wrap=True)
    table.add_column("operator", no_wrap=True)
    table.add_column("takes (operator: variables)", overflow="fold")
    table.add_column("returns", overflow="fold")
    for step in plan.steps:
        operator = Text.assemble((step.name, "bold"), "\n", (step.decorator, "dim"))
        if step.helpers:
            operator.append(f"\ncalls {', '.join(step.helpers)}", "dim")
        table.add_row(_lines(step), operator, _inputs(step), _returns(step))
    return table


def _lines(step: Step) -> str:
    if step.first_line == step.last_line:
        return str(step.first_line)
    return f"{step.first_line}-{step.last_line}"


def _inputs(step: Step) -> Text:
    if not step.inputs:
        return Text("-", "dim")
    parts = [f"{i.op}: {', '.join(i.names)}" if i.names != (i.op,) else i.op
             for i in step.inputs]
    return Text("\n".join(parts))


def _returns(step: Step) -> Text:
    if step.kind == "metric":
        return Text(f"{step.value}  (goal {step.goal})")
    if step.outputs:
        return Text(", ".join(step.outputs))
    return Text("nothing later steps use", "dim")


def _knob_lines(plan: Plan) -> Iterator[str]:
    for step in plan.steps:
        params = [k for k in step.knobs if k.kind != "implicit"]
        implicit = [k for k in step.knobs if k.kind == "implicit"]
        for knob in params:
            yield f"{step.name}: {_knob(knob)}"
        if implicit:
            listed = ", ".join(f"{k.name}={source_literal(k.value)}" for k in implicit)
            yield f"{step.name}: {listed}  [estimator keywords: knobs as they are]"
    for const in plan.constants:
        yield (f"module constant {const.name} = {source_literal(const.value)} (line {const.line}) "
               "stays at "
               f"module level: {const.origin}")


def _knob(knob: KnobHint) -> str:
    if knob.kind == "data":
        return (f"parameter {knob.name}={source_literal(knob.value)} (line {knob.line}, "
                f"{knob.origin}): a data "
                "input, fingerprinted by content, never explored")
    return (f"parameter {knob.name}={source_literal(knob.value)} (line {knob.line}, "
            f"from {knob.origin})")


def _changes(plan: Plan, shown: str, skeleton: str | None) -> Iterator[str]:
    example = next((s for s in plan.steps if s.inputs), None)
    if example is not None:
        signature = ", ".join([*example.input_ops, *(f"{p.name}={p.default}"
                                                       for p in example.params)])
        yield (f"Wrap each block in a function named after its operator, taking the operators "
               f"it reads as parameters and returning what later steps use, e.g. "
               f"`def {example.name}({signature}):`.")
    yield ("Decorate data loaders with @gr.source, steps with @gr.op and metrics with "
           "@gr.metric(goal=...); the first metric is the primary one.")
    yield ("Literals listed as parameters become keyword defaults, which are knobs; give one a "
           "range with gr.knob(default, low=..., high=...) to explore it.")
    if plan.helpers:
        yield (f"Keep {_listing(plan.helpers)} as plain helpers: undecorated functions are not "
               "operators, and an operator's fingerprint covers the helpers it calls.")
    if any(s.copies for s in plan.steps):
        names = ", ".join(sorted({f"{s.name} ({', '.join(s.copies)})"
                                  for s in plan.steps if s.copies}))
        yield (f"Copy inputs a step changes in place before changing them: {names}; results "
               "are cached and shared, so an operator must not modify what it is given.")
    if skeleton is None:
        yield (f"`ghostrun init --from {shown} --write-skeleton pipeline.py` writes all of this "
               f"as a new file; {shown} stays as it is.")
    else:
        yield (f"Review {skeleton}, then `ghostrun run` runs it (each run reuses what did not "
               "change).")


def _listing(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _section(title: str, lines: Sequence[str]) -> list[RenderableType]:
    if not lines:
        return []
    text = Text()
    text.append(f"\n{title}\n", "bold")
    for index, line in enumerate(lines):
        text.append(f"  {index + 1}. " if title == "What to change" else "  - ")
        text.append(line + ("\n" if index < len(lines) - 1 else ""))
    return [text]
