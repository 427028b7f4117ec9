"""`examples/census`: census table, one-hot and frequency encoding, XGBoost (300 rounds).

Session: knobs up and down (max_depth, max_categories, the literal learning rate, the
round count), a dropped feature (the city's frequency), an added one, a preprocessing
change that clips away the capital-gain threshold the label depends on, a comment, and a
swap to LightGBM.
"""

from __future__ import annotations

from pathlib import Path

from bench.approx.workflows.spec import BenchWorkflow, edit
from ghostrun.demo.data import make_census

__all__ = ["WORKFLOW"]

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "census" / "pipeline.py"

_XGB = '''    clf = XGBClassifier(
        n_estimators=300,
        learning_rate=0.03,
        max_depth=max_depth,
        subsample=0.8,
        colsample_bytree=0.8,
        min_child_weight=2.0,
        tree_method="hist",
        random_state=SEED,
    )'''
_LGBM = '''    clf = LGBMClassifier(
        n_estimators=300,
        learning_rate=0.03,
        num_leaves=2 ** max_depth - 1,
        max_depth=max_depth,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        random_state=SEED,
        verbose=-1,
    )'''

EDITS = (
    edit("max-depth-8", "model", "model: knob max_depth 6 -> 8",
         ("max_depth: int = gr.knob(6,", "max_depth: int = gr.knob(8,"), touches=["model"]),
    edit("max-categories-5", "prep", "encoded: knob max_categories 20 -> 5",
         ("max_categories: int = gr.knob(20,", "max_categories: int = gr.knob(5,"),
         touches=["encoded"]),
    edit("drop-city-share", "prep", "encoded: drop the city frequency feature",
         ('    df["city_share"] = df["city"].map(df["city"].value_counts(normalize=True))\n', ""),
         touches=["encoded"]),
    edit("gain-cap-5000", "prep", "cleaned: gain_cap 50,000 -> 5,000 (hides the 7k threshold)",
         ("gain_cap: float = 50_000.0", "gain_cap: float = 5_000.0"), touches=["cleaned"]),
    edit("model-comment", "model", "model: a comment line only",
         ('    return clf.fit(split["X_train"], split["y_train"])',
          '    # the hold-out rows never reach fit\n'
          '    return clf.fit(split["X_train"], split["y_train"])'),
         touches=[], comment_only=True),
    edit("learning-rate-0.03", "model", "model: literal learning_rate 0.08 -> 0.03",
         ("learning_rate=0.08,", "learning_rate=0.03,"), touches=["model"]),
    edit("gain-per-hour", "prep", "cleaned: add capital gain per weekly hour",
         ('    df["investment_missing"] = df["investment_income"].isna()\n',
          '    df["investment_missing"] = df["investment_income"].isna()\n'
          '    df["gain_per_hour"] = df["capital_gain"] / df["hours_per_week"].clip(lower=1)\n'),
         touches=["cleaned"]),
    edit("swap-to-lightgbm", "model", "model: XGBoost -> LightGBM (same depth, 300 rounds)",
         ("from xgboost import XGBClassifier\n",
          "from lightgbm import LGBMClassifier\nfrom xgboost import XGBClassifier\n"),
         (_XGB, _LGBM), touches=["model"]),
    edit("more-rounds-600", "model", "model: n_estimators 300 -> 600",
         ("n_estimators=300,", "n_estimators=600,"), touches=["model"]),
)

KINDS = {
    "max-depth-8": "knob up",
    "max-categories-5": "knob down",
    "drop-city-share": "feature drop",
    "gain-cap-5000": "preprocessing",
    "model-comment": "comment",
    "learning-rate-0.03": "knob down",
    "gain-per-hour": "feature add",
    "swap-to-lightgbm": "estimator swap",
    "more-rounds-600": "knob up",
}


def _data(cache: Path, rows: int) -> dict[str, Path]:
    path = cache / f"census-example-r{rows}-s0.csv"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        make_census(rows, seed=0).to_csv(tmp, index=False)
        tmp.replace(path)
    return {"data/census.csv": path}


WORKFLOW = BenchWorkflow(
    name="census",
    description="examples/census: one-hot + frequency encoding, XGBoost 300 rounds (9 edits)",
    template=EXAMPLE.read_text(encoding="utf-8"),
    edits=EDITS,
    kinds=KINDS,
    data=_data,
    rows=150_000,
    quick_rows=40_000,
    quick_edits=5,
    reseed=("        random_state=SEED,\n    )\n    return clf.fit",
            "        random_state=SEED + {k},\n    )\n    return clf.fit"),
)
