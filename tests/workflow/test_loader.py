"""Reading a module into a workflow (DESIGN §1): graph shape, knobs, metrics, Hamilton-style
modules, external inputs, validation errors (with file:line and the fix), fresh re-imports.
"""

from __future__ import annotations

import inspect
import os
import py_compile
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ghostrun.errors import WorkflowError
from ghostrun.workflow.knobs import is_data_path
from ghostrun.workflow.loader import LoadOptions
from ghostrun.workflow.types import KnobRange, MetricOptions, SourceOptions

from ._project import FileContent, Project

SHARED_RESOURCES = Path(__file__).parents[1] / "resources"
OWN_RESOURCES = Path(__file__).parent / "resources"

DIAMOND = """\
import ghostrun as gr
import pandas as pd
from lightgbm import LGBMClassifier
import lightgbm as lgb
import xgboost as xgb


@gr.source(sample_by="id", files=["data/*.csv"])
def raw(path="data/train.csv", folder="data", missing="data/nope.csv", mode="auto"):
    return pd.read_csv(path)


@gr.op
def left(
    raw,
    min_count=gr.knob(20, low=1, high=500, log=True),
    budget=gr.knob(100, low=10, high=1000, budget=True),
    *,
    method=gr.knob("mean", choices=["mean", "median"]),
):
    return raw


@gr.op
def right(raw, test_size=0.25):
    first = LGBMClassifier(
        num_leaves=31,
        learning_rate=0.05,
        n_estimators=-1,
    )
    second = lgb.LGBMClassifier(num_leaves=7, class_weight=None, importance_type="gain")
    booster = xgb.train({"eta": 0.1}, None, num_boost_round=50)
    return first, second, booster


@gr.metric(goal="min")
def loss(left, right) -> float:
    return 0.0


@gr.metric
def gain(loss, raw) -> float:
    return 1.0
"""

DIAMOND_FILES: dict[str, FileContent] = {
    "pipeline.py": DIAMOND,
    "data/train.csv": "id,x\n1,2\n",
}


