"""The bench's workflows: real data bundled with scikit-learn, nothing downloaded.

Two are the repository's examples (`examples/breast_cancer`, `examples/diabetes`), patched
only so that a quarter of the rows is held out (their source returns `dev_rows(...)` and
their split calls `bench_split`, see `project_rows.py`); three are written here, in the
same style, with a first-draft model configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
)
NAMES = tuple(w.name for w in WORKFLOWS)


def select(spec: str) -> list[BenchWorkflow]:
    if spec in ("", "all"):
        return list(WORKFLOWS)
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [w for w in wanted if w not in NAMES]
    if unknown:
        raise SystemExit(f"unknown workflows {unknown}; choose from {', '.join(NAMES)}")
    return [w for w in WORKFLOWS if w.name in wanted]


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
