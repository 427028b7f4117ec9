"""Every example project, the demo template and the fixture workflows run as plain Python.

The DESIGN contract says a workflow stays runnable and testable without ghostrun's
loader, and existing Hamilton dataflows run unchanged; these tests hold the shipped
modules to that, on small data, and check that their metrics are deterministic.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import os
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from ghostrun.demo import TEMPLATE_DIR
from ghostrun.demo.data import write_demo_data
from ghostrun.workflow.decorators import KnobDefault, declaration_of

os.environ.setdefault("HAMILTON_TELEMETRY_ENABLED", "false")  # before hamilton is imported

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
RESOURCES = Path(__file__).resolve().parent / "resources"
PROJECTS = [EXAMPLES / "breast_cancer", EXAMPLES / "diabetes", EXAMPLES / "census",
            TEMPLATE_DIR]
HAMILTON_MODULES = sorted(RESOURCES.glob("hamilton_*.py"))


def load_module(path: Path) -> ModuleType:
    """Import a file under a unique name (every project calls its workflow pipeline.py)."""
    name = f"_gr_test_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    writes_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # keep __pycache__ out of shipped project folders
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return module


@pytest.fixture(autouse=True)
def _one_openmp_thread() -> Iterator[None]:
    """OpenMP threads (XGBoost, scikit-learn) spin at barriers and slow down by an order of
    magnitude when other processes hold the cores; tests share machines, so use one."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture
def load() -> Iterator[Callable[[Path], ModuleType]]:
    loaded: list[str] = []

    def _load(path: Path) -> ModuleType:
        module = load_module(path)
        loaded.append(module.__name__)
        return module

    yield _load
    for name in loaded:
        sys.modules.pop(name, None)


def operators(module: ModuleType) -> dict[str, Callable[..., Any]]:
    """The module's decorated functions, in definition order."""
    return {
        name: func for name, func in vars(module).items()
        if callable(func) and getattr(func, "__module__", None) == module.__name__
        and declaration_of(func) is not None
    }


def run_plain(module: ModuleType, **kwargs: dict[str, Any]) -> dict[str, Any]:
    """Call every operator once, inputs first, as a user would by hand in a notebook.

    `kwargs` maps an operator name to keyword arguments overriding its knobs.
    """
    ops = operators(module)
    results: dict[str, Any] = {}

    def value(name: str) -> Any:
        if name not in results:
            params = inspect.signature(ops[name]).parameters
            inputs = {p: value(p) for p in params if p in ops}
            results[name] = ops[name](**inputs, **kwargs.get(name, {}))
        return results[name]

    for name in ops:
        value(name)
    return results


def metrics_of(module: ModuleType, results: dict[str, Any]) -> dict[str, float]:
    """The metric values, checked to be plain floats as the metric contract demands."""
    metrics = {name: results[name] for name, func in operators(module).items()
               if declaration_of(func).kind == "metric"}
    assert all(type(value) is float for value in metrics.values()), metrics
    return metrics


# --- structure: what the loader will rely on -------------------------------------------


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_project_is_configured(project: Path) -> None:
    config = tomllib.loads((project / "pyproject.toml").read_text())
    workflow = config["tool"]["ghostrun"]["workflow"]
    assert workflow == "pipeline.py"
    assert (project / workflow).is_file()
    assert (project / "README.md").read_text().strip()


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_workflow_is_a_closed_dag(project: Path, load: Callable[[Path], ModuleType]) -> None:
    """Every parameter names an operator or has a default; knobs are unwrapped."""
    module = load(project / "pipeline.py")
    ops = operators(module)
    kinds = [declaration_of(f).kind for f in ops.values()]
    assert kinds.count("source") >= 1 and kinds.count("metric") >= 2
    for name, func in ops.items():
        for param in inspect.signature(func).parameters.values():
            if param.name in ops:
                assert param.default is inspect.Parameter.empty, (name, param.name)
            else:
                assert param.default is not inspect.Parameter.empty, (name, param.name)
                assert not isinstance(param.default, KnobDefault), (name, param.name)


# --- the small sklearn examples ----------------------------------------------------------


def test_breast_cancer_is_accurate_and_deterministic(load: Callable[[Path], ModuleType]) -> None:
    module = load(EXAMPLES / "breast_cancer" / "pipeline.py")
    first = metrics_of(module, run_plain(module))
    second = metrics_of(module, run_plain(module))
    assert first == second
    assert list(first) == ["auc", "accuracy"]
    assert 0.95 < first["auc"] <= 1.0 and 0.9 < first["accuracy"] <= 1.0
    without = metrics_of(module, run_plain(module, features={"shape_features": False}))
    assert without != first  # the knob reaches the model


