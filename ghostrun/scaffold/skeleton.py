"""The suggested `pipeline.py` for a plan: the script's own statements moved into decorated
functions, written to a new file (the script itself is never touched).

Module level keeps what a workflow module may hold: the imports, setup calls, constants and
the script's helper functions. Each step becomes a function whose parameters are the
operators it reads from (then its knob parameters); it unpacks the variables it uses from
them, runs the original statements, and returns what later steps use.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

from ghostrun.scaffold.plan import Edit, Plan, Step
from ghostrun.scaffold.units import Unit

INDENT = "    "


def skeleton_text(plan: Plan) -> str:
    """The whole module's text; it always parses (a failure here is a ghostrun bug)."""
    source = plan.text.encode("utf-8")
    lines = source.splitlines(keepends=True)
    producer = {s.name: s for s in plan.steps}
    replaced = {c for s in plan.steps for c in s.replaces}
    parts = [_header(plan) + "\n\n" + _imports(plan, lines)]
    module = [u for u in plan.module if u.role != "import"
              and not (u.role == "constant" and set(u.names.defs) & replaced)]
    defaults = [f"{n} = {text}" for n, text in plan.defaults if n not in replaced]
    if defaults:
        parts.append("\n".join(defaults))
    parts.extend(_module_blocks(module, lines))
    parts.extend(_function(step, lines, producer) for step in plan.steps)
    text = "\n\n\n".join(p.rstrip("\n") for p in parts if p.strip()) + "\n"
    ast.parse(text)
    return text


def _module_blocks(module: Sequence[Unit], lines: Sequence[bytes]) -> list[str]:
    """Consecutive constants and setup calls share a block; each helper is its own."""
    blocks: list[list[str]] = []
    previous = None
    for unit in module:
        if unit.role == "helper" or previous in (None, "helper"):
            blocks.append([])
        blocks[-1].append(_statement(unit.stmt, lines, ()))
        previous = unit.role
    return ["\n".join(b) for b in blocks]


def _header(plan: Plan) -> str:
    name = plan.script.name
    return (f'"""ghostrun workflow suggested by `ghostrun init --from {name}`.\n\n'
            "Each function is an operator: its parameters name the operators it reads, its\n"
            "keyword defaults are knobs. The statements come from "
            f"{name}, which was left as it\nwas; check this file, then edit it freely.\n"
            '"""')


def _imports(plan: Plan, lines: Sequence[bytes]) -> str:
    texts = [_statement(u.stmt, lines, ()) for u in plan.module if u.role == "import"]
    future = [t for t in texts if t.startswith("from __future__")]
    rest = list(dict.fromkeys(t for t in texts if t not in future))
    producer = {s.name: s for s in plan.steps}
    needs_copy = any(producer[i.op].role == "model" and set(i.names) & set(s.copies)
                     for s in plan.steps for i in s.inputs)
    extra = ["import copy"] if needs_copy else []
    return "\n".join([*future, *extra, *rest, "", "import ghostrun as gr"])


def _function(step: Step, lines: Sequence[bytes], producer: dict[str, Step]) -> str:
    params = [i.op for i in step.inputs] + [f"{p.name}={p.default}" for p in step.params]
    head = [step.decorator, f"def {step.name}({', '.join(params)}):"]
    body = _unpack(step, producer)
    for unit in _kept(step):
        body.append(_statement(unit.stmt, lines, step.edits))
    body.append(f"return {step.returns}")
    return "\n".join(head) + "\n" + "\n".join(_indent(b) for b in body)


def _kept(step: Step) -> list[Unit]:
    """A metric's prints give way to its return."""
    if step.kind != "metric":
        return list(step.units)
    return [u for u in step.units if not isinstance(u.stmt, ast.Expr)]


def _unpack(step: Step, producer: dict[str, Step]) -> list[str]:
    """Bind the script's variables from the operators they come from."""
    lines = []
    for item in step.inputs:
        whole = len(producer[item.op].outputs) <= 1
        for var in item.names:
            value = item.op if whole else f'{item.op}["{var}"]'
            if var in step.copies:
                value = _copy_call(producer[item.op], var, value)
            if value != var:
                lines.append(f"{var} = {value}")
    return lines


def _copy_call(source: Step, var: str, value: str | None = None) -> str:
    """An input changed in place must be copied first: the original stays cached for
    others. Models have no `.copy()`; everything else of a script's data does."""
    value = value or var
    return f"copy.deepcopy({value})" if source.role == "model" else f"{value}.copy()"


def _indent(text: str) -> str:
    return "\n".join(INDENT + line if line.strip() else "" for line in text.splitlines())


def _statement(stmt: ast.stmt, lines: Sequence[bytes], edits: Iterable[Edit]) -> str:
    """`stmt`'s own text with `edits` applied, the comment lines right above it and a
    trailing comment kept, dedented to column 0."""
    first = stmt.lineno
    decorators = getattr(stmt, "decorator_list", [])
    if decorators:
        first = min(first, *(d.lineno for d in decorators))
    last = stmt.end_lineno or stmt.lineno
    start_col = stmt.col_offset if first == stmt.lineno else decorators[0].col_offset - 1
    chunk = [bytearray(line) for line in lines[first - 1:last]]
    mine = [e for e in edits if first <= e.line and e.end_line <= last]
    for e in sorted(mine, key=lambda e: (e.line, e.col), reverse=True):
        _apply(chunk, first, e)
    end_col = (stmt.end_col_offset or 0) + _shift(mine, last)
    tail = bytes(chunk[-1][end_col:]).strip()
    chunk[-1] = chunk[-1][:end_col] + (b"  " + tail if tail.startswith(b"#") else b"")
    chunk[0] = chunk[0][start_col:] if first == stmt.lineno else chunk[0]
    text = _dedent([bytes(c).decode("utf-8").rstrip("\r\n") for c in chunk], start_col)
    return "\n".join([*_comments_above(lines, first), text])


def _apply(chunk: list[bytearray], first: int, edit: Edit) -> None:
    start, end = edit.line - first, edit.end_line - first
    new = bytes(chunk[start][:edit.col]) + edit.text.encode("utf-8") + bytes(
        chunk[end][edit.end_col:])
    chunk[start:end + 1] = [bytearray(new)]


def _shift(edits: Sequence[Edit], last: int) -> int:
    """How many bytes the edits on the statement's last line moved its end."""
    return sum(len(e.text.encode("utf-8")) - (e.end_col - e.col)
               for e in edits if e.line == e.end_line == last)


def _dedent(text_lines: list[str], col: int) -> str:
    out = [text_lines[0].lstrip()]
    for line in text_lines[1:]:
        lead = len(line) - len(line.lstrip(" \t"))
        out.append(line[min(lead, col):])
    return "\n".join(out)


def _comments_above(lines: Sequence[bytes], first: int) -> list[str]:
    found: list[str] = []
    index = first - 2
    while index >= 0 and lines[index].strip().startswith(b"#"):
        found.append(lines[index].decode("utf-8").strip())
        index -= 1
    return list(reversed(found))
