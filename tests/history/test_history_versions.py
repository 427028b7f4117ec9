"""Version snapshots and change sets survive a round trip through SQLite unchanged."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from ghostrun.errors import HistoryError
from ghostrun.history import History
from ghostrun.workflow.types import Change, OpChange, VersionSnapshot

from .builders import make_op, make_snapshot


class Opaque:
    def __repr__(self) -> str:
        return "Opaque(3)"


KNOBS = {
    "n_estimators": 100,
    "learning_rate": 0.05,
    "hidden": (64, 32),
    "nested": [(1, 2), {"a": (3,)}],
    "empty_tuple": (),
    "by_class": {0: 1.0, 1: 2.5},
    "tuple_keys": {(1, 2): "a", ("x",): (None,)},
    "tricky": {"$tuple": [1, 2]},
    "flag": True,
    "none": None,
    "huge": 2**62,
    "inf": math.inf,
    "repr_given": "RandomForestClassifier(max_depth=3)",
}


def test_snapshot_round_trip_keeps_values_types_and_order(history: History) -> None:
    snap = make_snapshot("v1", knobs=KNOBS)
    ops = dict(reversed(list(snap.ops.items())))  # a non-alphabetical, non-insertion order
    snap = VersionSnapshot(snap.version_id, ops, snap.packages, snap.primary, snap.goal)
    history.save_version(snap, workflow_path="workflow.py")

    loaded = history.load_version("v1")

    assert loaded == snap
    assert list(loaded.ops) == ["auc", "model", "load"]
    knobs = loaded.ops["model"].knobs
    for name, value in KNOBS.items():
        assert type(knobs[name]) is type(value), name
    assert type(knobs["nested"][0]) is tuple and type(knobs["nested"][1]["a"]) is tuple
    assert loaded.ops["auc"].inputs == ("model", "load")


def test_unstorable_knob_comes_back_as_its_repr_and_nan_stays_nan(history: History) -> None:
    snap = make_snapshot("v1", knobs={"est": Opaque(), "nan": math.nan})
    history.save_version(snap, workflow_path="w.py")
    knobs = history.load_version("v1").ops["model"].knobs
    assert knobs["est"] == "Opaque(3)"
    assert math.isnan(knobs["nan"])


def test_numpy_scalars_are_stored_as_python_numbers(history: History) -> None:
    np = pytest.importorskip("numpy")
    snap = make_snapshot("v1", knobs={"i": np.int64(5), "f": np.float32(0.5)})
    history.save_version(snap, workflow_path="w.py")
    knobs = history.load_version("v1").ops["model"].knobs
    assert knobs == {"i": 5, "f": 0.5} and type(knobs["i"]) is int


def test_saving_a_version_again_changes_nothing(history: History) -> None:
    first = make_snapshot("v1", knobs={"n_estimators": 100})
    history.save_version(first, workflow_path="workflow.py")
    history.save_version(make_snapshot("v1", knobs={"n_estimators": 999}), workflow_path="other.py")
    assert history.load_version("v1") == first


def test_unknown_version_loads_as_none(history: History) -> None:
    assert history.load_version("nope") is None


def test_identical_source_text_is_stored_once(history: History, db_path: Path) -> None:
    history.save_version(make_snapshot("v1"), workflow_path="w.py")
    history.save_version(make_snapshot("v2", knobs={"n_estimators": 7}), workflow_path="w.py")
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM source_texts").fetchone()[0] == 3
    assert history.load_version("v2").ops["model"].source == make_op("model").source


@pytest.mark.parametrize(
    "snap, message",
    [
        (make_snapshot("v1", goal="up"), "goal must be 'max' or 'min'"),
        (VersionSnapshot("v1", {"x": make_op("y")}, {}, None, "max"), "filed under 'x'"),
    ],
    ids=["bad-goal", "name-mismatch"],
)
def test_invalid_snapshot_is_refused_and_nothing_is_stored(
    history: History, snap: VersionSnapshot, message: str
) -> None:
    with pytest.raises(HistoryError, match=message):
        history.save_version(snap, workflow_path="w.py")
    assert history.load_version("v1") is None


@pytest.fixture
def two_versions(history: History) -> History:
    history.save_version(make_snapshot("v1"), workflow_path="w.py")
    history.save_version(make_snapshot("v2", knobs={"n_estimators": 200}), workflow_path="w.py")
    return history


CHANGES = [
    OpChange("load", Change.UNCHANGED),
    OpChange(
        "model",
        Change.KNOB,
        knobs={"n_estimators": (100, 200), "hidden": ((64,), (64, 32))},
        reason="knob n_estimators 100 → 200",
    ),  # fmt: skip
    OpChange("auc", Change.UPSTREAM, files=("data/a.csv", "data/b.csv"), reason="model changed"),
]


def test_change_set_round_trip(two_versions: History) -> None:
    two_versions.save_changes("v2", "v1", CHANGES)
    loaded = two_versions.load_changes("v2", "v1")
    assert loaded == CHANGES
    assert type(loaded[1].knobs["hidden"][1]) is tuple


def test_change_sets_are_kept_per_parent_and_none_differs_from_empty(two_versions: History) -> None:
    assert two_versions.load_changes("v2", None) is None
    two_versions.save_changes("v2", None, [])
    two_versions.save_changes("v2", "v1", CHANGES)
    assert two_versions.load_changes("v2", None) == []
    assert two_versions.load_changes("v2", "v1") == CHANGES
    assert two_versions.load_changes("v1", "v2") is None


def test_saving_a_change_set_again_replaces_it(two_versions: History) -> None:
    two_versions.save_changes("v2", "v1", CHANGES)
    two_versions.save_changes("v2", "v1", [OpChange("model", "code")])  # type: ignore[arg-type]
    assert two_versions.load_changes("v2", "v1") == [OpChange("model", Change.CODE)]


@pytest.mark.parametrize(
    "version, parent, changes, message",
    [
        ("v9", "v1", [], "changed version 'v9' is not in the history"),
        ("v2", "v9", [], "parent version 'v9' is not in the history"),
        ("v2", "v1", [OpChange("a", Change.NEW), OpChange("a", Change.CODE)], "lists a more than"),
        ("v2", "v1", [OpChange("a", "moved")], "change must be one of"),  # type: ignore[arg-type]
    ],
    ids=["unknown-version", "unknown-parent", "duplicate-op", "bad-change"],
)
def test_invalid_change_set_is_refused(
    two_versions: History, version: str, parent: str, changes: list[OpChange], message: str
) -> None:
    with pytest.raises(HistoryError, match=message):
        two_versions.save_changes(version, parent, changes)
    assert two_versions.load_changes(version, parent) is None


def test_a_refused_replacement_leaves_the_old_change_set(two_versions: History) -> None:
    two_versions.save_changes("v2", "v1", CHANGES)
    with pytest.raises(HistoryError):
        bad = [OpChange("a", Change.NEW), OpChange("b", "moved")]  # type: ignore[arg-type]
        two_versions.save_changes("v2", "v1", bad)
    assert two_versions.load_changes("v2", "v1") == CHANGES
