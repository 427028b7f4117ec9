"""The bench's workflows: real data bundled with scikit-learn or statsmodels, nothing
downloaded.

Two are the repository's examples (`examples/breast_cancer`, `examples/diabetes`), patched
only so that a quarter of the rows is held out (their source returns `dev_rows(...)` and
their split calls `bench_split`, see `project_rows.py`); five are written here, in the
same style, with a first-draft model configuration. scikit-learn's tables are small (at
most 1,797 rows); `affairs` and `visits` load statsmodels' larger ones (6,366 and 20,190
rows), above the sampling floor, so their held-out verdict is not mostly noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
IMPORT = "import ghostrun as gr\n"
HOLDOUT_IMPORT = "from benchrows import bench_split, dev_rows\n"


@dataclass(frozen=True)
class BenchWorkflow:
    name: str
    description: str
    text: Callable[[], str]  # the workflow module's text, with the hold-out in place
    needs: tuple[str, ...] = ()  # modules beyond ghostrun's own dependencies (the data)


def _patched(example: str, *pairs: tuple[str, str]) -> Callable[[], str]:
    def text() -> str:
        source = (REPO / "examples" / example / "pipeline.py").read_text(encoding="utf-8")
        for old, new in ((IMPORT, IMPORT + HOLDOUT_IMPORT), *pairs):
            if source.count(old) != 1:
                raise ValueError(f"examples/{example}: expected {old!r} exactly once")
            source = source.replace(old, new)
        return source

    return text


def _own(name: str) -> Callable[[], str]:
    return lambda: (HERE / "pipelines" / f"{name}.py").read_text(encoding="utf-8")


WORKFLOWS = (
    BenchWorkflow(
        "breast_cancer",
        "examples/breast_cancer: 569 tumours, XGBoost, auc (max)",
        _patched(
            "breast_cancer",
            (
                '    frame[TARGET] = 1 - frame.pop("target")\n    return frame\n',
                '    frame[TARGET] = 1 - frame.pop("target")\n    return dev_rows(frame)\n',
            ),
            ("= train_test_split(", "= bench_split("),
        ),  # fmt: skip
    ),
    BenchWorkflow(
        "diabetes",
        "examples/diabetes: 442 patients, ridge regression, rmse (min)",
        _patched(
            "diabetes",
            (
                "return load_diabetes(as_frame=True, scaled=False).frame",
                "return dev_rows(load_diabetes(as_frame=True, scaled=False).frame)",
            ),
            ("= train_test_split(", "= bench_split("),
        ),  # fmt: skip
    ),
    BenchWorkflow(
        "diabetes_gbm",
        "diabetes with LightGBM (library defaults), rmse (min)",
        _own("diabetes_gbm"),
    ),
    BenchWorkflow("wine", "178 wines, a small shallow random forest, log loss (min)", _own("wine")),
    BenchWorkflow(
        "digits", "1,797 8×8 digit images, LightGBM defaults, log loss (min)", _own("digits")
    ),
    BenchWorkflow(
        "affairs",
        "6,366 married women (statsmodels fair), any affair, LightGBM defaults, auc (max)",
        _own("affairs"),
        needs=("statsmodels",),
    ),
    BenchWorkflow(
        "visits",
        "20,190 person-years (statsmodels randhie), doctor visits, LightGBM defaults,"
        " Poisson deviance (min)",
        _own("visits"),
        needs=("statsmodels",),
    ),
)
NAMES = tuple(w.name for w in WORKFLOWS)


def select(spec: str) -> list[BenchWorkflow]:
    if spec in ("", "all"):
        _check_needs(list(WORKFLOWS))
        return list(WORKFLOWS)
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [w for w in wanted if w not in NAMES]
    if unknown:
        raise SystemExit(f"unknown workflows {unknown}; choose from {', '.join(NAMES)}")
    chosen = [w for w in WORKFLOWS if w.name in wanted]
    _check_needs(chosen)
    return chosen


def _check_needs(workflows: list[BenchWorkflow]) -> None:
    """Fail before any work, not inside a project's first run, when a data package is
    missing (statsmodels is only in the `bench` extra)."""
    missing: dict[str, list[str]] = {}
    for w in workflows:
        for module in w.needs:
            if find_spec(module) is None:
                missing.setdefault(module, []).append(w.name)
    if missing:
        lines = [f"{m} is not installed (its bundled data is needed by: {', '.join(names)})"
                 for m, names in missing.items()]  # fmt: skip
        raise SystemExit(
            "\n".join(lines) + "\ninstall it with: pip install -e '.[bench]'"
            " (or pick other --workflows)"
        )


PYPROJECT = """[project]
name = "suggest-bench-{name}"
version = "0.0.0"

[tool.ghostrun]
workflow = "pipeline.py"
"""


def write_project(workflow: BenchWorkflow, root: Path) -> Path:
    """A fresh project folder: the workflow, the hold-out helper, the config."""
    root.mkdir(parents=True, exist_ok=False)
    (root / "pipeline.py").write_text(workflow.text(), encoding="utf-8")
    (root / "benchrows.py").write_text(
        (HERE / "project_rows.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (root / "pyproject.toml").write_text(PYPROJECT.format(name=workflow.name))
    return root
