"""Deterministic row sampling of a source operator's output (DESIGN §1 `@gr.source`, §4).

`sample(value, spec)` keeps the rows whose identity hashes, salted with `spec.seed`, to a
uniform below the effective fraction. The same (data, spec) keeps the same rows in every
process and on every machine, so two versions of a workflow at one fidelity see the same
rows and their metrics can be compared pair-wise.

Row identity:

- Default: the index label of a DataFrame / Series row (a row keeps its fate when other
  columns change or other rows are dropped), the position for numpy arrays and pyarrow
  tables. A default RangeIndex and positions hash alike, so a frame and its `.to_numpy()`
  keep the same rows. Rows sharing a label share their fate.
- `sample_by=COL`: the value in column COL (universe sampling): every row of a key is in or
  out together, and two sources sampled by the same key keep matching rows — because the
  subsets are nested, joining the samples gives exactly the rows of the full join whose key
  is kept at the smaller of the two effective fractions. COL may also name a Series (by its
  name) or an index level.

Containers (tuples, lists, dicts, dataclasses, namedtuples, nested): the *rows* of the
value are the largest first-axis length among its members (DataFrames, Series, arrays,
pyarrow tables); every member of that length loses the same rows, by position; members of
another length and scalars are left as they are. The identity is decided once for the
whole container: the `sample_by` column of the first member that has it; else the index
labels when every pandas member carries an equal index (arrays follow by position, so
`(X, y)` keeps the rows that `X` alone would keep); else positions.

Effective fraction: `max(fraction, min_rows / rows)`; a value with `rows <= min_rows`, or an
effective fraction of 1, is returned as the same object with `sampled=False`. A sample
keeps about `fraction * rows` rows (each row independently), dtypes, categories, column
order, index labels and row order.
"""

from __future__ import annotations

import difflib
import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ghostrun.approx._members import map_members, members_of, row_count, take_rows
from ghostrun.approx._rowhash import hash_values, position_hashes, uniforms
from ghostrun.errors import GhostrunError

_SHOWN_COLUMNS = 20


class SampleError(GhostrunError, ValueError):
    """A sample specification or a `sample_by` column that cannot be used."""


@dataclass(frozen=True)
class SampleSpec:
    """What to sample: a row fraction, a seed, an optional key column, and a row floor.

    `fraction` in (0, 1]; another `seed` draws an independent subset; `sample_by` names the
    key column to hash instead of the row index; values with at most `min_rows` rows are
    never sampled, and larger ones never below about `min_rows` rows.
    """

    fraction: float
    seed: int = 0
    sample_by: str | None = None
    min_rows: int = 1500

    def __post_init__(self) -> None:
        object.__setattr__(self, "fraction", _check_fraction(self.fraction))
        object.__setattr__(self, "seed", _check_int("seed", self.seed, low=None))
        object.__setattr__(self, "min_rows", _check_int("min_rows", self.min_rows, low=0))
        if self.sample_by is not None and (
            not isinstance(self.sample_by, str) or not self.sample_by
        ):
            raise SampleError(
                f"sample_by must be a column name (a non-empty string) or None, "
                f"not {self.sample_by!r}."
            )


@dataclass(frozen=True)
class SampleResult:
    """The (possibly) sampled value, its row counts, and the fraction actually applied."""

    value: Any
    rows_before: int  # rows of the value (0 when it has no rows ghostrun recognises)
    rows_after: int
    sampled: bool  # False: `value` is the very object that was passed in
    fraction: float = 1.0  # the effective fraction: max(spec.fraction, min_rows / rows)


def effective_fraction(rows: int, spec: SampleSpec) -> float:
    """The fraction `sample` applies to a value of `rows` rows (1.0: kept whole)."""
    if rows <= spec.min_rows:
        return 1.0
    return min(1.0, max(spec.fraction, spec.min_rows / rows))


