"""Overlays (DESIGN §7): a version run with knob values replaced, never an edit of the user's
files. An overlaid operator runs with the new values, fingerprints exactly like the file
edited to them, keeps tracebacks on the user's file:line, and leaves the original alone;
`source_with_knobs` writes the same edit as source text.
"""

from __future__ import annotations

import ast
import traceback
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import pytest

from ghostrun.errors import WorkflowError
from ghostrun.workflow.loader import LoadOptions
from ghostrun.workflow.overlay import UnknownKnobError, source_with_knobs, with_knobs
from ghostrun.workflow.version import build_version

from ._project import FileContent, Project

PIPELINE = '''\
from __future__ import annotations

import ghostrun as gr
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

OFFSET = 1.0


def _helper(x: float) -> float:
    return x + OFFSET


@gr.source
def raw(path="data/train.csv"):
    return pd.read_csv(path)


@gr.op
def features(raw, scale=gr.knob(2, low=1, high=10), *, shift=0.5):
    return raw * scale + shift


@gr.op
def model(features, seed=0):
    first = LogisticRegression(C=1.0, max_iter=100)
    second = LogisticRegression(
        C=0.5,  # a comment that must survive
        solver="lbfgs",
    )
    forest = RandomForestClassifier(n_estimators=10, random_state=seed)
    return first, second, forest


@gr.metric(
    goal="max",
)
def checked(model, features) -> float:
    """Raises when its own estimator's C is not 1."""
    clf = LogisticRegression(C=1.0)
    if clf.C != 1.0:
        raise ValueError(f"C changed to {clf.C}")
    return _helper(clf.C)
'''

FILES: dict[str, FileContent] = {
    "pipeline.py": PIPELINE,
    "data/train.csv": "x,y\n1,0\n2,1\n",
    "data/other.csv": "x,y\n3,0\n4,1\n",
}