def line_of(text: str, fragment: str) -> int:
    """1-based line of the only line containing `fragment`."""
    lines = [i for i, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(lines) == 1, (fragment, lines)
    return lines[0]


# --- graph shape --------------------------------------------------------------------------


def test_graph_shape_kinds_and_order(project: Project) -> None:
    wf = project.load(DIAMOND_FILES)
    ops = wf.operators
    assert list(ops) == ["raw", "left", "right", "loss", "gain"]
    assert {n: op.kind for n, op in ops.items()} == {
        "raw": "source",
        "left": "op",
        "right": "op",
        "loss": "metric",
        "gain": "metric",
    }
    assert {n: op.inputs for n, op in ops.items()} == {
        "raw": (),
        "left": ("raw",),
        "right": ("raw",),
        "loss": ("left", "right"),
        "gain": ("loss", "raw"),
    }
    assert wf.dependents("raw") == ("left", "right", "gain")
    assert wf.sinks == ("gain",)
    assert wf.metrics == ("loss", "gain")
    assert wf.closure(["left"], "downstream") == {"left", "loss", "gain"}
    assert wf.closure(["loss"], "upstream") == {"loss", "left", "right", "raw"}
    assert wf.in_order({"gain", "raw", "left"}) == ["raw", "left", "gain"]
    assert wf.relpath == "pipeline.py"
    assert not wf.hamilton_style


def test_topological_order_beats_line_order(project: Project) -> None:
    """A consumer defined above its input still comes after it; ties keep line order."""
    wf = project.load(
        {
            "pipeline.py": """\
        import ghostrun as gr

        @gr.metric
        def score(model) -> float:
            return 1.0

        @gr.op
        def model(b, a):
            return 1

        @gr.op
        def b(a):
            return 1

        @gr.source
        def a():
            return 1

        @gr.source
        def z():
            return 1
    """
        }
    )
    assert list(wf.operators) == ["a", "z", "b", "model", "score"]


def test_declarations_are_read(project: Project) -> None:
    wf = project.load(DIAMOND_FILES)
    raw, loss, gain = wf.operators["raw"], wf.operators["loss"], wf.operators["gain"]
    assert raw.source_options == SourceOptions(sample=True, sample_by="id", files=("data/*.csv",))
    assert loss.metric_options == MetricOptions(goal="min", primary=False)
    assert gain.metric_options == MetricOptions(goal="max", primary=False)
    left = wf.operators["left"]
    assert left.source_options is None and left.metric_options is None


def test_operators_locations_and_source_text(project: Project) -> None:
    wf = project.load(DIAMOND_FILES)
    right = wf.operators["right"]
    assert str(right.location) == f"pipeline.py:{line_of(DIAMOND, 'def right(')}"
    assert right.source_text.startswith("@gr.op\ndef right(raw, test_size=0.25):\n")
    assert right.source_text.rstrip().endswith("return first, second, booster")


# --- primary metric -----------------------------------------------------------------------

METRICS = """\
import ghostrun as gr


@gr.op
def model():
    return 1


@gr.metric(goal="min")
def loss(model) -> float:
    return 0.0


@gr.metric(goal="max"{primary})
def auc(model) -> float:
    return 1.0
"""


@pytest.mark.parametrize(
    ("primary", "options", "expected"),
    [
        ("", None, ("loss", "min")),
        (", primary=True", None, ("auc", "max")),
        ("", LoadOptions(metric="auc"), ("auc", "max")),
        ("", LoadOptions(metric="auc", goal="min"), ("auc", "min")),
        (", primary=True", LoadOptions(metric="loss"), ("loss", "min")),
    ],
    ids=["first declared", "primary=True", "config metric", "config goal", "config beats primary"],
)
def test_primary_metric(
    project: Project, primary: str, options: LoadOptions | None, expected: tuple[str, str]
) -> None:
    wf = project.load({"pipeline.py": METRICS.format(primary=primary)}, options)
    assert (wf.primary, wf.goal) == expected


def test_primary_metric_follows_lines_not_names(project: Project) -> None:
    source = METRICS.format(primary="").replace("def loss(", "def zz_loss(")
    wf = project.load({"pipeline.py": source})
    assert wf.primary == "zz_loss"


def test_no_metric_means_no_primary(project: Project) -> None:
    wf = project.load({"pipeline.py": "import ghostrun as gr\n\n@gr.op\ndef a():\n    return 1\n"})
    assert wf.primary is None and wf.metrics == ()


# --- knobs --------------------------------------------------------------------------------


def test_explicit_knobs_values_ranges_and_lines(project: Project) -> None:
    wf = project.load(DIAMOND_FILES)
    left = wf.operators["left"]
    assert [k.name for k in left.knobs] == ["min_count", "budget", "method"]
    min_count, budget, method = left.knobs
    assert min_count.value == 20 and not min_count.implicit
    assert min_count.range == KnobRange(low=1, high=500, log=True)
    assert budget.range == KnobRange(low=10, high=1000, budget=True)
    assert method.range == KnobRange(choices=("mean", "median"))
    for knob in left.knobs:
        assert knob.location.file == "pipeline.py"
        assert knob.location.line == line_of(DIAMOND, f"    {knob.name}=gr.knob(")
    assert left.explicit_knob_values == {"min_count": 20, "budget": 100, "method": "mean"}
    test_size = wf.operators["right"].knob("test_size")
    assert test_size is not None and test_size.range is None
    assert test_size.location.line == line_of(DIAMOND, "def right(")


def test_gr_knob_is_replaced_by_its_default_in_the_signature(project: Project) -> None:
    left = project.load(DIAMOND_FILES).operators["left"]
    params = inspect.signature(left.func).parameters
    assert params["min_count"].default == 20
    assert params["budget"].default == 100
    assert params["method"].default == "mean"


def test_implicit_knobs_named_by_estimator(project: Project) -> None:
    right = project.load(DIAMOND_FILES).operators["right"]
    implicit = {k.name: k for k in right.knobs if k.implicit}
    assert {n: k.value for n, k in implicit.items()} == {
        "LGBMClassifier.num_leaves": 31,
        "LGBMClassifier.learning_rate": 0.05,
        "LGBMClassifier.n_estimators": -1,
        "LGBMClassifier#2.num_leaves": 7,
        "LGBMClassifier#2.importance_type": "gain",
        "xgboost.train.num_boost_round": 50,
    }
    for name, fragment in [
        ("LGBMClassifier.num_leaves", "num_leaves=31"),
        ("LGBMClassifier.n_estimators", "n_estimators=-1"),
        ("LGBMClassifier#2.importance_type", "importance_type="),
    ]:
        assert str(implicit[name].location) == f"pipeline.py:{line_of(DIAMOND, fragment)}"
    assert implicit["LGBMClassifier.num_leaves"].estimator == "lightgbm.sklearn.LGBMClassifier"


def test_path_like_defaults_are_data(project: Project) -> None:
    raw = project.load(DIAMOND_FILES).operators["raw"]
    assert {k.name: k.is_data for k in raw.knobs} == {
        "path": True,
        "folder": True,
        "missing": False,
        "mode": False,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("data/train.csv", True),
        ("./data/train.csv", True),
        ("data", True),
        ("data/", True),
        ("data/nope.csv", False),
        ("auto", False),
        ("", False),
        (".", False),
        ("./", False),
        ("..", False),
        ("data/..", False),
        ("/", False),
        ("line\nbreak", False),
    ],
)
def test_is_data_path(project: Project, value: str, expected: bool) -> None:
    """Existing files and folders are data; the project folder and its parents never are
    (`decimal="."` or `sep="/"` must not hash the whole project, or the whole disk)."""
    project.write({"data/train.csv": "x\n1\n"})
    assert is_data_path(value, project.root) is expected


