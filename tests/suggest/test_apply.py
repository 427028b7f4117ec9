"""`ghostrun apply` (DESIGN §7): the edit written to the user's file fingerprints exactly
like the variant that was measured, so the next run computes nothing; the edits keep the
file's formatting and add an estimator's import once; stale suggestions are refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ghostrun.suggest.apply import SourceEdit, StaleSuggestion, check_current, plan_edit
from ghostrun.suggest.variant import Variant, pair

from .variant_project import (
    PIPELINE,
    apply_edits,
    load,
    open_session,
    project_dir,
    run_user,
    run_variant,
    values,
    version_id,
)

LGBM = "lightgbm.LGBMClassifier"
CITY = ["city_east", "city_north", "city_south", "city_west_end"]
KNOB = {
    "kind": "knob",
    "op": "model",
    "knob": "LGBMClassifier.learning_rate",
    "old": 0.1,
    "new": 0.2,
}
SWAP = {"kind": "estimator", "op": "model", "old": LGBM, "new": "xgboost.XGBClassifier"}
DROP = {"kind": "drop", "op": "features", "columns": CITY, "group": "city"}
PAIR = {"kind": "pair", "parts": [{"kind": "drop", "op": "features", "columns": ["noise"]}, SWAP]}


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    yield from project_dir(tmp_path)


@pytest.mark.parametrize(
    "change", [KNOB, SWAP, DROP, PAIR], ids=["knob", "estimator", "drop", "pair"]
)
def test_applied_variant_runs_from_the_cache(project: Path, change: dict[str, Any]) -> None:
    variant = Variant.from_json(change)
    with open_session(project) as session:
        base = run_user(session)
        measured, result = run_variant(session, base.version, variant)
        assert result.outcomes["auc"].state == "computed"
    with open_session(project, quick=True) as session:  # as the CLI loads: code on demand
        apply_edits(session.load().workflow, variant)
    with open_session(project) as session:
        applied = run_user(session)
    assert applied.version.version_id == measured.version_id
    states = {name: o.state for name, o in applied.last.outcomes.items()}
    assert "computed" not in states.values(), states
    assert applied.last.metrics == result.metrics
    assert applied.last.metrics != base.last.metrics


def test_swap_trains_the_new_family(project: Path) -> None:
    variant = Variant.from_json({**SWAP, "new": "sklearn.ensemble.HistGradientBoostingClassifier"})
    with open_session(project) as session:
        base = run_user(session)
        measured, _ = run_variant(session, base.version, variant)
        fitted = values(session, measured, "model")["model"]
    assert type(fitted).__name__ == "HistGradientBoostingClassifier"
    assert fitted.max_iter == 40 and fitted.learning_rate == 0.1 and fitted.random_state == 5
    assert fitted.min_samples_leaf == 10 and fitted.max_leaf_nodes == 15


def test_drop_removes_the_columns(project: Path) -> None:
    variant = Variant.from_json(DROP)
    with open_session(project) as session:
        base = run_user(session)
        measured, _ = run_variant(session, base.version, variant)
        found = values(session, measured, "features", "split", "model")
    assert not set(CITY) & set(found["features"].columns)
    assert "y" in found["features"].columns
    assert list(found["split"].X_train.columns) == ["a", "b", "noise", "ab"]
    assert list(found["model"].feature_name_) == ["a", "b", "noise", "ab"]


def test_stale_suggestions_are_refused(project: Path) -> None:
    variant = Variant.from_json(KNOB)
    with open_session(project) as session:
        base = session.load()
        recorded = {op: base.fingerprints[op] for op in variant.ops}
        check_current(base, variant, recorded)  # fine as long as nothing moved
        check_current(base.snapshot(), variant, recorded)
        text = (project / "pipeline.py").read_text()
        (project / "pipeline.py").write_text(
            text.replace("min_child_samples=10", "min_child_samples=12")
        )
        with pytest.raises(StaleSuggestion) as caught:
            check_current(session.load(), variant, recorded)
        with pytest.raises(StaleSuggestion):
            plan_edit(base.workflow, variant)  # the file moved on since `base` was loaded
    message = str(caught.value)
    assert message.startswith("pipeline.py changed since this suggestion was made (model: ")
    assert message.endswith("run `ghostrun suggest` again.")


def test_an_upstream_edit_makes_it_stale_too(project: Path) -> None:
    variant = Variant.from_json(KNOB)
    with open_session(project) as session:
        base = session.load()
        recorded = {op: base.fingerprints[op] for op in variant.ops}
        text = (project / "pipeline.py").read_text()
        (project / "pipeline.py").write_text(text.replace('* df["b"]', '* df["b"] * 2'))
        with pytest.raises(StaleSuggestion, match=r"\(model: "):
            check_current(session.load().workflow, variant, recorded)


def test_write_refuses_a_file_changed_after_planning(project: Path) -> None:
    edits = plan_edit(load(project), Variant.from_json(SWAP))
    assert len(edits) == 1
    path = project / "pipeline.py"
    path.write_text(path.read_text() + "\n# edited meanwhile\n")
    with pytest.raises(StaleSuggestion, match="changed while applying"):
        edits[0].write()
    assert path.read_text().endswith("# edited meanwhile\n")


def test_write_is_atomic_and_keeps_the_mode(project: Path) -> None:
    path = project / "pipeline.py"
    path.chmod(0o640)
    (edit,) = plan_edit(load(project), Variant.from_json(DROP))
    edit.write()
    assert path.read_text() == edit.new_text
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in project.iterdir() if p.name.startswith(".pipeline.py")] == []


def test_swap_edit_keeps_formatting_and_adds_the_import_once(project: Path) -> None:
    (edit,) = plan_edit(
        load(project), Variant.from_json({**SWAP, "added": {"enable_categorical": "True"}})
    )
    assert edit.diff() == (
        "--- a/pipeline.py\n"
        "+++ b/pipeline.py\n"
        "@@ -9,6 +9,7 @@\n"
        " from lightgbm import LGBMClassifier\n"
        " from sklearn.metrics import roc_auc_score\n"
        " from sklearn.model_selection import train_test_split\n"
        "+from xgboost import XGBClassifier\n"
        " \n"
        " import ghostrun as gr\n"
        " \n"
        "@@ -48,14 +49,12 @@\n"
        " \n"
        " @gr.op\n"
        " def model(split: Split, num_leaves=gr.knob(15, low=4, high=64, log=True)):\n"
        "-    clf = LGBMClassifier(\n"
        "-        num_leaves=num_leaves,\n"
        "+    clf = XGBClassifier(\n"
        "         n_estimators=40,  # small on purpose\n"
        "         learning_rate=0.1,\n"
        "-        min_child_samples=10,\n"
        "         random_state=SEED,\n"
        "         n_jobs=1,\n"
        "-        verbose=-1,\n"
        "+        enable_categorical=True,\n"
        "     )\n"
        "     return clf.fit(split.X_train, split.y_train)\n"
        " \n"
    )


ALIASED = (
    PIPELINE.replace("from lightgbm import LGBMClassifier\n", "import lightgbm as lgb\n")
    .replace(
        "from sklearn.metrics import roc_auc_score\n",
        "from sklearn.ensemble import RandomForestClassifier\n"
        "from sklearn.metrics import roc_auc_score\n",
    )
    .replace("clf = LGBMClassifier(", "clf = lgb.LGBMClassifier(")
)


@pytest.fixture
def aliased(tmp_path: Path) -> Iterator[Path]:
    yield from project_dir(tmp_path, ALIASED)


def test_swap_merges_into_an_existing_import(aliased: Path) -> None:
    """`lgb.LGBMClassifier(...)` becomes `HistGradientBoostingClassifier(...)`, imported in
    the existing `from sklearn.ensemble import ...` line."""
    base = load(aliased)
    variant = Variant.from_json({**SWAP, "new": "sklearn.ensemble.HistGradientBoostingClassifier"})
    (edit,) = plan_edit(base, variant)
    assert (
        "from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier\n"
        in edit.new_text
    )
    assert edit.new_text.count("HistGradientBoostingClassifier") == 2
    assert (
        "    clf = HistGradientBoostingClassifier(\n        max_leaf_nodes=num_leaves,\n"
        in edit.new_text
    )
    edit.write()
    assert (
        load(aliased).operators["model"].code_hash
        == variant.apply_to(base).operators["model"].code_hash
    )


def test_knob_edit_keeps_comments(project: Path) -> None:
    variant = Variant.from_json(
        {"kind": "knob", "op": "model", "knob": "LGBMClassifier.n_estimators", "old": 40, "new": 80}
    )
    (edit,) = plan_edit(load(project), variant)
    changed = [
        line
        for line in edit.diff().splitlines()
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == [
        "-        n_estimators=40,  # small on purpose",
        "+        n_estimators=80,  # small on purpose",
    ]


def test_a_pair_on_one_operator_is_one_edit(project: Path) -> None:
    a = Variant.from_json(
        {"kind": "knob", "op": "model", "knob": "num_leaves", "old": 15, "new": 31}
    )
    edits = plan_edit(load(project), pair(a, Variant.from_json(SWAP)))
    assert len(edits) == 1 and isinstance(edits[0], SourceEdit)
    assert (
        "def model(split: Split, num_leaves=gr.knob(31, low=4, high=64, log=True)):"
        in edits[0].new_text
    )
    assert edits[0].new_text.count("from xgboost import XGBClassifier\n") == 1


@pytest.mark.parametrize("count, lines", [(1, 1), (2, 3), (9, 13)])
def test_drop_edit_wraps_long_lines_as_black_would(project: Path, count: int, lines: int) -> None:
    base = load(project)
    columns = [f"long_column_name_{i}" for i in range(count)]
    variant = Variant.from_json({"kind": "drop", "op": "features", "columns": columns})
    (edit,) = plan_edit(base, variant)
    added = [line[1:] for line in edit.diff().splitlines() if line[:1] == "+" and line[:3] != "+++"]
    assert len(added) == lines
    assert max(len(line) for line in added) <= 100
    edit.write()
    assert version_id(load(project)) == version_id(variant.apply_to(base))
