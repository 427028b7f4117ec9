"""Tuples, lists, dicts, dataclasses and namedtuples of row-aligned members sample as one."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict, namedtuple
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ghostrun.approx import SampleSpec, sample
from tests.approx.approx_samples import ROW_ID, frame, kept_ids, string_index

N = 20_000
Pair = namedtuple("Pair", ["X", "y"])


@dataclasses.dataclass(frozen=True)
class Split:
    X: pd.DataFrame
    y: np.ndarray
    note: str = "holdout"
    classes: np.ndarray = dataclasses.field(default_factory=lambda: np.array([0, 1]))


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[pd.DataFrame], Any]
    # the row ids each aligned member holds after sampling, read back from the output
    members: Callable[[Any], list[np.ndarray]]
    # True: the rows are those the frame alone would keep (its index labels decide)
    follows_frame: bool = True


def ids_of(*arrays: Any) -> list[np.ndarray]:
    return [np.asarray(a, dtype=np.int64) for a in arrays]


CASES = [
    Case(
        "tuple-frame-array",
        lambda d: (d, d[ROW_ID].to_numpy() * 10),
        lambda v: ids_of(v[0][ROW_ID], v[1] // 10),
    ),
    Case(
        "tuple-frame-series",
        lambda d: (d.drop(columns="x"), d[ROW_ID].rename("y")),
        lambda v: ids_of(v[0][ROW_ID], v[1]),
    ),
    Case("list", lambda d: [d, d[ROW_ID].to_numpy()], lambda v: ids_of(v[0][ROW_ID], v[1])),
    Case(
        "dict",
        lambda d: {"X": d, "y": d[ROW_ID].to_numpy(), "name": "t"},
        lambda v: ids_of(v["X"][ROW_ID], v["y"]),
    ),
    Case(
        "ordered-dict",
        lambda d: OrderedDict(X=d, y=d[ROW_ID].to_numpy()),
        lambda v: ids_of(v["X"][ROW_ID], v["y"]),
    ),
    Case("namedtuple", lambda d: Pair(d, d[ROW_ID].to_numpy()), lambda v: ids_of(v.X[ROW_ID], v.y)),
    Case("dataclass", lambda d: Split(d, d[ROW_ID].to_numpy()), lambda v: ids_of(v.X[ROW_ID], v.y)),
    Case(
        "nested",
        lambda d: {"train": (d, [d[ROW_ID].to_numpy()])},
        lambda v: ids_of(v["train"][0][ROW_ID], v["train"][1][0]),
    ),
    Case(
        "arrow-table-and-frame",
        lambda d: (pa.Table.from_pandas(d, preserve_index=False), d),
        lambda v: ids_of(v[0].column(ROW_ID).to_numpy(), v[1][ROW_ID]),
    ),
    # indexes that differ: positions decide for every member
    Case(
        "frames-indexed-differently",
        lambda d: (d, d.set_axis(np.arange(len(d))[::-1])),
        lambda v: ids_of(v[0][ROW_ID], v[1][ROW_ID]),
        follows_frame=False,
    ),
    Case(
        "arrays-only",
        lambda d: (d[[ROW_ID]].to_numpy(), d[ROW_ID].to_numpy()),
        lambda v: ids_of(v[0][:, 0], v[1]),
        follows_frame=False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("index", ["strings", "range"])
def test_aligned_members_keep_the_same_rows(case: Case, index: str) -> None:
    data = frame(N, index=string_index(N) if index == "strings" else None)
    spec = SampleSpec(0.1, seed=12)
    result = sample(case.make(data), spec)
    assert result.sampled and result.rows_before == N
    members = case.members(result.value)
    for member in members[1:]:
        np.testing.assert_array_equal(member, members[0])
    assert len(members[0]) == result.rows_after
    alone = kept_ids(sample(data, spec).value)
    same_as_frame = np.array_equal(members[0], alone)
    # with a RangeIndex, labels are positions: every rule keeps what the frame alone keeps
    assert same_as_frame if (case.follows_frame or index == "range") else not same_as_frame


def test_other_lengths_and_scalars_are_left_as_they_are() -> None:
    data = frame(N)
    names = np.array(["a", "b"])
    small = frame(500)
    value = {"X": data, "names": names, "small": small, "n": 3, "text": "t", "none": None}
    result = sample(value, SampleSpec(0.1))
    out = result.value
    assert out is not value and out["X"] is not data and len(out["X"]) == result.rows_after
    for key in ("names", "small", "n", "text", "none"):
        assert out[key] is value[key]
    assert list(out) == list(value)


def test_the_largest_members_set_the_row_count() -> None:
    train, test = frame(N), frame(N // 4)
    result = sample((test, train), SampleSpec(0.1))
    assert result.rows_before == N
    assert result.value[0] is test and len(result.value[1]) == result.rows_after


def test_unchanged_parts_keep_their_identity_and_the_input_is_not_modified() -> None:
    data = frame(N)
    untouched = (np.array([1, 2]), {"k": "v"})
    value = [data, untouched]
    result = sample(value, SampleSpec(0.1))
    assert result.value[1] is untouched
    assert value[0] is data and len(data) == N


def test_dataclass_fields_are_replaced_without_rerunning_post_init() -> None:
    calls = []

    @dataclasses.dataclass
    class Checked:
        X: pd.DataFrame

        def __post_init__(self) -> None:
            calls.append(1)

    value = Checked(frame(N))
    result = sample(value, SampleSpec(0.1))
    assert type(result.value) is Checked and len(result.value.X) == result.rows_after
    assert len(calls) == 1 and len(value.X) == N


def test_sample_by_in_a_container_drives_every_member() -> None:
    data = frame(N)
    spec = SampleSpec(0.1, seed=4, sample_by="k")
    result = sample((data[ROW_ID].to_numpy(), data), spec)
    np.testing.assert_array_equal(result.value[0], kept_ids(result.value[1]))
    np.testing.assert_array_equal(result.value[0], kept_ids(sample(data, spec).value))


def test_a_container_that_contains_itself_does_not_loop() -> None:
    value: list[Any] = [frame(N)]
    value.append(value)
    result = sample(value, SampleSpec(0.1))
    assert len(result.value[0]) == result.rows_after < N
    assert result.value[1] is value


def test_fraction_one_returns_the_container_itself() -> None:
    value = (frame(N), np.arange(N))
    assert sample(value, SampleSpec(1.0)).value is value
