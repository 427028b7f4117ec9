"""Generating single moves (DESIGN §7) on the demo, the examples and the benchmark's
workflow, step rules table by table, one-hot groups, dtype-aware swaps and drops from what
feeds the model (found on a real session's data)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ghostrun.suggest.feed import FeedInfo, describe_frame, feed_info, one_hot_groups
from ghostrun.suggest.generate import MAX_DROPS, neighbours
from ghostrun.suggest.steps import NOT_MODELLING, moves, parameter
from ghostrun.suggest.variant import Variant
from ghostrun.workflow.estimators import family_named
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.loader import load_workflow
from ghostrun.workflow.types import Knob, KnobRange, Location

from .variant_project import (
    apply_edits,
    forget,
    load,
    open_session,
    project_dir,
    run_user,
    version_id,
)

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = [
    "ghostrun/demo/template/pipeline.py",
    "examples/census/pipeline.py",
    "examples/diabetes/pipeline.py",
    "examples/breast_cancer/pipeline.py",
    "bench/replay/template_pipeline.py",
]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    yield from project_dir(tmp_path)


@pytest.fixture(params=WORKFLOWS, ids=lambda p: p.split("/")[-2])
def example(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workflow]:
    """A real workflow loaded from a copy of its file (its data is never read)."""
    root = tmp_path / "example"
    root.mkdir()
    shutil.copy(REPO / request.param, root / "pipeline.py")
    yield load_workflow(root / "pipeline.py", root)
    forget(tmp_path)


def test_real_workflows_get_sane_single_moves(example: Workflow) -> None:
    variants = neighbours(example)
    kinds = {v.kind for v in variants}
    assert {"knob", "estimator"} <= kinds
    assert len({v.id for v in variants}) == len(variants)
    moved = [
        (v.change["op"], v.change["knob"], repr(v.change["new"]))
        for v in variants
        if v.kind == "knob"
    ]
    assert len(set(moved)) == len(moved)
    for variant in variants:
        op = example.operators[variant.change["op"]]
        assert op.kind == "op"  # never a source's or a metric's knob
        if variant.kind == "knob":
            check_knob_move(op.knob(variant.change["knob"]), variant.change["new"])
        elif variant.kind == "estimator":
            old, new = family_named(variant.change["old"]), family_named(variant.change["new"])
            assert old is not None and new is not None and old.task == new.task and old != new


def check_knob_move(knob: Knob | None, new: Any) -> None:
    assert knob is not None and not knob.is_data
    assert parameter(knob) not in NOT_MODELLING
    assert type(new) is type(knob.value) and new != knob.value  # ints stay ints
    if knob.range is not None and knob.range.choices is not None:
        assert new in knob.range.choices
    elif knob.range is not None:
        assert knob.range.low is None or new >= knob.range.low
        assert knob.range.high is None or new <= knob.range.high
    if isinstance(new, float) and 0 < knob.value < 1:
        assert 0 < new <= 1


def test_every_generated_variant_applies(example: Workflow) -> None:
    for variant in neighbours(example):
        overlaid = variant.apply_to(example)
        assert set(overlaid.operators) == set(example.operators)


def knob(value: Any, name: str = "x", rng: KnobRange | None = None, **kw: Any) -> Knob:
    return Knob(name, value, Location("pipeline.py", 1), range=rng, **kw)


@pytest.mark.parametrize(
    "knob_, expected",
    [
        (knob(31, "num_leaves"), [62, 16]),
        (knob(3, "max_depth"), [6, 2]),  # 1.5 rounds to 2
        (knob(1, "max_depth"), [2]),  # ÷2 would leave the known range
        (knob(1, "subsample_freq"), [2]),
        (knob(800, "n_estimators"), [1600, 400]),
        (knob(0.03, "LGBMClassifier.learning_rate"), [0.06, 0.015]),
        (knob(0.8, "subsample"), [1.0, 0.4]),  # clipped to its known top
        (knob(0.8, "threshold"), [0.9, 0.4]),  # unknown fraction: halfway to 1
        (knob(0.6, "feature_fraction"), [1.0, 0.3]),
        (knob(1.0, "C"), [2.0, 0.5]),
        (knob(5000.0, "gain_cap"), [10000.0, 2500.0]),
        (knob(1, "anything"), [2]),  # a positive int stays positive
        (knob(20, "min_count", KnobRange(low=1, high=30, log=True)), [30, 10]),
        (knob(6, "depth", KnobRange(low=4, high=12)), [12, 4]),
        (knob(0.5, "max_features"), [1.0, 0.25]),
        (knob(4, "max_features"), [8, 2]),
        (knob(True, "fit_intercept"), [False]),
        (knob("sqrt", "max_features"), ["log2"]),
        (knob("entropy", "criterion"), ["gini", "log_loss"]),
        (knob("lbfgs", "solver"), []),  # no known neighbours
        (knob(2, "k", KnobRange(choices=(1, 2, 3))), [1, 3]),
        (knob(True, "k", KnobRange(choices=(True, False))), [False]),
        (knob(7, "k", KnobRange(choices=(1, 2, 3))), []),
        (knob(-1, "max_depth"), []),
        (knob(0.0, "reg_alpha"), []),
        (knob(42, "random_state"), []),
        (knob(0.25, "test_size"), []),
        (knob(-1, "LGBMClassifier.verbose"), []),
        (knob(4, "n_jobs"), []),
        (knob(None, "k"), []),
        (knob("data/x.csv", "path", is_data=True), []),
    ],
    ids=lambda k: f"{k.name}={k.value!r}" if isinstance(k, Knob) else None,
)
def test_knob_moves(knob_: Knob, expected: list[Any]) -> None:
    found = moves(knob_)
    assert found == expected
    assert [type(v) for v in found] == [type(v) for v in expected]


def frame_with_groups() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    city = rng.choice(["a", "New_York", "New_Orleans"], size=n)
    status = rng.choice(["single", "married"], size=n)
    base = pd.DataFrame(
        {
            "capital_gain": rng.integers(0, 2, size=n),  # 0/1, but not exclusive with loss
            "capital_loss": rng.integers(0, 2, size=n),
            "is_us": rng.random(n) < 0.5,
            "has_car": rng.random(n) < 0.05,  # rare flags, each row mostly all 0
            "has_boat": rng.random(n) < 0.05,
            "city": city,
            "marital_status": status,
            "age": rng.normal(size=n),
        }
    )
    base.loc[base["has_car"], "has_boat"] = False
    return pd.get_dummies(base, columns=["city", "marital_status"])


def test_one_hot_groups() -> None:
    groups = one_hot_groups(frame_with_groups())
    assert groups == {
        "city": ("city_New_Orleans", "city_New_York", "city_a"),
        "marital_status": ("marital_status_married", "marital_status_single"),
    }


def feed(**changes: Any) -> FeedInfo:
    frame = frame_with_groups()
    info = describe_frame("model", "features", frame.drop(columns=["age"]).assign(age=1.0))
    return replace(info, **changes)


def test_drops_come_from_the_feed(project: Path) -> None:
    workflow = load(project)
    assert not [v for v in neighbours(workflow) if v.kind == "drop"]
    info = feed()
    found = [v.change for v in neighbours(workflow, info) if v.kind == "drop"]
    assert {
        "kind": "drop",
        "op": "features",
        "columns": ["city_New_Orleans", "city_New_York", "city_a"],
        "group": "city",
    } in found
    singles = sorted(c["columns"][0] for c in found if "group" not in c)
    assert singles == ["age", "capital_gain", "capital_loss", "has_boat", "has_car", "is_us"]


def test_no_drop_of_a_column_a_later_operator_names(tmp_path: Path) -> None:
    """`split` reads `has_car` by name: dropping it upstream would only fail."""
    from .variant_project import PIPELINE

    named = PIPELINE.replace(
        '    X = features.drop(columns=["y"])',
        '    X = features.drop(columns=["y"]).assign(has_car=features["has_car"] * 2)',
    )
    root = next(project_dir(tmp_path, named))
    found = [v.change["columns"] for v in neighbours(load(root), feed()) if v.kind == "drop"]
    assert ["has_boat"] in found and ["has_car"] not in found
    forget(tmp_path)


def test_drops_are_capped_least_used_first(project: Path) -> None:
    workflow = load(project)
    columns = tuple(f"x{i}" for i in range(100))
    importance = {c: float(100 - i) for i, c in enumerate(columns)}
    info = FeedInfo("model", "features", columns, importance=importance)
    found = [v.change["columns"][0] for v in neighbours(workflow, info) if v.kind == "drop"]
    assert found == [f"x{i}" for i in range(99, 99 - MAX_DROPS, -1)]


def swap_targets(workflow: Workflow, info: FeedInfo | None) -> dict[str, dict[str, str]]:
    return {
        v.change["new"].rsplit(".", 1)[-1]: v.change["added"]
        for v in neighbours(workflow, info)
        if v.kind == "estimator"
    }


def test_swaps_follow_the_data(project: Path) -> None:
    workflow = load(project)
    numeric = feed(categorical={}, has_nan=False)
    assert swap_targets(workflow, numeric) == {
        "XGBClassifier": {},
        "HistGradientBoostingClassifier": {},
        "RandomForestClassifier": {},
        "LogisticRegression": {"max_iter": "1000"},
    }
    assert "LogisticRegression" not in swap_targets(workflow, feed(categorical={}, has_nan=True))
    assert "LogisticRegression" not in swap_targets(workflow, None)  # NaN not ruled out
    categories = swap_targets(workflow, feed(categorical={"city": 12}))
    assert categories == {
        "XGBClassifier": {"enable_categorical": "True"},
        "HistGradientBoostingClassifier": {},
    }
    many = swap_targets(workflow, feed(categorical={"city": 300}))
    assert set(many) == {"XGBClassifier"}
    assert swap_targets(workflow, feed(text_columns=("name",))) == {}
    assert swap_targets(
        workflow, feed(model_op="other", categorical={"city": 300})
    )  # not the model


def test_feed_info_from_a_real_run(project: Path) -> None:
    with open_session(project) as session:
        run_user(session)
        version = session.load()
        info = feed_info(session, version)
    assert info is not None
    assert (info.model_op, info.frame_op) == ("model", "features")
    assert set(info.columns) == {
        "a",
        "b",
        "noise",
        "ab",
        "city_east",
        "city_north",
        "city_south",
        "city_west_end",
    }
    assert info.groups == {"city": ("city_east", "city_north", "city_south", "city_west_end")}
    assert not info.categorical and not info.has_nan and not info.text_columns
    assert info.importance is not None and set(info.importance) == set(info.columns)
    assert FeedInfo.from_json(info.to_json()) == info
    drops = [v for v in neighbours(version.workflow, info) if v.kind == "drop"]
    assert len(drops) == 5  # four columns and the city group; never the label
    assert all(isinstance(v, Variant) for v in drops)


TRAIN_AND_KWARGS = """\
import ghostrun as gr
import lightgbm as lgb
from lightgbm import LGBMClassifier

