"""Finding a workflow's seeded split and re-seeding it as a source edit."""

from __future__ import annotations

import ast

import pytest

from ghostrun.errors import WorkflowError
from ghostrun.workflow.resplit import is_splitter, resplit_text, split_calls, split_operator

from ._project import Project

PIPELINE = '''\
import numpy as np
from sklearn.model_selection import KFold, train_test_split

import ghostrun as gr

SEED = 3


def my_split(frame, **kwargs):
    return train_test_split(frame, **kwargs)


@gr.source
def table():
    return np.arange(40).reshape(20, 2)


@gr.op
def shuffled(table):
    rng = np.random.default_rng(seed=SEED)  # not a split: left alone
    return rng.permutation(table)


@gr.op
def split(shuffled, test_size=0.25):
    def inner(x):
        return train_test_split(x, random_state=99)  # a nested def: not the operator's

    folds = KFold(n_splits=3, shuffle=True, random_state=SEED)
    train, test = my_split(shuffled, test_size=test_size, random_state=SEED)
    return train, test, folds
'''


def test_splitter_names() -> None:
    assert all(map(is_splitter, ["train_test_split", "KFold", "StratifiedKFold",
                                 "GroupShuffleSplit", "bench_split", "split_rows"]))
    assert not any(map(is_splitter, ["default_rng", "fit", "RandomForestClassifier", "fold"[1:]]))


def test_finds_the_operator_that_seeds_a_split(project: Project) -> None:
    workflow = project.load({"pipeline.py": PIPELINE})
    assert split_operator(workflow) == "split"
    assert split_calls(workflow.operators["split"]) == 2  # not the nested def's
    assert split_calls(workflow.operators["shuffled"]) == 0


def test_reseeds_the_operators_own_split_calls(project: Project) -> None:
    workflow = project.load({"pipeline.py": PIPELINE})
    op = workflow.operators["split"]
    text = (project.root / "pipeline.py").read_text()
    new = resplit_text(workflow, op, text, 1009)
    changed = [(a, b) for a, b in zip(text.splitlines(), new.splitlines(), strict=True) if a != b]
    assert changed == [
        ("    folds = KFold(n_splits=3, shuffle=True, random_state=SEED)",
         "    folds = KFold(n_splits=3, shuffle=True, random_state=1009)"),
        ("    train, test = my_split(shuffled, test_size=test_size, random_state=SEED)",
         "    train, test = my_split(shuffled, test_size=test_size, random_state=1009)"),
    ]
    ast.parse(new)


def test_an_operator_without_a_seeded_split_says_so(project: Project) -> None:
    workflow = project.load({"pipeline.py": PIPELINE})
    text = (project.root / "pipeline.py").read_text()
    with pytest.raises(WorkflowError, match="no split call with `random_state=`"):
        resplit_text(workflow, workflow.operators["shuffled"], text, 1)


def test_no_seeded_split_anywhere(project: Project) -> None:
    source = PIPELINE.replace("random_state=SEED", "stratify=None").replace(
        "random_state=99", "stratify=None"
    )
    assert split_operator(project.load({"pipeline.py": source})) is None