def test_absolute_path_outside_the_project_is_data(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "shared.csv"
    outside.write_text("x\n")
    assert is_data_path(str(outside), project.root)
    assert not is_data_path(str(tmp_path), project.root)  # contains the project


# --- Hamilton-style modules ---------------------------------------------------------------


def _resource(name: str) -> Path:
    shared = SHARED_RESOURCES / name
    return shared if shared.exists() else OWN_RESOURCES / name


def _load_resource(project: Project, name: str, options: LoadOptions | None = None):  # noqa: ANN202
    shutil.copy(_resource(name), project.root / name)
    return project.load(options=options, workflow=name)


def test_hamilton_module_every_public_function_is_an_operator(project: Project) -> None:
    wf = _load_resource(project, "hamilton_features.py")
    assert wf.hamilton_style
    assert set(wf.operators) == {
        "customers",
        "age",
        "income",
        "log_income",
        "income_missing",
        "age_bucket",
        "tenure_days",
        "conversion_rate",
        "is_paying",
        "feature_frame",
    }
    assert all(op.kind == "op" for op in wf.operators.values())
    assert wf.operators["log_income"].inputs == ("income",)
    assert wf.operators["feature_frame"].inputs == (
        "log_income",
        "income_missing",
        "age_bucket",
        "tenure_days",
        "conversion_rate",
        "is_paying",
    )
    assert wf.sinks == ("feature_frame",)
    assert wf.primary is None
    assert wf.operators["log_income"].explicit_knob_values == {"income_cap_quantile": 0.99}


def test_hamilton_module_metric_from_configuration(project: Project) -> None:
    options = LoadOptions(metric="test_log_loss", goal="min")
    wf = _load_resource(project, "hamilton_ml.py", options)
    assert (wf.primary, wf.goal) == ("test_log_loss", "min")
    assert wf.operators["test_log_loss"].kind == "metric"
    assert wf.operators["test_accuracy"].kind == "op"
    fitted = wf.operators["fitted_model"]
    assert fitted.explicit_knob_values == {"regularization": 1.0}
    implicit = {k.name: k.value for k in fitted.knobs if k.implicit}
    assert implicit == {"LogisticRegression.max_iter": 500}
    # Imported functions (train_test_split, load_wine...) are not operators.
    assert "train_test_split" not in wf.operators and "load_wine" not in wf.operators


def test_hamilton_external_inputs_missing_are_reported(project: Project) -> None:
    with pytest.raises(WorkflowError) as caught:
        _load_resource(project, "hamilton_marketing.py")
    assert "names no operator and has no default" in str(caught.value)
    assert "`inputs` in [tool.ghostrun]" in str(caught.value)


def test_external_inputs_from_load_options(project: Project) -> None:
    project.write({"data/spend.csv": "spend\n1\n"})
    inputs = {"spend": "data/spend.csv", "signups": 12}
    wf = _load_resource(project, "hamilton_marketing.py", LoadOptions(inputs=inputs))
    avg = wf.operators["avg_spend"]
    assert avg.inputs == ()
    assert {k.name: (k.value, k.is_data) for k in avg.knobs} == {
        "window_weeks": (3, False),
        "spend": ("data/spend.csv", True),
    }
    per_signup = wf.operators["spend_per_signup"]
    assert {k.name: k.value for k in per_signup.knobs} == {"spend": "data/spend.csv", "signups": 12}
    assert wf.operators["efficiency_score"].inputs == ("spend_per_signup", "avg_spend")


def test_own_hamilton_resources_load(project: Project) -> None:
    """Our own small Hamilton modules: one with a helper module and config-chosen metric."""
    shutil.copy(OWN_RESOURCES / "hamilton_helpers.py", project.root / "hamilton_helpers.py")
    wf = _load_resource(project, "hamilton_churn.py", LoadOptions(metric="churn_rate"))
    assert wf.hamilton_style and wf.primary == "churn_rate"
    assert wf.operators["active"].inputs == ("events",)
    assert "_days_between" not in wf.operators and "days_since" not in wf.operators


# --- validation errors --------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCase:
    """A broken project; the error must name `file` and the line containing `marker`
    (None: no line), and contain every fragment (the problem and the fix)."""

    id: str
    files: dict[str, FileContent]
    file: str
    marker: str | None
    fragments: tuple[str, ...]
    options: LoadOptions | None = None
    absent: tuple[str, ...] = field(default=())


def _op(name: str, params: str = "", deco: str = "@gr.op") -> str:
    return f"\n\n{deco}\ndef {name}({params}):\n    return 1\n"


HEAD = "import ghostrun as gr\n"

ERROR_CASES = [
    ErrorCase(
        "cycle",
        {"pipeline.py": HEAD + _op("a", "c") + _op("b", "a") + _op("c", "b")},
        "pipeline.py",
        "def a(",
        ("form a cycle", "a → b → c → a", "rename one of these parameters"),
    ),
    ErrorCase(
        "self-cycle",
        {"pipeline.py": HEAD + _op("src") + _op("a", "a, src")},
        "pipeline.py",
        "def a(",
        ("form a cycle", "a → a", "cannot consume its own output"),
    ),
    ErrorCase(
        "unknown input with a did-you-mean",
        {"pipeline.py": HEAD + _op("features", deco="@gr.source") + _op("model", "featurs")},
        "pipeline.py",
        "def model(",
        (
            "'featurs'",
            "names no operator and has no default",
            "give the parameter a default",
            "Did you mean 'features'?",
        ),
    ),
    ErrorCase(
        "unknown input without a close name",
        {"pipeline.py": HEAD + _op("features", deco="@gr.source") + _op("model", "qqq")},
        "pipeline.py",
        "def model(",
        ("'qqq'", "add an operator named 'qqq'"),
        absent=("Did you mean",),
    ),
    ErrorCase(
        "duplicate operator names",
        {
            "pipeline.py": HEAD + _op("a") + _op("b", "a") + "\n\n@gr.op\ndef a():  # second\n"
            "    return 2\n"
        },
        "pipeline.py",
        "# second",
        ("two operators are named 'a'", "rename or delete one"),
    ),
    ErrorCase(
        "two primary metrics",
        {
            "pipeline.py": HEAD
            + _op("a")
            + _op("m1", "a", "@gr.metric(primary=True)")
            + "\n\n@gr.metric(primary=True)\ndef m2(a):  # second\n    return 1.0\n"
        },
        "pipeline.py",
        "# second",
        ("several metrics are marked primary=True (m1, m2)", "keep it on one"),
    ),
    ErrorCase(
        "positional-only parameter",
        {"pipeline.py": HEAD + _op("a") + "\n\n@gr.op\ndef b(a, /):\n    return a\n"},
        "pipeline.py",
        "def b(",
        ("positional-only parameter 'a'", "remove the '/'"),
    ),
    ErrorCase(
        "syntax error",
        {"pipeline.py": HEAD + _op("a") + "\n\n@gr.op\ndef b(a:\n    return a\n"},
        "pipeline.py",
        "def b(a:",
        ("invalid syntax", "fix it and save again"),
    ),
    ErrorCase(
        "syntax error in an imported local module",
        {
            "pipeline.py": HEAD + "import helpers\n" + _op("a"),
            "helpers.py": "X = 1\nY = (2,\n",
        },
        "helpers.py",
        "Y = (2,",
        ("invalid syntax", "never closed", "fix it and save again"),
    ),
    ErrorCase(
        "module-level code that raises",
        {"pipeline.py": HEAD + "LOOKUP = {}\nTHRESHOLD = LOOKUP['t']\n" + _op("a")},
        "pipeline.py",
        "THRESHOLD = ",
        ("raised KeyError", "fix the module-level code so that the file imports"),
    ),
    ErrorCase(
        "module-level code of a local module that raises",
        {
            "pipeline.py": HEAD + "import helpers\n" + _op("a"),
            "helpers.py": "import math\n\nSCALE = math.log(0)\n",
        },
        "helpers.py",
        "SCALE = ",
        ("raised ValueError", "math domain error", "fix the module-level code"),
    ),
    ErrorCase(
        "bad metric goal",
        {"pipeline.py": HEAD + _op("a") + _op("m", "a", "@gr.metric(goal='maximize')")},
        "pipeline.py",
        "goal='maximize'",
        ("goal must be 'max' or 'min'",),
    ),
    ErrorCase(
        "knob range upside down",
        {"pipeline.py": HEAD + "\n\n@gr.op\ndef a(k=gr.knob(5, low=10, high=1)):\n    return k\n"},
        "pipeline.py",
        "gr.knob(5",
        ("low=10 is above high=1", "swap them"),
    ),
    ErrorCase(
        "configured metric naming no operator",
        {"pipeline.py": HEAD + _op("a") + _op("m", "a", "@gr.metric")},
        "pipeline.py",
        None,
        ("configured metric 'auc' names no operator", "set `metric` to one of: a, m"),
        options=LoadOptions(metric="auc"),
    ),
    ErrorCase(
        "module with no operators",
        {"pipeline.py": "import pandas as pd\n\nX = 1\n\n\ndef _private():\n    return X\n"},
        "pipeline.py",
        None,
        ("defines no operator", "decorate functions with @gr.source, @gr.op or @gr.metric"),
    ),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.id for c in ERROR_CASES])