PARAMS = {"num_leaves": 7}


@gr.op
def model(rounds=10):
    data = lgb.Dataset([[1.0], [2.0]], label=[0, 1])
    booster = lgb.train({"num_leaves": 15}, data, num_boost_round=rounds)
    other = LGBMClassifier(**PARAMS)
    third = LGBMClassifier(n_estimators=10, learning_rate=0.1)
    return booster, other, third
"""


@pytest.fixture
def unswappable(tmp_path: Path) -> Iterator[Path]:
    yield from project_dir(tmp_path, TRAIN_AND_KWARGS)


def test_only_plain_constructor_calls_are_swapped(unswappable: Path) -> None:
    """`lgb.train(...)` takes a params dict and `LGBMClassifier(**PARAMS)` passes unknown
    keywords: neither is rewritten; the third call is (named as its knobs are)."""
    base = load(unswappable)
    found = [v for v in neighbours(base) if v.kind == "estimator"]
    assert {v.change["call"] for v in found} == {"LGBMClassifier#2"}
    xgb = next(v for v in found if v.change["new"] == "xgboost.XGBClassifier")
    assert xgb.change["kept"] == {"n_estimators": "10", "learning_rate": "0.1"}
    assert xgb.change["dropped"] == []
    assert xgb.change["added"] == {}
    overlaid = xgb.apply_to(base)
    apply_edits(base, xgb)
    text = (unswappable / "pipeline.py").read_text()
    assert "other = LGBMClassifier(**PARAMS)\n" in text
    assert "third = XGBClassifier(n_estimators=10, learning_rate=0.1)\n" in text
    assert version_id(load(unswappable)) == version_id(overlaid)


WRAPPED = """\
import functools

import ghostrun as gr
from sklearn.linear_model import LogisticRegression


def logged(func):
    @functools.wraps(func)
    def inner(*args, **kwargs):
        return func(*args, **kwargs)

    return inner


@gr.op
@logged
def model(c=1.0):
    return LogisticRegression(C=c, max_iter=100)
"""


@pytest.fixture
def wrapped(tmp_path: Path) -> Iterator[Path]:
    yield from project_dir(tmp_path, WRAPPED)


def test_a_decorated_operator_gets_only_explicit_knob_moves(wrapped: Path) -> None:
    base = load(wrapped)
    found = neighbours(base)
    assert sorted((v.change["knob"], v.change["new"]) for v in found) == [("c", 0.5), ("c", 2.0)]
    for variant in found:
        assert variant.apply_to(base).operators["model"].knob("c").value == variant.change["new"]
