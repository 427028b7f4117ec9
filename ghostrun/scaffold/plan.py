"""What `ghostrun init --from SCRIPT` found: the operators a plain script would become.

A `Plan` is what the explanation prints and the skeleton is written from. Steps keep the
script's statements (`units`) so the skeleton can move them; everything else is plain data
that tests and `--json`-style consumers can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ghostrun.scaffold.units import Unit

OpKind = Literal["source", "op", "metric"]
Role = Literal["data", "transform", "split", "model", "predict", "metric"]
KnobKind = Literal["implicit", "parameter", "constant", "data"]


@dataclass(frozen=True)
class Input:
    """An earlier operator a step consumes, and the script's variables it takes from it."""

    op: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class KnobHint:
    """A literal that would become a knob (or a data input, for `kind="data"`).

    `name` is the knob's name in the workflow: a parameter name, or `Class.param` for an
    implicit knob. `origin` says where the value sits in the script, for people.
    """

    name: str
    value: Any
    line: int
    kind: KnobKind
    origin: str


@dataclass(frozen=True)
class Edit:
    """Replace the script's bytes from (line, col) to (end_line, end_col), ast positions
    (columns in UTF-8 bytes), with `text`."""

    line: int
    col: int
    end_line: int
    end_col: int
    text: str


@dataclass(frozen=True)
class Param:
    """A knob parameter the operator gets: its name and default as source text."""

    name: str
    default: str


@dataclass(frozen=True)
class Step:
    """One future operator: a block of the script's statements."""

    name: str
    kind: OpKind
    role: Role
    first_line: int
    last_line: int
    inputs: tuple[Input, ...]
    outputs: tuple[str, ...]  # the variables later steps use, in the order they are bound
    knobs: tuple[KnobHint, ...] = ()
    goal: Literal["max", "min"] | None = None
    value: str | None = None  # a metric's expression, as the script printed it
    helpers: tuple[str, ...] = ()  # the script's own functions it calls
    params: tuple[Param, ...] = ()  # knob parameters, after the inputs
    returns: str = "None"  # the operator's return expression
    units: tuple[Unit, ...] = field(default=(), compare=False, repr=False)
    edits: tuple[Edit, ...] = field(default=(), compare=False, repr=False)
    copies: tuple[str, ...] = ()  # input variables it changes in place, so copies first
    replaces: tuple[str, ...] = ()  # module constants it took over as parameters

    @property
    def decorator(self) -> str:
        if self.kind == "metric":
            return f'@gr.metric(goal="{self.goal or "max"}")'
        return f"@gr.{self.kind}"

    @property
    def input_ops(self) -> tuple[str, ...]:
        return tuple(i.op for i in self.inputs)


@dataclass(frozen=True)
class Note:
    """A statement left out of the workflow (or kept at module level), and why."""

    line: int
    text: str
    why: str


@dataclass(frozen=True)
class Plan:
    """Everything the explanation says, in the script's order."""

    script: Path
    steps: tuple[Step, ...]
    helpers: tuple[str, ...] = ()  # functions kept as plain helpers at module level
    constants: tuple[KnobHint, ...] = ()  # numeric module constants that stay module-level
    left_out: tuple[Note, ...] = ()
    warnings: tuple[str, ...] = ()
    module: tuple[Unit, ...] = field(default=(), compare=False, repr=False)
    defaults: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)
    text: str = field(default="", compare=False, repr=False)

    @property
    def sources(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind == "source")

    def step(self, name: str) -> Step:
        """The step called `name` (KeyError naming the known ones otherwise)."""
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"no step {name!r}; steps: {', '.join(s.name for s in self.steps)}")

    @property
    def metrics(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind == "metric")