def test_validation_errors_name_file_line_and_fix(project: Project, case: ErrorCase) -> None:
    with pytest.raises(WorkflowError) as caught:
        project.load(case.files, case.options)
    error = caught.value
    text = str(case.files[case.file])
    line = line_of(text, case.marker) if case.marker is not None else None
    assert (error.file, error.line) == (case.file, line)
    where = case.file if line is None else f"{case.file}:{line}"
    assert str(error).startswith(f"{where}: ")
    for fragment in case.fragments:
        assert fragment in str(error)
    for fragment in case.absent:
        assert fragment not in str(error)
    assert error.exit_code == 2


def test_missing_workflow_file(project: Project) -> None:
    with pytest.raises(WorkflowError, match="no such workflow file; create it"):
        project.load()


def test_a_broken_load_leaves_the_next_load_working(project: Project) -> None:
    """A syntax error mid-edit is reported, and the fixed file then loads."""
    good = {"pipeline.py": HEAD + _op("a")}
    project.load(good)
    with pytest.raises(WorkflowError):
        project.load({"pipeline.py": HEAD + "def a(:\n"})
    assert list(project.load(good).operators) == ["a"]


# --- fresh imports ------------------------------------------------------------------------

RELOADED = """\
import ghostrun as gr
import helpers


@gr.op
def a(k=31, factor=helpers.FACTOR):
    return k * factor
"""


