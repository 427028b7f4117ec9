"""Variants as overlays (DESIGN §7): for every kind, the overlaid workflow fingerprints
exactly like the user's file after `apply` (same code hashes, dependencies, knob values,
so the same version id); the user's module and files are left alone; JSON and ids are
stable; a variant that no longer applies says so."""

from __future__ import annotations

import json
import subprocess
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ghostrun.suggest.variant import Variant, VariantError, pair
from ghostrun.workflow.types import Operator

from .variant_project import apply_edits, load, project_dir, version_id

LGBM = "lightgbm.LGBMClassifier"
XGB = "xgboost.XGBClassifier"
HGB = "sklearn.ensemble.HistGradientBoostingClassifier"
RF = "sklearn.ensemble.RandomForestClassifier"
LR = "sklearn.linear_model.LogisticRegression"
CITY = ["city_east", "city_north", "city_south", "city_west_end"]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    yield from project_dir(tmp_path)


def knob(op: str, name: str, old: Any, new: Any) -> dict[str, Any]:
    return {"kind": "knob", "op": op, "knob": name, "old": old, "new": new}


def swap(new: str) -> dict[str, Any]:
    return {"kind": "estimator", "op": "model", "old": LGBM, "new": new}


def drop(*columns: str, group: str | None = None) -> dict[str, Any]:
    change: dict[str, Any] = {"kind": "drop", "op": "features", "columns": list(columns)}
    return {**change, "group": group} if group else change


@dataclass(frozen=True)
class Case:
    id: str
    change: dict[str, Any]
    touched: tuple[str, ...]  # operators whose code hash must move


CASES = [
    Case("explicit-knob", knob("model", "num_leaves", 15, 31), ()),
    Case("implicit-knob", knob("model", "LGBMClassifier.learning_rate", 0.1, 0.2), ()),
    Case("float-knob", knob("features", "scale", 1.0, 2.0), ()),
    Case("to-xgboost", swap(XGB), ("model",)),
    Case("to-hist-gradient-boosting", swap(HGB), ("model",)),
    Case("to-random-forest", swap(RF), ("model",)),
    Case("to-logistic-regression", swap(LR), ("model",)),
    Case("drop-column", drop("noise"), ("features",)),
    Case("drop-one-hot-group", drop(*CITY, group="city"), ("features",)),
    Case(
        "pair-drop-and-swap",
        {"kind": "pair", "parts": [drop("noise"), swap(XGB)]},
        ("features", "model"),
    ),
    Case(
        "pair-on-one-op",
        {"kind": "pair", "parts": [knob("model", "num_leaves", 15, 8), swap(HGB)]},
        ("model",),
    ),
    Case("resplit", {"kind": "resplit", "op": "split", "seed": 1009}, ("split",)),
    Case(
        "pair-swap-then-resplit",
        {"kind": "pair", "parts": [swap(HGB), {"kind": "resplit", "op": "split", "seed": 7}]},
        ("split", "model"),
    ),
    Case(
        "pair-implicit-knob-then-swap",
        {"kind": "pair", "parts": [knob("model", "LGBMClassifier.n_estimators", 40, 80), swap(LR)]},
        ("model",),
    ),
]


def definition(op: Operator) -> tuple[Any, ...]:
    knobs = sorted((k.name, json.dumps(k.value), k.implicit) for k in op.knobs)
    return op.code_hash, sorted(op.deps.items()), knobs


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_overlay_fingerprints_like_the_applied_file(project: Path, case: Case) -> None:
    base = load(project)
    variant = Variant.from_json(case.change)
    overlaid = variant.apply_to(base)
    before = (project / "pipeline.py").read_text()
    assert version_id(overlaid) != version_id(base)
    assert (project / "pipeline.py").read_text() == before  # an overlay edits nothing

    apply_edits(base, variant)
    applied = load(project)
    assert version_id(overlaid) == version_id(applied)
    for name, op in applied.operators.items():
        assert definition(overlaid.operators[name]) == definition(op), name
        moved = op.code_hash != base.operators[name].code_hash
        assert moved == (name in case.touched), name


def test_swap_leaves_the_users_module_alone(project: Path) -> None:
    base = load(project)
    model = base.operators["model"].func
    code = model.__code__
    overlaid = Variant.from_json(swap(XGB)).apply_to(base)
    new_model = overlaid.operators["model"].func
    assert model.__code__ is code
    assert "XGBClassifier" not in model.__globals__
    assert new_model.__globals__["XGBClassifier"].__name__ == "XGBClassifier"
    assert new_model.__code__.co_filename == code.co_filename
    assert new_model.__code__.co_firstlineno == code.co_firstlineno
    assert overlaid.packages.keys() >= {"xgboost"}