def sample(value: object, spec: SampleSpec) -> SampleResult:
    """Keep a deterministic subset of the rows of `value` (see the module docstring)."""
    members = members_of(value)
    if not members:
        return SampleResult(value, 0, 0, sampled=False)
    rows = max(row_count(m) for m in members)
    aligned = [m for m in members if row_count(m) == rows]
    key = None if spec.sample_by is None else _key_values(aligned, spec.sample_by)
    fraction = effective_fraction(rows, spec)
    if fraction >= 1.0:
        return SampleResult(value, rows, rows, sampled=False)
    hashes = hash_values(key) if key is not None else _label_hashes(aligned, rows)
    positions = np.flatnonzero(uniforms(hashes, spec.seed) < fraction)

    def take(member: Any) -> Any:
        return take_rows(member, positions) if row_count(member) == rows else member

    return SampleResult(map_members(value, take), rows, len(positions), True, fraction)


def _label_hashes(aligned: list[Any], rows: int) -> np.ndarray:
    """Hashes of the shared index labels of the pandas members, else of the positions."""
    indexes = [m.index for m in aligned if isinstance(m, (pd.DataFrame, pd.Series))]
    if indexes and all(i is indexes[0] or i.equals(indexes[0]) for i in indexes[1:]):
        return hash_values(indexes[0])
    return position_hashes(rows)


def _key_values(aligned: list[Any], column: str) -> Any:
    """The values of the `sample_by` column: a frame's column, a named Series, an index level."""
    for member in aligned:
        found = _column_of(member, column)
        if found is not None:
            return found
    for member in aligned:
        if isinstance(member, (pd.DataFrame, pd.Series)) and column in member.index.names:
            return member.index.get_level_values(column)
    raise SampleError(_missing_key_message(aligned, column))


def _column_of(member: Any, column: str) -> Any:
    if isinstance(member, pd.DataFrame) and column in member.columns:
        found = member[column]
        if isinstance(found, pd.DataFrame):
            if found.shape[1] != 1:
                raise SampleError(
                    f"sample_by={column!r} names {found.shape[1]} columns of the source's "
                    "output; give the key column a unique name."
                )
            found = found.iloc[:, 0]
        return found
    if isinstance(member, pd.Series) and member.name == column:
        return member
    if isinstance(member, (pa.Table, pa.RecordBatch)) and column in member.schema.names:
        return pd.Series(member.column(column).to_pandas())
    return None


def _missing_key_message(aligned: list[Any], column: str) -> str:
    names: list[str] = []
    for member in aligned:
        names.extend(_names_of(member))
    names = list(dict.fromkeys(names))
    if not names:
        return (
            f"sample_by={column!r} needs a DataFrame with that column in the source's "
            "output, which has none (only arrays); use sample_by=None to sample by position."
        )
    shown = ", ".join(repr(n) for n in names[:_SHOWN_COLUMNS])
    if len(names) > _SHOWN_COLUMNS:
        shown += f", … ({len(names) - _SHOWN_COLUMNS} more)"
    close = difflib.get_close_matches(column, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (
        f"sample_by={column!r}: the source's output has no column {column!r}; "
        f"the columns available are {shown}.{hint} Fix the name in "
        "@gr.source(sample_by=...), or use sample_by=None to sample by the row index."
    )


def _names_of(member: Any) -> list[str]:
    if isinstance(member, pd.DataFrame):
        names = list(member.columns) + list(member.index.names)
    elif isinstance(member, pd.Series):
        names = [member.name, *member.index.names]
    elif isinstance(member, (pa.Table, pa.RecordBatch)):
        names = list(member.schema.names)
    else:
        names = []
    return [str(n) for n in names if n is not None]


def _check_fraction(fraction: object) -> float:
    ok = isinstance(fraction, numbers.Real) and not isinstance(fraction, bool)
    value = float(fraction) if ok else math.nan  # type: ignore[arg-type]
    if not (0.0 < value <= 1.0):
        raise SampleError(
            f"fraction must be a number with 0 < fraction <= 1, not {fraction!r} "
            "(use 1 for the full data)."
        )
    return value


def _check_int(name: str, value: object, low: int | None) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise SampleError(f"{name} must be an integer, not {value!r}.")
    if low is not None and int(value) < low:
        raise SampleError(f"{name} must be at least {low}, not {value!r}.")
    return int(value)
