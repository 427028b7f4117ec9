"""`digest`: what must change the hash, what must not, and stability across processes."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ghostrun.reuse import Digest, digest
from tests.reuse import reuse_samples

REPO = Path(__file__).resolve().parents[2]


def base() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0],
            "y": np.array([1, 2, 3], dtype="int64"),
            "s": pd.array(["a", "b", "c"], dtype="str"),
        }
    )


def changed(frame: pd.DataFrame, column: str, row: int, value: Any) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[row, column] = value
    return frame


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    left: Callable[[], Any]
    right: Callable[[], Any]
    equal: bool


CASES = [
    # Each pair differs in exactly one respect that must show in the digest.
    Case("renamed-column", base, lambda: base().rename(columns={"x": "z"}), False),
    Case("int-dtype-width", base, lambda: base().astype({"y": "int32"}), False),
    Case("float-dtype", base, lambda: base().astype({"x": "float32"}), False),
    Case("int-vs-float-same-values", base, lambda: base().astype({"y": "float64"}), False),
    Case("reordered-columns", base, lambda: base()[["y", "x", "s"]], False),
    Case("changed-index-labels", base, lambda: base().set_axis([10, 11, 12]), False),
    Case("index-name", base, lambda: base().rename_axis("row"), False),
    Case("columns-name", base, lambda: base().rename_axis("col", axis=1), False),
    Case("changed-float", base, lambda: changed(base(), "x", 1, 2.5), False),
    Case("changed-int", base, lambda: changed(base(), "y", 2, 4), False),
    Case("changed-string", base, lambda: changed(base(), "s", 0, "A"), False),
    Case("string-to-missing", base, lambda: changed(base(), "s", 0, None), False),
    Case("negative-zero", lambda: pd.Series([0.0]), lambda: pd.Series([-0.0]), False),
    Case("extra-row", base, lambda: pd.concat([base(), base().iloc[:1]]), False),
    Case("rows-reversed", base, lambda: base().iloc[::-1], False),
    Case("label-type", lambda: pd.DataFrame({1: [1]}), lambda: pd.DataFrame({"1": [1]}), False),
    Case("attrs", base, lambda: base().pipe(reuse_samples._with_attrs), False),
    Case("flags", base, lambda: base().set_flags(allows_duplicate_labels=False), False),
    Case(
        "category-vs-str",
        lambda: pd.Series(["a", "b"], dtype="str"),
        lambda: pd.Series(["a", "b"], dtype="category"),
        False,
    ),
    Case(
        "category-order",
        lambda: pd.Series(pd.Categorical(["a", "b"], categories=["a", "b"])),
        lambda: pd.Series(pd.Categorical(["a", "b"], categories=["b", "a"])),
        False,
    ),
    Case(
        "category-values-same-codes",
        lambda: pd.Series(pd.Categorical(["a", "b"])),
        lambda: pd.Series(pd.Categorical(["a", "c"])),
        False,
    ),
    Case(
        "field-boundaries",
        lambda: types.SimpleNamespace(ab=1, c=2),
        lambda: types.SimpleNamespace(a=1, bc=2),
        False,
    ),
    Case(
        "category-ordered-flag",
        lambda: pd.Series(pd.Categorical(["a", "b"], ordered=False)),
        lambda: pd.Series(pd.Categorical(["a", "b"], ordered=True)),
        False,
    ),
    Case(
        "same-instant-other-zone",
        lambda: pd.Series(pd.date_range("2020", periods=2, tz="UTC")),
        lambda: pd.Series(pd.date_range("2020", periods=2, tz="UTC").tz_convert("Asia/Tokyo")),
        False,
    ),
    Case(
        "datetime-unit",
        lambda: pd.Series(pd.date_range("2020", periods=2, unit="ns")),
        lambda: pd.Series(pd.date_range("2020", periods=2, unit="us")),
        False,
    ),
    Case(
        "Int64-NA-vs-float-NaN",
        lambda: pd.Series([1, None], dtype="Int64"),
        lambda: pd.Series([1, None], dtype="float64"),
        False,
    ),
    Case(
        "object-None-vs-NaN",
        lambda: pd.Series(["a", None], dtype=object),
        lambda: pd.Series(["a", np.nan], dtype=object),
        False,
    ),
    Case(
        "object-1-vs-'1'",
        lambda: pd.Series(["a", 1], dtype=object),
        lambda: pd.Series(["a", "1"], dtype=object),
        False,
    ),
    Case(
        "str-vs-string-dtype",
        lambda: pd.Series(["a"], dtype="str"),
        lambda: pd.Series(["a"], dtype="string"),
        False,
    ),
    Case(
        "string-storage",
        lambda: pd.Series(["a"], dtype=pd.StringDtype("pyarrow")),
        lambda: pd.Series(["a"], dtype=pd.StringDtype("python")),
        False,
    ),
    Case("series-name", lambda: pd.Series([1], name="a"), lambda: pd.Series([1], name="b"), False),
    Case("array-shape", lambda: np.ones((2, 3)), lambda: np.ones((3, 2)), False),
    Case("array-dtype", lambda: np.arange(3, dtype="i8"), lambda: np.arange(3, dtype="u8"), False),
    Case("tuple-vs-list", lambda: (1, 2), lambda: [1, 2], False),
    Case("bool-vs-int", lambda: True, lambda: 1, False),
    Case("int-vs-float", lambda: 1, lambda: 1.0, False),
    Case("str-vs-bytes", lambda: "a", lambda: b"a", False),
    Case("np-float-vs-float", lambda: np.float64(1.5), lambda: 1.5, False),
    Case("dict-vs-pairs", lambda: {1: 2}, lambda: [(1, 2)], False),
    Case("set-vs-frozenset", lambda: {1, 2}, lambda: frozenset({1, 2}), False),
    Case("nested-frame", lambda: {"a": base()}, lambda: {"a": changed(base(), "x", 0, 9)}, False),
    Case(
        "dataclass-field",
        lambda: reuse_samples.Split(base(), np.arange(2)),
        lambda: reuse_samples.Split(base(), np.arange(2), note="cv"),
        False,
    ),
    Case("namedtuple-vs-tuple", lambda: reuse_samples.Point(1, 2), lambda: (1, 2), False),
    Case("function-body", lambda: lambda x: x + 1, lambda: lambda x: x + 2, False),
    Case(
        "function-default",
        lambda: reuse_samples.scale,
        lambda: types.FunctionType(
            reuse_samples.scale.__code__, reuse_samples.scale.__globals__, "scale", (3.0,)
        ),
        False,
    ),
    # Equal content must give equal digests, whatever the memory layout.
    Case("copy", base, lambda: base().copy(), True),
    Case(
        "fortran-vs-c-frame",
        lambda: pd.DataFrame(np.arange(12.0).reshape(4, 3)),
        lambda: pd.DataFrame(np.asfortranarray(np.arange(12.0).reshape(4, 3))),
        True,
    ),
    Case("strided-array", lambda: np.arange(10)[::2], lambda: np.array([0, 2, 4, 6, 8]), True),
    Case(
        "sliced-arrow-strings",
        lambda: pd.Series(["z", "a", "b"], dtype="str").iloc[1:].reset_index(drop=True),
        lambda: pd.Series(["a", "b"], dtype="str"),
        True,
    ),
    Case(
        "chunked-arrow-strings",
        lambda: pd.concat([pd.Series(["a"], dtype="str"), pd.Series(["b"], dtype="str")]).set_axis(
            [0, 1]
        ),
        lambda: pd.Series(["a", "b"], dtype="str", index=[0, 1]),
        True,
    ),
    Case(
        "value-under-NA-ignored",
        lambda: pd.Series(pd.arrays.IntegerArray(np.array([1, 99]), np.array([False, True]))),
        lambda: pd.Series(pd.arrays.IntegerArray(np.array([1, 0]), np.array([False, True]))),
        True,
    ),
    Case(
        "object-vs-fresh-strings",
        lambda: pd.Series(["a", None, "c"], dtype=object),
        lambda: pd.Series(["".join(["a"]), None, "".join(["c"])], dtype=object),
        True,
    ),
    Case(
        "namespace-attribute-order",
        lambda: types.SimpleNamespace(a=1, b=2),
        lambda: types.SimpleNamespace(b=2, a=1),
        True,
    ),
    Case("set-insertion-order", lambda: {"x", "y", "z"}, lambda: {"z", "y", "x"}, True),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_digest_sensitivity(case: Case) -> None:
    left, right = digest(case.left()), digest(case.right())
    assert left.stable and right.stable
    assert (left.hex == right.hex) is case.equal


def test_digest_is_repeatable_for_every_sample() -> None:
    first = {name: digest(value) for name, value in reuse_samples.samples().items()}
    second = {name: digest(value) for name, value in reuse_samples.samples().items()}
    assert first == second
    assert all(d.stable and len(d.hex) == 32 for d in first.values())
    # No two samples collide, except the two arrays that differ only in memory layout.
    assert first["array_c"] == first["array_fortran"]
    assert len({d.hex for d in first.values()}) == len(first) - 1


def test_digest_is_stable_across_processes() -> None:
    # A different hash seed per process is what breaks set ordering and hash()-based keys.
    env = dict(os.environ, PYTHONHASHSEED="12345", PYTHONPATH=str(REPO))
    code = "from tests.reuse import reuse_samples; reuse_samples.print_digests()"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    theirs = json.loads(done.stdout)
    ours = {name: digest(value).hex for name, value in reuse_samples.samples().items()}
    assert theirs == ours


def test_frame_digest_lists_column_hashes_independent_of_names() -> None:
    frame = base()
    renamed = frame.rename(columns={"x": "z"})
    repeated = frame[["x", "x"]]
    assert digest(frame).columns is not None and len(digest(frame).columns or ()) == 3
    assert digest(renamed).columns == digest(frame).columns
    assert digest(repeated).columns == (digest(frame).columns or ())[:1] * 2
    assert digest(frame["x"]).columns == (digest(frame).columns or ())[:1]
    assert digest(frame).nbytes >= frame.memory_usage(index=False).sum()


def test_unpicklable_value_gets_a_one_off_digest() -> None:
    lock = threading.Lock()
    first, second = digest(lock), digest(lock)
    assert not first.stable and first.hex != second.hex


def test_self_referencing_container_is_hashed() -> None:
    looped: list[Any] = [1]
    looped.append(looped)
    other: list[Any] = [1]
    other.append(other)
    assert digest(looped).stable and digest(looped) == digest(other)


def test_function_closure_values_count() -> None:
    def make(offset: int) -> Callable[[int], int]:
        return lambda x: x + offset

    assert digest(make(1)) == digest(make(1))
    assert digest(make(1)) != digest(make(2))


def test_fitted_models_hash_by_parameters() -> None:
    from sklearn.linear_model import LogisticRegression

    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10) % 2
    assert digest(LogisticRegression().fit(X, y)) == digest(LogisticRegression().fit(X, y))
    assert digest(LogisticRegression().fit(X, y)) != digest(LogisticRegression(C=0.1).fit(X, y))


def test_digest_type_is_frozen() -> None:
    d = digest(1)
    assert isinstance(d, Digest)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.hex = "0" * 32  # type: ignore[misc]
