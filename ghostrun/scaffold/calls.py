"""What a call in the script does, judged from its name and imports alone.

`Imports` maps the script's local names to dotted origins (`pd` → `pandas`,
`LGBMClassifier` → `lightgbm.LGBMClassifier`), so `pd.read_csv(...)` reads as
`pandas.read_csv`. `CallKinds` turns a resolved call into the few kinds the plan cares
about: reading data, splitting, an estimator, a metric, output, a file write, setup.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from dataclasses import dataclass

READERS = frozenset({
    "numpy.load", "numpy.loadtxt", "numpy.genfromtxt", "numpy.fromfile", "joblib.load",
    "pickle.load", "json.load", "open", "datasets.load_dataset", "scipy.io.loadmat",
})
SPLITTERS = frozenset({"train_test_split"})
CV_METRICS = frozenset({"cross_val_score", "cross_validate"})
TRAIN_FUNCTIONS = frozenset({"train", "cv"})
# Estimator classes from these submodules prepare data rather than model it.
PREPARING = ("sklearn.preprocessing", "sklearn.impute", "sklearn.feature_extraction",
             "sklearn.feature_selection", "sklearn.decomposition", "sklearn.compose",
             "sklearn.model_selection", "sklearn.metrics", "sklearn.datasets",
             "lightgbm.Dataset", "xgboost.DMatrix")
OUTPUT_FUNCTIONS = frozenset({"print", "display", "pprint.pprint", "sys.exit", "exit",
                              "get_ipython"})
OUTPUT_PACKAGES = frozenset({"matplotlib", "seaborn", "logging", "plotly", "IPython"})
OUTPUT_METHODS = frozenset({
    "head", "tail", "info", "describe", "plot", "hist", "show", "value_counts", "nunique",
    "isna", "isnull", "corr", "summary", "print", "display", "boxplot", "scatter",
})
WRITERS = frozenset({"joblib.dump", "pickle.dump", "numpy.save", "numpy.savetxt",
                     "numpy.savez", "json.dump"})
WRITE_METHODS = frozenset({
    "to_csv", "to_parquet", "to_excel", "to_json", "to_pickle", "to_feather", "to_sql",
    "savefig", "save_model", "write_csv", "write_parquet",
})
SETUP = frozenset({
    "numpy.random.seed", "random.seed", "torch.manual_seed", "pandas.set_option",
    "tensorflow.random.set_seed", "sklearn.set_config",
})
SETUP_PACKAGES = frozenset({"warnings", "os", "sys"})


@dataclass(frozen=True)
class Imports:
    """Local name → dotted origin, from every import statement of the script."""

    origins: dict[str, str]

    @classmethod
    def of(cls, statements: Collection[ast.stmt]) -> Imports:
        origins: dict[str, str] = {}
        for stmt in statements:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        local = alias.asname or alias.name.split(".")[0]
                        origins[local] = alias.name if alias.asname else local
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    for alias in node.names:
                        origins[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        return cls(origins)

    def qualname(self, expr: ast.expr) -> str | None:
        """`pandas.read_csv` for `pd.read_csv`; a builtin's bare name; None for a method
        on one of the script's variables."""
        if isinstance(expr, ast.Name):
            return self.origins.get(expr.id, expr.id if expr.id in _BUILTINS else None)
        if isinstance(expr, ast.Attribute):
            base = self.qualname(expr.value)
            return f"{base}.{expr.attr}" if base is not None else None
        return None


_BUILTINS = frozenset({"print", "open", "exit", "display", "dict", "list", "len", "float",
                       "get_ipython"})


@dataclass(frozen=True)
class CallKinds:
    """Classifies calls; `estimator_modules` are the packages whose classes are
    estimators (the `estimator_modules` setting)."""

    imports: Imports
    estimator_modules: Collection[str]

    def kinds(self, call: ast.Call) -> set[str]:
        """Any of: read, split, estimator, preparer, fit, metric, cv_metric, output, write,
        setup."""
        name = self.imports.qualname(call.func)
        method = call.func.attr if isinstance(call.func, ast.Attribute) else None
        found = set(self._by_name(name)) if name is not None else set()
        if name is None and method is not None:
            found |= _by_method(method)
        return found

    def estimator_label(self, call: ast.Call) -> str | None:
        """`LGBMClassifier` (or `lightgbm.train`) when `call` builds an estimator whose
        literal keywords ghostrun reads as implicit knobs; None otherwise."""
        name = self.imports.qualname(call.func)
        if name is None or name.split(".")[0] not in self.estimator_modules:
            return None
        last = name.rsplit(".", 1)[-1]
        if last[:1].isupper():
            return last
        if last in TRAIN_FUNCTIONS:
            return f"{name.split('.')[0]}.{last}"
        return None

    def _by_name(self, name: str) -> Iterator[str]:
        last = name.rsplit(".", 1)[-1]
        top = name.split(".")[0]
        if name in READERS or last.startswith(("read_", "scan_")) or _sklearn_data(name):
            yield "read"
        if last in SPLITTERS:
            yield "split"
        if top in self.estimator_modules and (last[:1].isupper() or last in TRAIN_FUNCTIONS):
            yield "preparer" if name.startswith(PREPARING) else "estimator"
        if _is_metric(name):
            yield "metric"
        if last in CV_METRICS:
            yield "cv_metric"
        if name in OUTPUT_FUNCTIONS or top in OUTPUT_PACKAGES:
            yield "output"
        if name in WRITERS:
            yield "write"
        if name in SETUP or top in SETUP_PACKAGES:
            yield "setup"


def _sklearn_data(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return name.startswith("sklearn.datasets.") and last.startswith(("load_", "fetch_", "make_"))


def _is_metric(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    scalar = last.endswith(("_score", "_error", "_loss")) or last == "auc"
    return (scalar and name.startswith("sklearn.metrics.")) or last in CV_METRICS


def _by_method(method: str) -> set[str]:
    if method in ("fit", "partial_fit"):
        return {"fit"}
    if method == "score":
        return {"metric"}
    if method in WRITE_METHODS:
        return {"write"}
    if method in OUTPUT_METHODS:
        return {"output"}
    return set()


def metric_goal(name: str) -> str:
    """"min" for errors and losses, "max" otherwise (a negated sklearn scorer is a max)."""
    lowered = name.lower()
    if lowered.startswith("neg_"):
        return "max"
    words = ("error", "loss", "rmse", "mse", "mae", "mape", "deviance", "rmsle")
    return "min" if any(w in lowered for w in words) else "max"