def line_of(text: str, fragment: str) -> int:
    """1-based line of the only line containing `fragment`."""
    lines = [i for i, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(lines) == 1, (fragment, lines)
    return lines[0]


def edited(old: str, new: str, text: str = PIPELINE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def params(estimator: Any) -> dict[str, Any]:
    return dict(estimator.get_params())


# --- running overlays ---------------------------------------------------------------------


def test_explicit_overlay_changes_knob_values_and_defaults(project: Project) -> None:
    wf = project.load(FILES)
    new = with_knobs(wf, {"features": {"scale": 3, "shift": 1.5}})
    op = new.operators["features"]
    assert op.explicit_knob_values == {"scale": 3, "shift": 1.5}
    assert op.knob("scale").range == wf.operators["features"].knob("scale").range
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    # the engine passes the knob values as keyword arguments; a direct call agrees
    assert op.func(raw=frame, **op.explicit_knob_values)["x"].tolist() == [4.5, 7.5]
    assert op.func(frame)["x"].tolist() == [4.5, 7.5]
    assert op.code_hash == wf.operators["features"].code_hash


def test_implicit_overlay_recompiles_the_operator(project: Project) -> None:
    wf = project.load(FILES)
    new = with_knobs(
        wf,
        {
            "model": {
                "LogisticRegression.C": 2.0,
                "LogisticRegression.max_iter": 250.0,  # another number type is fine
                "LogisticRegression#2.solver": "saga",
                "RandomForestClassifier.n_estimators": 25,
                "seed": 7,
            }
        },
    )
    op = new.operators["model"]
    first, second, forest = op.func(features=None)
    assert (params(first)["C"], params(first)["max_iter"]) == (2.0, 250.0)
    assert (params(second)["C"], params(second)["solver"]) == (0.5, "saga")
    assert (params(forest)["n_estimators"], params(forest)["random_state"]) == (25, 7)
    assert {k.name: k.value for k in op.knobs} == {
        "seed": 7,
        "LogisticRegression.C": 2.0,
        "LogisticRegression.max_iter": 250.0,
        "LogisticRegression#2.C": 0.5,
        "LogisticRegression#2.solver": "saga",
        "RandomForestClassifier.n_estimators": 25,
    }
    assert op.code_hash == wf.operators["model"].code_hash


def test_overlay_of_an_overlay_keeps_both(project: Project) -> None:
    wf = project.load(FILES)
    once = with_knobs(wf, {"model": {"LogisticRegression.C": 2.0}})
    twice = with_knobs(once, {"model": {"RandomForestClassifier.n_estimators": 25, "seed": 3}})
    first, _, forest = twice.operators["model"].func(features=None)
    assert params(first)["C"] == 2.0
    assert (params(forest)["n_estimators"], params(forest)["random_state"]) == (25, 3)
    # and back: an explicit-only overlay on top keeps the recompiled code
    thrice = with_knobs(twice, {"model": {"seed": 4}})
    first, _, forest = thrice.operators["model"].func(features=None)
    assert (params(first)["C"], params(forest)["random_state"]) == (2.0, 4)


def test_recompiled_operator_resolves_module_helpers_and_keeps_metadata(project: Project) -> None:
    wf = project.load(FILES)
    original = wf.operators["checked"].func
    func = with_knobs(wf, {"checked": {"LogisticRegression.C": 1}}).operators["checked"].func
    assert func(model=None, features=None) == 2.0  # `_helper` and `OFFSET` from the module
    assert func is not original
    assert func.__globals__ is original.__globals__
    assert (func.__name__, func.__qualname__, func.__module__) == (
        original.__name__,
        original.__qualname__,
        original.__module__,
    )
    assert func.__doc__ == original.__doc__
    assert func.__annotations__ == original.__annotations__ == {"return": "float"}
    assert func.__ghostrun__ == original.__ghostrun__
    assert func.__code__.co_filename == original.__code__.co_filename
    assert func.__code__.co_firstlineno == original.__code__.co_firstlineno


def test_traceback_points_at_the_users_file_and_line(project: Project) -> None:
    wf = project.load(FILES)
    new = with_knobs(wf, {"checked": {"LogisticRegression.C": 2.0}})
    with pytest.raises(ValueError, match="C changed to 2.0") as info:
        new.operators["checked"].func(model=None, features=None)
    frame = traceback.extract_tb(info.value.__traceback__)[-1]
    assert frame.filename == str((project.root / "pipeline.py").resolve())
    assert frame.lineno == line_of(PIPELINE, "raise ValueError")
    assert frame.name == "checked"
    assert frame.line == 'raise ValueError(f"C changed to {clf.C}")'


# --- fingerprints equal the edited file ---------------------------------------------------


@dataclass(frozen=True)
class EditCase:
    id: str
    op: str
    knob: str
    value: Any
    old: str
    new: str


EDIT_CASES = [
    EditCase("explicit default", "features", "shift", 1.5, "shift=0.5", "shift=1.5"),
    EditCase("explicit gr.knob", "features", "scale", 5, "gr.knob(2,", "gr.knob(5,"),
    EditCase("explicit int to float", "model", "seed", 1.0, "seed=0", "seed=1.0"),
    EditCase(
        "explicit data path",
        "raw",
        "path",
        "data/other.csv",
        'path="data/train.csv"',
        'path="data/other.csv"',
    ),
    EditCase(
        "explicit path to no file is no data",
        "raw",
        "path",
        "data/none.csv",
        'path="data/train.csv"',
        'path="data/none.csv"',
    ),
    EditCase("implicit number", "model", "LogisticRegression.max_iter", 300, "=100", "=300"),
    EditCase(
        "implicit repeated constructor",
        "model",
        "LogisticRegression#2.C",
        0.25,
        "C=0.5,",
        "C=0.25,",
    ),
    EditCase(
        "implicit string",
        "model",
        "LogisticRegression#2.solver",
        "saga",
        'solver="lbfgs"',
        'solver="saga"',
    ),
    EditCase("implicit negative", "checked", "LogisticRegression.C", -1, "(C=1.0)", "(C=-1)"),
]


@pytest.mark.parametrize("case", EDIT_CASES, ids=lambda c: c.id)
def test_overlay_fingerprints_like_the_edited_file(project: Project, case: EditCase) -> None:
    wf = project.load(FILES)
    before = build_version(wf)
    overlaid = build_version(with_knobs(wf, {case.op: {case.knob: case.value}}))
    text = edited(case.old, case.new)
    after = project.version({"pipeline.py": text})

    assert overlaid.local_keys[case.op] == after.local_keys[case.op]
    assert overlaid.local_keys[case.op] != before.local_keys[case.op]
    assert overlaid.fingerprints == after.fingerprints  # the op and everything downstream
    assert overlaid.version_id == after.version_id
    # what history keeps of the operator is the same too, but for its (unedited) text
    mine, theirs = overlaid.snapshot().ops[case.op], after.snapshot().ops[case.op]
    assert replace(theirs, source=mine.source) == mine
    # and the source writer produces exactly that edit
    assert source_with_knobs(wf.operators[case.op], {case.knob: case.value}) == (
        after.workflow.operators[case.op].source_text
    )


# --- originals untouched ------------------------------------------------------------------


def test_original_workflow_operators_and_module_untouched(project: Project) -> None:
    wf = project.load(FILES)
    ops = dict(wf.operators)
    model = ops["model"].func
    defaults = (model.__defaults__, ops["features"].func.__kwdefaults__)
    module_globals = model.__globals__

    new = with_knobs(
        wf,
        {
            "model": {"LogisticRegression.C": 2.0, "seed": 5},
            "features": {"shift": 9.0},
        },
    )

    assert new is not wf
    assert dict(wf.operators) == ops
    assert all(wf.operators[n] is op for n, op in ops.items())
    assert wf.operators["model"].func is model
    assert (
        (model.__defaults__, ops["features"].func.__kwdefaults__)
        == defaults
        == ((0,), {"shift": 0.5})
    )
    assert module_globals["model"] is model  # the module's name still means the original
    assert params(model(features=None)[0])["C"] == 1.0
    assert new.operators["raw"] is wf.operators["raw"]  # untouched operators are shared
    assert new.operators["checked"] is wf.operators["checked"]
    assert (new.primary, new.goal, new.packages) == (wf.primary, wf.goal, wf.packages)
    assert new.dependents("model") == wf.dependents("model") == ("checked",)


def test_empty_overlay_changes_nothing(project: Project) -> None:
    wf = project.load(FILES)
    new = with_knobs(wf, {"model": {}})
    assert all(new.operators[n] is op for n, op in wf.operators.items())
    assert build_version(new).version_id == build_version(wf).version_id


# --- errors -------------------------------------------------------------------------------


def test_unknown_operator(project: Project) -> None:
    wf = project.load(FILES)
    with pytest.raises(UnknownKnobError) as info:
        with_knobs(wf, {"modle": {"seed": 1}})
    assert isinstance(info.value, KeyError) and isinstance(info.value, WorkflowError)
    message = str(info.value)
    assert "'modle'" in message and "raw, features, model, checked" in message


def test_unknown_knob_lists_the_known_ones(project: Project) -> None:
    wf = project.load(FILES)
    with pytest.raises(UnknownKnobError) as info:
        with_knobs(wf, {"model": {"LogisticRegression.c": 1.0}})
    error = info.value
    assert (error.file, error.line) == ("pipeline.py", line_of(PIPELINE, "def model("))
    assert "'model' has no knob 'LogisticRegression.c'" in str(error)
    assert "seed, LogisticRegression.C, LogisticRegression.max_iter" in str(error)
    with pytest.raises(UnknownKnobError):
        source_with_knobs(wf.operators["model"], {"nope": 1})


@pytest.mark.parametrize("value", [None, [1.0], float("nan"), float("inf"), object()])
def test_implicit_value_must_be_a_plain_literal(project: Project, value: Any) -> None:
    wf = project.load(FILES)
    with pytest.raises(WorkflowError, match="finite number, a bool or a string") as info:
        with_knobs(wf, {"model": {"LogisticRegression.C": value}})
    assert info.value.line == line_of(PIPELINE, "first = LogisticRegression(")


def test_explicit_value_may_be_any_object(project: Project) -> None:
    wf = project.load(FILES)
    marker = object()
    new = with_knobs(wf, {"model": {"seed": marker}})
    _, _, forest = new.operators["model"].func(features=None)
    assert params(forest)["random_state"] is marker
    with pytest.raises(WorkflowError, match="cannot be written as a Python literal"):
        source_with_knobs(wf.operators["model"], {"seed": marker})


FACTORY = """\
import ghostrun as gr
from sklearn.linear_model import LogisticRegression


@gr.source
def raw():
    return [1, 2]


def _make(k):
    @gr.op
    def made(raw, n=3):
        return LogisticRegression(C=1.0, max_iter=k * n)

    return made


made = _make(2)
"""


def test_operator_defined_inside_a_function(project: Project) -> None:
    wf = project.load({"pipeline.py": FACTORY})
    with pytest.raises(WorkflowError, match="defined inside another function") as info:
        with_knobs(wf, {"made": {"LogisticRegression.C": 2.0}})
    assert "at the top level of the module" in str(info.value)
    with pytest.raises(WorkflowError, match="defined inside another function"):
        source_with_knobs(wf.operators["made"], {"n": 4})
    # explicit knobs need no new code, so they work on closures too
    new = with_knobs(wf, {"made": {"n": 5}})
    assert params(new.operators["made"].func(raw=None))["max_iter"] == 10


def test_source_text_that_is_not_the_loaded_code_is_refused(project: Project) -> None:
    """If the file changed between importing and reading it, compiling the text would run
    other code than was fingerprinted: the overlay refuses."""
    wf = project.load(FILES)
    op = wf.operators["model"]
    stale = replace(op, source_text=op.source_text.replace("forest = ", "forest = 2 * "))
    tampered = replace(wf, operators={**wf.operators, "model": stale})
    with pytest.raises(WorkflowError, match="reload the workflow"):
        with_knobs(tampered, {"model": {"LogisticRegression.C": 2.0}})


# --- source_with_knobs --------------------------------------------------------------------


ALL_EDITS = {
    "features": ({"scale": 4, "shift": -2.0}, [("gr.knob(2,", "gr.knob(4,"), ("=0.5)", "=-2.0)")]),
    "model": (
        {
            "seed": 11,
            "LogisticRegression.C": 0.125,
            "LogisticRegression#2.solver": "newton-cg",
            "LogisticRegression#2.C": 3,
            "RandomForestClassifier.n_estimators": 200,
        },
        [
            ("seed=0", "seed=11"),
            ("(C=1.0, max_iter", "(C=0.125, max_iter"),
            ('"lbfgs"', '"newton-cg"'),
            ("C=0.5,", "C=3,"),
            ("n_estimators=10", "n_estimators=200"),
        ],
    ),
}


def test_source_with_knobs_equals_the_hand_edited_source(project: Project) -> None:
    wf = project.load(FILES)
    text = PIPELINE
    for _, replacements in ALL_EDITS.values():
        for old, new in replacements:
            text = edited(old, new, text)
    hand = project.load({"pipeline.py": text})
    for name, (values, _) in ALL_EDITS.items():
        written = source_with_knobs(wf.operators[name], values)
        ast.parse(written)
        assert written == hand.operators[name].source_text
        assert "# a comment that must survive" in written or name != "model"
        # an overlaid operator writes out the source of its variant
        overlaid = with_knobs(wf, {name: values}).operators[name]
        assert source_with_knobs(overlaid, {}) == written
    assert source_with_knobs(wf.operators["checked"], {}) == wf.operators["checked"].source_text


def test_source_with_knobs_keeps_quotes_and_unchanged_text(project: Project) -> None:
    text = edited('solver="lbfgs"', "solver='lbfgs'")
    text = edited("shift=0.5", "shift=5e-1", text)
    wf = project.load({**FILES, "pipeline.py": text})
    written = source_with_knobs(wf.operators["model"], {"LogisticRegression#2.solver": "sag"})
    assert "solver='sag'" in written
    features = wf.operators["features"]
    # asking for the value the text already has leaves its spelling alone
    assert source_with_knobs(features, {"shift": 0.5}) == features.source_text
    assert "shift=0.75" in source_with_knobs(features, {"shift": 0.75})


def test_source_with_knobs_rewrites_a_computed_default_only_when_asked(project: Project) -> None:
    text = edited("seed=0", "seed=2**3")
    wf = project.load({**FILES, "pipeline.py": text})
    model = wf.operators["model"]
    assert source_with_knobs(model, {}) == model.source_text
    assert "def model(features, seed=5):" in source_with_knobs(model, {"seed": 5})


def test_external_input_has_no_source_to_rewrite(project: Project) -> None:
    wf = project.load(
        {
            "pipeline.py": """\
            def scaled(factor):
                return 2 * factor
            """
        },
        options=LoadOptions(inputs={"factor": 2}),
    )
    new = with_knobs(wf, {"scaled": {"factor": 3}})
    op = new.operators["scaled"]
    assert op.func(**op.explicit_knob_values) == 6
    with pytest.raises(WorkflowError, match="no default in the code"):
        source_with_knobs(wf.operators["scaled"], {"factor": 3})
