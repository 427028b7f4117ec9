"""The row-carrying members of a source's output, and taking rows from them.

A *member* is a DataFrame, a Series, a numpy array with at least one axis, or a pyarrow
Table / RecordBatch. A source may return one, or tuples, lists, dicts, dataclasses and
namedtuples of them, nested at any depth. `map_members` rebuilds such a container with a
function applied to each member, and returns the very same object wherever nothing inside
changed (scalars and other objects pass through untouched).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

Member = pd.DataFrame | pd.Series | np.ndarray | pa.Table | pa.RecordBatch
MemberFn = Callable[[Any], Any]


def is_member(value: object) -> bool:
    if isinstance(value, (pd.DataFrame, pd.Series, pa.Table, pa.RecordBatch)):
        return True
    return isinstance(value, np.ndarray) and value.ndim >= 1


def row_count(member: Any) -> int:
    if isinstance(member, (pa.Table, pa.RecordBatch)):
        return int(member.num_rows)
    return int(member.shape[0])


def take_rows(member: Any, positions: np.ndarray) -> Any:
    """The rows at `positions` (ascending), keeping dtypes, index labels and order."""
    if isinstance(member, (pd.DataFrame, pd.Series)):
        return member.take(positions)
    if isinstance(member, (pa.Table, pa.RecordBatch)):
        return member.take(pa.array(positions))
    return np.take(member, positions, axis=0)


def members_of(value: object) -> list[Any]:
    """Every member inside `value`, depth first, in order."""
    found: list[Any] = []

    def record(member: Any) -> Any:
        found.append(member)
        return member

    map_members(value, record)
    return found


def map_members(value: Any, fn: MemberFn, _ancestors: frozenset[int] = frozenset()) -> Any:
    """`value` with `fn` applied to each member; unchanged parts keep their identity."""
    if is_member(value):
        return fn(value)
    if id(value) in _ancestors:
        return value  # a container that contains itself: leave the cycle alone
    inner = _ancestors | {id(value)}
    for kind, rebuild in _CONTAINERS:
        if _is_kind(value, kind):
            return rebuild(value, fn, inner)
    return value


def _is_kind(value: object, kind: type | None) -> bool:
    if kind is None:
        return dataclasses.is_dataclass(value) and not isinstance(value, type)
    return isinstance(value, kind)


def _mapped(items: list[Any], fn: MemberFn, inner: frozenset[int]) -> list[Any] | None:
    """The mapped items, or None when every item came back as the same object."""
    new = [map_members(item, fn, inner) for item in items]
    return None if all(a is b for a, b in zip(new, items, strict=True)) else new


def _rebuild_tuple(value: tuple[Any, ...], fn: MemberFn, inner: frozenset[int]) -> Any:
    new = _mapped(list(value), fn, inner)
    if new is None:
        return value
    if hasattr(type(value), "_fields"):  # a namedtuple
        return type(value)._make(new)  # type: ignore[attr-defined]
    return tuple(new) if type(value) is tuple else type(value)(new)


def _rebuild_list(value: list[Any], fn: MemberFn, inner: frozenset[int]) -> Any:
    new = _mapped(value, fn, inner)
    if new is None:
        return value
    if type(value) is list:
        return new
    out = copy.copy(value)
    out[:] = new
    return out


def _rebuild_dict(value: dict[Any, Any], fn: MemberFn, inner: frozenset[int]) -> Any:
    keys = list(value)
    new = _mapped([value[k] for k in keys], fn, inner)
    if new is None:
        return value
    out = {} if type(value) is dict else copy.copy(value)
    for key, item in zip(keys, new, strict=True):
        out[key] = item
    return out


def _rebuild_dataclass(value: Any, fn: MemberFn, inner: frozenset[int]) -> Any:
    """A shallow copy with the changed fields set; `__post_init__` does not run again."""
    names = [f.name for f in dataclasses.fields(value)]
    new = _mapped([getattr(value, name) for name in names], fn, inner)
    if new is None:
        return value
    out = copy.copy(value)
    for name, item in zip(names, new, strict=True):
        object.__setattr__(out, name, item)  # works for frozen and slotted dataclasses
    return out


_CONTAINERS: list[tuple[type | None, Callable[[Any, MemberFn, frozenset[int]], Any]]] = [
    (tuple, _rebuild_tuple),
    (list, _rebuild_list),
    (dict, _rebuild_dict),
    (None, _rebuild_dataclass),
]
