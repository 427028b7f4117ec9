"""Content digests of operator outputs: equal content gives equal digests in every process.

Digests are what cache keys are built from (DESIGN §3, early cutoff), so they must be fast
(gigabytes per second on numeric frames: raw buffers through xxh3_128, never a pickle of
the whole frame) and exact (a renamed column, a changed dtype, order or index must change
the digest). Python's `hash()` is never used: it differs between processes.

`functools.singledispatch` picks the route by type; anything without a dedicated route is
pickled (protocol 5, large buffers hashed out of band). Functions are hashed by their code,
defaults and closure (pickle would name them only), not by the module globals they read.
A value that cannot be pickled has no stable digest: it gets a one-off random digest
(`stable=False`), which never matches anything, so nothing is ever reused on its strength.

The numpy and pandas routes live in `_digest_arrays` and are added once numpy is imported:
no value can be an array or a frame before that (`reuse.loaded`), and a run that hashes
only plain values (cached metrics) then never imports numpy, pandas or pyarrow.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import struct
import sys
import types
from collections import OrderedDict
from typing import Any

from ghostrun.reuse._hasher import Hasher, Unhashable

__all__ = ["Digest", "digest"]

_EMPTY_CELL = ("ghostrun:empty-cell",)
_PLAIN = frozenset({type(None), bool, int, float, complex, str, bytes})


@dataclasses.dataclass(frozen=True)
class Digest:
    """The content hash of a value.

    `columns` holds each DataFrame column's content hash (or a Series' one), in column
    order; the store uses them as blob ids without hashing again. `nbytes` counts the bytes
    hashed, about the value's size in memory. `stable` is False for a one-off digest of a
    value that could not be hashed (see the module docstring).
    """

    hex: str
    columns: tuple[str, ...] | None = None
    nbytes: int = 0
    stable: bool = True


def digest(value: object) -> Digest:
    """Hash `value` by content (see the module docstring for what each type contributes)."""
    if "numpy" in sys.modules:
        _add_array_routes()
    try:
        try:
            return _digest(value, set())
        except (_Cycle, RecursionError):
            return _pickle_digest(value)
    except Unhashable:
        return Digest(hex=os.urandom(16).hex(), stable=False)


@functools.cache
def _add_array_routes() -> None:
    from ghostrun.reuse import _digest_arrays

    _digest_arrays.register(_digest)


class _Cycle(Exception):
    """A container refers to itself; the whole value is pickled instead (pickle handles it)."""


def _type_name(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _pickle_digest(value: object) -> Digest:
    hasher = Hasher("pickle")
    hasher.pickled(value)
    return Digest(hasher.hexdigest(), nbytes=hasher.nbytes)


def _children(values: Any, owner: object, active: set[int]) -> list[Digest]:
    # Guard against self-reference: `active` holds the ids of the containers being hashed.
    if id(owner) in active:
        raise _Cycle
    active.add(id(owner))
    try:
        return [_digest(item, active) for item in values]
    finally:
        active.discard(id(owner))


def _combine(tag: str, kind: type, parts: list[Digest], extra: tuple[str, ...] = ()) -> Digest:
    hasher = Hasher(tag)
    hasher.text(_type_name(kind))
    hasher.integer(len(parts))
    for text in extra:
        hasher.text(text)
    for part in parts:
        hasher.text(part.hex)
    return Digest(hasher.hexdigest(), nbytes=sum(part.nbytes for part in parts))


@functools.singledispatch
def _digest(value: object, active: set[int]) -> Digest:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [field.name for field in dataclasses.fields(value)]
        parts = _children([getattr(value, name) for name in names], value, active)
        return _combine("dataclass", type(value), parts, tuple(names))
    return _pickle_digest(value)


def _scalar(tag: str, payload: bytes, nbytes: int = 0) -> Digest:
    hasher = Hasher(tag)
    hasher.raw(payload)
    return Digest(hasher.hexdigest(), nbytes=nbytes or len(payload))


@_digest.register(type(None))
def _none(value: None, active: set[int]) -> Digest:
    return _scalar("None", b"")


@_digest.register(bool)
@_digest.register(int)
def _int(value: int, active: set[int]) -> Digest:
    if type(value) not in (int, bool):  # IntEnum and friends: by reference, via pickle
        return _pickle_digest(value)
    size = (value.bit_length() + 8) // 8
    return _scalar(type(value).__name__, value.to_bytes(size, "little", signed=True))


@_digest.register(float)
def _float(value: float, active: set[int]) -> Digest:
    if type(value) is not float:
        return _pickle_digest(value)
    return _scalar("float", struct.pack("<d", value))


@_digest.register(complex)
def _complex(value: complex, active: set[int]) -> Digest:
    if type(value) is not complex:
        return _pickle_digest(value)
    return _scalar("complex", struct.pack("<dd", value.real, value.imag))


@_digest.register(str)
def _str(value: str, active: set[int]) -> Digest:
    if type(value) is not str:  # StrEnum, np.str_: keep their type apart from plain str
        return _pickle_digest(value)
    return _scalar("str", value.encode("utf-8", "surrogatepass"))


@_digest.register(bytes)
@_digest.register(bytearray)
def _bytes(value: bytes | bytearray, active: set[int]) -> Digest:
    if type(value) not in (bytes, bytearray):
        return _pickle_digest(value)
    return _scalar(type(value).__name__, bytes(value))


def _plain_sequence(value: Any) -> bool:
    return all(type(item) in _PLAIN for item in value)


@_digest.register(list)
@_digest.register(tuple)
def _sequence(value: list[Any] | tuple[Any, ...], active: set[int]) -> Digest:
    kind = type(value)
    fields = getattr(kind, "_fields", None)
    if kind not in (list, tuple) and not (isinstance(value, tuple) and fields is not None):
        return _pickle_digest(value)  # a subclass may carry state we cannot see
    if kind in (list, tuple) and _plain_sequence(value):
        hasher = Hasher("plain-" + kind.__name__)
        hasher.pickled(value)  # one pickle of plain scalars beats a digest per item
        return Digest(hasher.hexdigest(), nbytes=hasher.nbytes)
    extra = tuple(fields) if fields is not None else ()
    return _combine("sequence", kind, _children(value, value, active), extra)


@_digest.register(dict)
def _mapping(value: dict[Any, Any], active: set[int]) -> Digest:
    kind = type(value)
    if kind not in (dict, OrderedDict):
        return _pickle_digest(value)  # defaultdict's factory, Counter semantics...
    if _plain_sequence(value.keys()) and _plain_sequence(value.values()):
        hasher = Hasher("plain-" + kind.__name__)
        hasher.pickled(value)
        return Digest(hasher.hexdigest(), nbytes=hasher.nbytes)
    items = [item for pair in value.items() for item in pair]
    return _combine("mapping", kind, _children(items, value, active))


@_digest.register(set)
@_digest.register(frozenset)
def _set(value: set[Any] | frozenset[Any], active: set[int]) -> Digest:
    # Iteration order of a set of strings differs between processes: sort the digests.
    if type(value) not in (set, frozenset):
        return _pickle_digest(value)
    parts = sorted(_children(value, value, active), key=lambda part: part.hex)
    return _combine("set", type(value), parts)


@_digest.register(types.SimpleNamespace)
def _namespace(value: types.SimpleNamespace, active: set[int]) -> Digest:
    names = sorted(vars(value))
    parts = _children([getattr(value, name) for name in names], value, active)
    return _combine("namespace", type(value), parts, tuple(names))


@_digest.register(types.FunctionType)
def _function(value: types.FunctionType, active: set[int]) -> Digest:
    # Pickle stores a function by name only: hash its code so an edited body is seen.
    hasher = Hasher("function")
    hasher.text(f"{value.__module__}.{value.__qualname__}")
    _feed_code(hasher, value.__code__)
    cells = [_cell_contents(cell) for cell in value.__closure__ or ()]
    state = [value.__defaults__, value.__kwdefaults__, cells]
    for part in _children(state, value, active):
        hasher.text(part.hex)
    return Digest(hasher.hexdigest(), nbytes=hasher.nbytes)


def _cell_contents(cell: types.CellType) -> object:
    try:
        return cell.cell_contents
    except ValueError:  # a cell not bound yet
        return _EMPTY_CELL


def _feed_code(hasher: Hasher, code: types.CodeType) -> None:
    hasher.raw(code.co_code)
    for names in (code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars):
        hasher.text("\0".join(names))
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _feed_code(hasher, const)
        else:
            hasher.text(_digest(const, set()).hex)