def test_overlaid_code_raises_at_the_users_line(project: Path) -> None:
    """A dropped column that is not there fails in `features`, at its `return` line."""
    base = load(project)
    overlaid = Variant.from_json(drop("not_a_column")).apply_to(base)
    frame = pd.DataFrame({"a": [1.0], "b": [2.0], "noise": [0.0], "city": ["x"], "y": [1]})
    with pytest.raises(KeyError) as caught:
        overlaid.operators["features"].func(frame)
    last = traceback.extract_tb(caught.value.__traceback__)[1]
    source = (project / "pipeline.py").read_text().splitlines()
    assert last.filename == str(project / "pipeline.py")
    assert source[last.lineno - 1].strip().startswith("return pd.get_dummies")


def test_json_round_trip_and_ids(project: Path) -> None:
    base = load(project)
    a = Variant.from_json(knob("model", "num_leaves", 15, 31))
    b = Variant.from_json(drop("noise"))
    both = pair(a, b)
    assert Variant.from_json(json.loads(json.dumps(both.to_json()))) == both
    assert both.id == Variant.from_json(both.to_json()).id
    assert len({a.id, b.id, both.id, pair(b, a).id}) == 4
    assert both.ops == ("model", "features")
    assert pair(both, a).parts == [a.change, b.change, a.change]
    assert Variant.from_json(knob("model", "num_leaves", 15, 31.0)).id != a.id
    assert version_id(both.apply_to(base)) == version_id(b.apply_to(a.apply_to(base)))


def test_id_is_the_same_in_another_process() -> None:
    change = swap(XGB)
    code = (
        "import json, sys; from ghostrun.suggest.variant import Variant; "
        "print(Variant.from_json(json.loads(sys.argv[1])).id)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(change)],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert out.stdout.strip() == Variant.from_json(change).id


def test_describe_and_location(project: Path) -> None:
    base = load(project)
    lines = (project / "pipeline.py").read_text().splitlines()

    def line_of(fragment: str) -> str:
        return f"pipeline.py:{next(i for i, t in enumerate(lines, 1) if fragment in t)}"

    cases = [
        (knob("model", "num_leaves", 15, 31), "model: num_leaves 15 → 31", "def model("),
        (
            knob("model", "LGBMClassifier.learning_rate", 0.1, 0.2),
            "model: LGBMClassifier.learning_rate 0.1 → 0.2",
            "learning_rate=0.1",
        ),
        (swap(XGB), "model: LGBMClassifier → XGBClassifier", "clf = LGBMClassifier("),
        (drop("noise"), "features: drop column noise", "return pd.get_dummies"),
        (
            drop(*CITY, group="city"),
            "features: drop one-hot group city_* (4 columns)",
            "return pd.get_dummies",
        ),
    ]
    for change, text, fragment in cases:
        variant = Variant.from_json(change)
        assert variant.describe() == text
        assert variant.location(base) == line_of(fragment)
    both = pair(Variant.from_json(cases[0][0]), Variant.from_json(cases[3][0]))
    assert both.describe() == "model: num_leaves 15 → 31 + features: drop column noise"


@pytest.mark.parametrize(
    "change, message",
    [
        (knob("model", "max_bin", 1, 2), "has no knob 'max_bin'"),
        (knob("model", "num_leaves", 31, 15), "is 15 already"),
        (knob("nope", "x", 1, 2), "no operator 'nope'"),
        ({**swap(XGB), "old": HGB}, "no HistGradientBoostingClassifier(...) call"),
        ({**swap(LGBM)}, "LGBMClassifier"),
        ({**swap("sklearn.svm.SVC")}, "not an estimator ghostrun can swap"),
        ({"kind": "drop", "op": "features", "columns": []}, "names no column"),
    ],
    ids=["no-knob", "same-value", "no-op", "old-class-gone", "same-class", "unknown", "empty"],
)
def test_variants_that_do_not_apply(project: Path, change: dict[str, Any], message: str) -> None:
    base = load(project)
    with pytest.raises(VariantError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Variant.from_json(change).apply_to(base)


def test_not_a_variant() -> None:
    with pytest.raises(VariantError):
        Variant.from_json({"kind": "rename", "op": "model"})
    with pytest.raises(VariantError):
        Variant("knob", {"kind": "drop", "op": "features", "columns": ["a"]})
    with pytest.raises(VariantError):
        Variant.from_json({"kind": "pair", "parts": []})
    with pytest.raises(VariantError):
        Variant.from_json({"kind": "pair", "parts": [{"kind": "pair", "parts": []}]})
    with pytest.raises(VariantError, match="plain JSON"):
        Variant.from_json({**knob("model", "num_leaves", 15, 31), "new": float("nan")})


def test_a_variant_of_an_overlay_builds_on_its_edit(project: Path) -> None:
    """Applying b to a's overlay equals the pair, also when both change one operator."""
    base = load(project)
    for a, b in [
        (drop("noise"), drop(*CITY, group="city")),
        (knob("model", "num_leaves", 15, 31), swap(XGB)),
        (swap(HGB), knob("model", "HistGradientBoostingClassifier.learning_rate", 0.1, 0.05)),
    ]:
        first, second = Variant.from_json(a), Variant.from_json(b)
        chained = second.apply_to(first.apply_to(base))
        assert version_id(chained) == version_id(pair(first, second).apply_to(base))
