"""Operators to and from JSON for the quick load's record: exactly, or not at all.

A rebuilt operator must fingerprint, call and report exactly like the one the loader
built, so only values JSON gives back with their type and value intact are recorded
(None, bool, int, float, str, and tuples, lists and string-keyed dicts of those). A
workflow with any other knob value is simply not recorded; it always loads the slow way.
Functions are not recorded: the caller supplies them (see `ondemand`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ghostrun.workflow.hashing import stable_repr
from ghostrun.workflow.types import (
    Knob,
    KnobRange,
    Location,
    MetricOptions,
    Operator,
    SourceOptions,
)


class NotRecordable(Exception):
    """A value the record could not give back exactly (the message says which)."""


_PLAIN = (type(None), bool, int, float, str)


def encode_value(value: Any) -> Any:
    """A JSON form of `value` that `decode_value` turns back into an identical value."""
    if type(value) in _PLAIN:
        return value
    if type(value) is tuple:
        return {"$tuple": [encode_value(v) for v in value]}
    if type(value) is list:
        return [encode_value(v) for v in value]
    if type(value) is dict and all(type(k) is str for k in value):
        return {"$dict": {k: encode_value(v) for k, v in value.items()}}
    raise NotRecordable(f"a value of type {type(value).__name__}")


def decode_value(data: Any) -> Any:
    if isinstance(data, list):
        return [decode_value(v) for v in data]
    if isinstance(data, dict):
        if "$tuple" in data:
            return tuple(decode_value(v) for v in data["$tuple"])
        return {k: decode_value(v) for k, v in data["$dict"].items()}
    return data


def _exact(value: Any) -> Any:
    encoded = encode_value(value)
    if stable_repr(decode_value(encoded)) != stable_repr(value):
        raise NotRecordable(f"the value {value!r}")
    return encoded


def operator_to_json(op: Operator) -> dict[str, Any]:
    """Everything of an operator except its function and source text."""
    src, metric = op.source_options, op.metric_options
    return {
        "name": op.name,
        "kind": op.kind,
        "inputs": list(op.inputs),
        "file": op.location.file,
        "line": op.location.line,
        "code_hash": op.code_hash,
        "deps": dict(op.deps),
        "source": None if src is None else [src.sample, src.sample_by, list(src.files)],
        "metric": None if metric is None else [metric.goal, metric.primary],
        "knobs": [_knob_to_json(k) for k in op.knobs],
    }


def _knob_to_json(knob: Knob) -> dict[str, Any]:
    r = knob.range
    return {
        "name": knob.name,
        "value": _exact(knob.value),
        "file": knob.location.file,
        "line": knob.location.line,
        "implicit": knob.implicit,
        "is_data": knob.is_data,
        "estimator": knob.estimator,
        "range": None
        if r is None
        else [_exact(r.low), _exact(r.high), r.log, _exact(r.choices), r.budget],
    }


def operator_from_json(
    data: dict[str, Any],
    func: Callable[..., Any],
    line: Callable[[str], int],
    source_text: str,
    is_data: Callable[[Any], bool],
) -> Operator:
    """Rebuild an operator; `line` gives today's line of the operator ("") or of a knob
    (by name): comments may have moved code. `is_data` judges a string knob again (a file
    may have appeared or gone)."""
    src, metric = data["source"], data["metric"]
    return Operator(
        name=data["name"],
        kind=data["kind"],
        func=func,
        inputs=tuple(data["inputs"]),
        knobs=tuple(_knob_from_json(k, line, is_data) for k in data["knobs"]),
        location=Location(data["file"], line("")),
        source_text=source_text,
        code_hash=data["code_hash"],
        deps=dict(data["deps"]),
        source_options=None if src is None else SourceOptions(src[0], src[1], tuple(src[2])),
        metric_options=None if metric is None else MetricOptions(metric[0], metric[1]),
    )


def _knob_from_json(
    data: dict[str, Any], line: Callable[[str], int], is_data: Callable[[Any], bool]
) -> Knob:
    value = decode_value(data["value"])
    r = data["range"]
    return Knob(
        name=data["name"],
        value=value,
        location=Location(data["file"], line(data["name"])),
        implicit=data["implicit"],
        range=None
        if r is None
        else KnobRange(decode_value(r[0]), decode_value(r[1]), r[2], decode_value(r[3]), r[4]),
        is_data=data["is_data"] if data["implicit"] else is_data(value),
        estimator=data["estimator"],
    )
