"""The workflow API users write against: `source`, `op`, `metric`, `knob`.

Decorators only attach a declaration to the function (`__ghostrun__`) and replace
`knob(...)` defaults with their plain values, so the module stays runnable and testable as
plain Python. Reading the declarations into a graph is the loader's job.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from ghostrun.workflow.types import Goal, KnobRange, MetricOptions, OpKind, SourceOptions

F = TypeVar("F", bound=Callable[..., Any])

DECLARATION_ATTR = "__ghostrun__"


@dataclass(frozen=True)
class KnobDefault:
    """What `knob(...)` returns: a default plus its search range, until a decorator
    unwraps it."""

    default: Any
    range: KnobRange

    def __repr__(self) -> str:
        return f"knob({self.default!r})"


@dataclass(frozen=True)
class Declaration:
    kind: OpKind
    source: SourceOptions | None = None
    metric: MetricOptions | None = None
    knob_ranges: dict[str, KnobRange] = field(default_factory=dict)


def knob(
    default: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    log: bool = False,
    choices: Iterable[Any] | None = None,
    budget: bool = False,
) -> Any:
    """Mark a keyword default as tunable within a range (used by exploration)."""
    choice_tuple = tuple(choices) if choices is not None else None
    if low is not None and high is not None and low > high:
        raise ValueError(f"knob({default!r}): low={low} is above high={high}; swap them.")
    if log and low is not None and low <= 0:
        raise ValueError(f"knob({default!r}): a log-scale knob needs low > 0, got {low}.")
    rng = KnobRange(low=low, high=high, log=log, choices=choice_tuple, budget=budget)
    return KnobDefault(default=default, range=rng)


def _unwrap_knob_defaults(func: Callable[..., Any]) -> dict[str, KnobRange]:
    """Replace `knob(...)` defaults in the signature by plain values; return the ranges."""
    ranges: dict[str, KnobRange] = {}
    params = inspect.signature(func).parameters.values()
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if func.__defaults__:
        with_defaults = positional[len(positional) - len(func.__defaults__) :]
        plain = []
        for param, value in zip(with_defaults, func.__defaults__, strict=True):
            if isinstance(value, KnobDefault):
                ranges[param.name] = value.range
                value = value.default
            plain.append(value)
        func.__defaults__ = tuple(plain)
    if func.__kwdefaults__:
        for name, value in list(func.__kwdefaults__.items()):
            if isinstance(value, KnobDefault):
                ranges[name] = value.range
                func.__kwdefaults__[name] = value.default
    return ranges


def _declare(func: F, kind: OpKind, **options: Any) -> F:
    if not callable(func) or not hasattr(func, "__code__"):
        raise TypeError(f"@gr.{kind} decorates a plain function, got {func!r}.")
    ranges = _unwrap_knob_defaults(func)
    setattr(func, DECLARATION_ATTR, Declaration(kind=kind, knob_ranges=ranges, **options))
    return func


@overload
def source(func: F, /) -> F: ...
@overload
def source(
    *, sample_by: str | None = None, sample: bool = True, files: Iterable[str] = ()
) -> Callable[[F], F]: ...
def source(
    func: F | None = None,
    /,
    *,
    sample_by: str | None = None,
    sample: bool = True,
    files: Iterable[str] = (),
) -> F | Callable[[F], F]:
    """Declare a data-loading operator whose rows approximate runs may sample."""
    if isinstance(files, str):
        files = (files,)
    options = SourceOptions(sample=sample, sample_by=sample_by, files=tuple(files))
    decorate = functools.partial(_declare, kind="source", source=options)
    return decorate(func) if func is not None else decorate  # type: ignore[return-value]


def op(func: F, /) -> F:
    """Declare an operator: its parameter names are the operators it consumes."""
    return _declare(func, "op")


@overload
def metric(func: F, /) -> F: ...
@overload
def metric(*, goal: Goal = "max", primary: bool = False) -> Callable[[F], F]: ...
def metric(
    func: F | None = None, /, *, goal: Goal = "max", primary: bool = False
) -> F | Callable[[F], F]:
    """Declare an evaluation operator returning a float or a dict of floats."""
    if goal not in ("max", "min"):
        raise ValueError(f"@gr.metric(goal={goal!r}): goal must be 'max' or 'min'.")
    options = MetricOptions(goal=goal, primary=primary)
    decorate = functools.partial(_declare, kind="metric", metric=options)
    return decorate(func) if func is not None else decorate  # type: ignore[return-value]


def declaration_of(func: object) -> Declaration | None:
    decl = getattr(func, DECLARATION_ATTR, None)
    return decl if isinstance(decl, Declaration) else None