def _knob_values(project: Project) -> dict[str, object]:
    return project.load().operators["a"].explicit_knob_values


def test_reload_picks_up_edits_to_workflow_and_local_module(project: Project) -> None:
    project.write({"pipeline.py": RELOADED, "helpers.py": "FACTOR = 1\n"})
    assert _knob_values(project) == {"k": 31, "factor": 1}
    project.write({"pipeline.py": RELOADED.replace("31", "63")})
    assert _knob_values(project) == {"k": 63, "factor": 1}
    project.write({"helpers.py": "FACTOR = 2\n"})
    assert _knob_values(project) == {"k": 63, "factor": 2}


def test_reload_ignores_stale_bytecode(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """A .pyc is trusted when the source's mtime (whole seconds) and size match: two saves
    within a second that keep the size must still load the new text."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    project.write({"pipeline.py": RELOADED, "helpers.py": "FACTOR = 1\n"})
    assert _knob_values(project) == {"k": 31, "factor": 1}
    stamps = {}
    for name in ("pipeline.py", "helpers.py"):
        path = project.root / name
        py_compile.compile(str(path), doraise=True)  # what `python pipeline.py` leaves behind
        stamps[name] = path.stat().st_mtime_ns
    (project.root / "pipeline.py").write_text(RELOADED.replace("31", "63"))
    (project.root / "helpers.py").write_text("FACTOR = 2\n")
    for name, stamp in stamps.items():
        os.utime(project.root / name, ns=(stamp, stamp))
    assert _knob_values(project) == {"k": 63, "factor": 2}


def test_local_module_of_an_earlier_project_is_not_reused(tmp_path: Path) -> None:
    """Two projects in one process, both with a `helpers` module."""
    first, second = Project(tmp_path / "one"), Project(tmp_path / "two")
    for proj, factor in ((first, 1), (second, 2)):
        proj.root.mkdir()
        proj.write({"pipeline.py": RELOADED, "helpers.py": f"FACTOR = {factor}\n"})
    assert _knob_values(first)["factor"] == 1
    assert _knob_values(second)["factor"] == 2
    assert _knob_values(first)["factor"] == 1