def test_diabetes_regression_is_deterministic(load: Callable[[Path], ModuleType]) -> None:
    module = load(EXAMPLES / "diabetes" / "pipeline.py")
    first = metrics_of(module, run_plain(module))
    assert first == metrics_of(module, run_plain(module))
    assert list(first) == ["rmse", "r2"]
    assert 40.0 < first["rmse"] < 65.0 and 0.3 < first["r2"] < 0.7
    decl = declaration_of(module.rmse)
    assert decl.metric is not None and decl.metric.goal == "min"
    logged = metrics_of(module, run_plain(module, model={"log_targets": True}))
    assert logged["rmse"] != first["rmse"]


# --- generated census data: example and demo template ----------------------------------


def test_census_example_creates_its_data_then_reuses_it(
    tmp_path: Path, load: Callable[[Path], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load(EXAMPLES / "census" / "pipeline.py")
    monkeypatch.setattr(module, "N_ROWS", 6_000)
    path = tmp_path / "data" / "census.csv"
    first = run_plain(module, census={"path": str(path)})
    assert path.is_file() and len(first["census"]) == 6_000
    assert "customer_id" in first["census"].columns  # the source's sample_by key
    second = run_plain(module, census={"path": str(path)})
    assert metrics_of(module, first) == metrics_of(module, second)
    assert 0.8 < first["auc"] < 0.97 and 0.2 < first["logloss"] < 0.5


def test_census_title_parsing(load: Callable[[Path], ModuleType]) -> None:
    module = load(EXAMPLES / "census" / "pipeline.py")
    titles = pd.Series(["Sr. Welder - PT", "Head Nurse", "intern - Cook", None, "Plumber",
                        "DIRECTOR, SALES REPRESENTATIVE"])
    assert module.parse_seniority(titles).tolist() == [2, 3, 0, 1, 1, 3]


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_demo_data(tmp_path_factory.mktemp("demo") / "data", n_rows=20_000)


@pytest.fixture(scope="module")
def template_run(demo_data: dict[str, Path]) -> Iterator[tuple[ModuleType, dict[str, Any]]]:
    """One plain run of the demo template on 20,000 rows, shared by the tests below."""
    module = load_module(TEMPLATE_DIR / "pipeline.py")
    # LightGBM picks its own thread count (threadpoolctl cannot lower it); on shared cores
    # its spinning threads make a fit 10-30x slower, so the test pins it to one thread.
    module.LGBMClassifier = functools.partial(module.LGBMClassifier, n_jobs=1)
    with threadpool_limits(limits=1):
        results = run_plain(module, **_template_paths(demo_data))
    yield module, results
    sys.modules.pop(module.__name__, None)


def _template_paths(demo_data: dict[str, Path]) -> dict[str, dict[str, Any]]:
    return {"raw": {"path": str(demo_data["census"])},
            "orders": {"orders_path": str(demo_data["orders"])}}


def test_template_runs_on_small_data(
    template_run: tuple[ModuleType, dict[str, Any]], demo_data: dict[str, Path]
) -> None:
    module, first = template_run
    metrics = metrics_of(module, first)
    assert list(metrics) == ["auc", "logloss"]
    assert 0.85 < metrics["auc"] < 0.94 and 0.25 < metrics["logloss"] < 0.45
    assert metrics == metrics_of(module, run_plain(module, **_template_paths(demo_data)))
    for source in ("raw", "orders"):
        options = declaration_of(getattr(module, source)).source
        assert options is not None and options.sample_by in first[source].columns
    features = first["features"]
    assert module.LABEL in features and "n_orders" in features and "seniority" in features


def test_template_knobs_move_the_metric(template_run: tuple[ModuleType, dict[str, Any]]) -> None:
    module, results = template_run
    split = results["split"]
    shallow = module.model(split, num_leaves=4)
    assert module.auc(shallow, split) != results["auc"]
    no_titles = module.split(results["features"].drop(columns=["seniority", "part_time"]))
    assert module.auc(module.model(no_titles), no_titles) < results["auc"]


def test_template_matches_the_demo_script() -> None:
    """`ghostrun demo` edits the template by text replacement; the edit must apply once."""
    from ghostrun.demo.runner import EDIT

    text = (TEMPLATE_DIR / "pipeline.py").read_text()
    assert text.count(EDIT[0]) == 1


def test_template_generates_missing_data(
    tmp_path: Path, load: Callable[[Path], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load(TEMPLATE_DIR / "pipeline.py")
    monkeypatch.setattr(module, "DEMO_ROWS", 2_000)
    raw = module.raw(path=str(tmp_path / "data" / "census.csv"))
    assert len(raw) == 2_000 and (tmp_path / "data" / "orders.csv").is_file()


def test_template_title_parsing(load: Callable[[Path], ModuleType]) -> None:
    module = load(TEMPLATE_DIR / "pipeline.py")
    titles = pd.Series(["Sr. Accountant - PT", "Head Nurse", "jr Cook", None, "Welder  ",
                        "Staff Pharmacist, Part-Time", "senior Receptionist (part-time)"])
    parsed = module._title_features(titles)
    assert parsed["seniority"].fillna(-1).tolist() == [2, 4, 0, -1, 1, 3, 2]
    assert parsed["part_time"].tolist() == [True, False, False, False, False, True, True]


# --- fixture workflows in tests/resources ----------------------------------------------


def test_decorated_minimal_is_fast_and_deterministic(
    load: Callable[[Path], ModuleType]
) -> None:
    module = load(RESOURCES / "decorated_minimal.py")
    assert list(operators(module)) == ["points", "design", "fit", "mse"]
    first = run_plain(module)
    assert first["mse"] == run_plain(module)["mse"]
    assert len(first["points"]) >= 1_500 * 10  # large enough for a 10% sample
    cubic = run_plain(module, design={"degree": 3})
    assert cubic["mse"] < first["mse"]  # the knob matters


def _hamilton_run(module: ModuleType, outputs: list[str], inputs: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
    from hamilton import base, driver, telemetry

    telemetry.disable_telemetry()  # no network here, and none wanted
    dr = driver.Builder().with_modules(module).with_adapters(base.DictResult()).build()
    return dr.execute(outputs, inputs=inputs or {})


def _external_inputs(module: ModuleType) -> set[str]:
    """Parameters that name no function of the module and have no default."""
    funcs = {n for n, f in vars(module).items()
             if inspect.isfunction(f) and f.__module__ == module.__name__}
    return {
        p.name for n in funcs if not n.startswith("_")
        for p in inspect.signature(getattr(module, n)).parameters.values()
        if p.name not in funcs and p.default is inspect.Parameter.empty
    }


@pytest.mark.parametrize("path", HAMILTON_MODULES, ids=lambda p: p.stem)
def test_hamilton_fixture_is_plain(path: Path, load: Callable[[Path], ModuleType]) -> None:
    """No ghostrun in sight: the module must be read the way Hamilton reads it."""
    module = load(path)
    text = path.read_text()
    assert "import ghostrun" not in text and "from ghostrun" not in text
    assert all(declaration_of(f) is None for f in vars(module).values() if callable(f))


def test_only_one_hamilton_fixture_has_external_inputs(
    load: Callable[[Path], ModuleType]
) -> None:
    external = {p.stem: _external_inputs(load(p)) for p in HAMILTON_MODULES}
    assert len(HAMILTON_MODULES) >= 3
    assert external.pop("hamilton_marketing") == {"spend", "signups"}
    assert all(not names for names in external.values()), external
    doc = load(RESOURCES / "hamilton_marketing.py").__doc__ or ""
    assert "``spend``" in doc and "``signups``" in doc


def test_hamilton_marketing(load: Callable[[Path], ModuleType]) -> None:
    module = load(RESOURCES / "hamilton_marketing.py")
    inputs = {"spend": pd.Series([10.0, 10.0, 20.0, 40.0, 40.0, 50.0]),
              "signups": pd.Series([1, 10, 50, 100, 200, 400])}
    out = _hamilton_run(module, ["efficiency_score", "spend_zero_mean_unit_variance",
                                 "marginal_cost"], inputs)
    z = out["spend_zero_mean_unit_variance"]
    assert abs(z.mean()) < 1e-12 and abs(z.std() - 1.0) < 1e-12
    by_hand = module.efficiency_score(
        module.spend_per_signup(inputs["spend"], inputs["signups"]),
        module.avg_spend(inputs["spend"]),
    )
    assert out["efficiency_score"] == pytest.approx(by_hand)


def test_hamilton_features(load: Callable[[Path], ModuleType]) -> None:
    module = load(RESOURCES / "hamilton_features.py")
    first = _hamilton_run(module, ["feature_frame"])["feature_frame"]
    second = _hamilton_run(module, ["feature_frame"])["feature_frame"]
    pd.testing.assert_frame_equal(first, second)
    assert first.shape == (5_000, 10) and not first.isna().any().any()
    customers = module.customers()
    by_hand = module.log_income(module.income(customers))
    pd.testing.assert_series_equal(first["log_income"], by_hand, check_names=False)


def test_hamilton_ml(load: Callable[[Path], ModuleType]) -> None:
    module = load(RESOURCES / "hamilton_ml.py")
    scores = ["test_accuracy", "test_log_loss"]
    first = _hamilton_run(module, scores)
    assert first == _hamilton_run(module, scores)
    assert first["test_accuracy"] > 0.9 and 0.0 < first["test_log_loss"] < 0.3
    weaker = _hamilton_run(module, scores, {"regularization": 0.01})
    assert weaker["test_log_loss"] > first["test_log_loss"]
