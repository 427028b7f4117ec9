"""The `ghostrun demo` template: census + orders (joined by customer), LightGBM with 800
rounds at learning rate 0.03 — the workflow budget scaling was designed on (DESIGN §4).

Session: knobs up and down (model and preprocessing), a dropped feature that matters
(capital gains drive the label), an added one, a comment, an implicit knob (the literal
learning rate), and a swap to XGBoost on the same categorical frame.
"""

from __future__ import annotations

from pathlib import Path

from bench.approx.workflows.spec import BenchWorkflow, edit
from ghostrun.demo.data import write_demo_data

__all__ = ["WORKFLOW"]

# A frozen copy of the demo template as this session was written for (the template itself
# moves on: its edits would stop applying, and results would stop being comparable).
TEMPLATE = Path(__file__).resolve().parent / "demo_pipeline.py"

_LGBM = '''    clf = LGBMClassifier(
        num_leaves=num_leaves,
        min_child_samples=min_child_samples,
        learning_rate=0.1,
        n_estimators=800,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        reg_lambda=1.0,
        random_state=SEED,
        verbose=-1,
    )'''
_XGB = '''    clf = XGBClassifier(
        max_depth=6,
        min_child_weight=float(min_child_samples),
        learning_rate=0.05,
        n_estimators=400,
        subsample=0.8,
        colsample_bytree=0.8,
        tree_method="hist",
        enable_categorical=True,
        max_cat_to_onehot=1,
        random_state=SEED,
    )'''

EDITS = (
    edit("num-leaves-63", "model", "model: knob num_leaves 31 -> 63",
         ("num_leaves=gr.knob(31,", "num_leaves=gr.knob(63,"), touches=["model"]),
    edit("recent-days-90", "prep", "customer_orders: knob recent_days 365 -> 90",
         ("recent_days=gr.knob(365,", "recent_days=gr.knob(90,"),
         touches=["customer_orders"]),
    edit("drop-capital-gain", "prep", "features: drop capital_gain (the label leans on it)",
         ('    return df.drop(columns=["customer_id", "job_title", "signup_date", "education"])',
          '    return df.drop(columns=["customer_id", "job_title", "signup_date", "education",\n'
          '                            "capital_gain"])'),
         touches=["features"]),
    edit("min-child-5", "model", "model: knob min_child_samples 20 -> 5",
         ("min_child_samples=gr.knob(20,", "min_child_samples=gr.knob(5,"), touches=["model"]),
    edit("model-comment", "model", "model: a comment line only",
         ("    return clf.fit(split.X_train, split.y_train)",
          "    # seeded, so a rerun gives the same trees\n"
          "    return clf.fit(split.X_train, split.y_train)"),
         touches=[], comment_only=True),
    edit("learning-rate-0.1", "model", "model: literal learning_rate 0.03 -> 0.1 (800 rounds)",
         ("learning_rate=0.03,", "learning_rate=0.1,"), touches=["model"]),
    edit("min-count-500", "prep", "features: knob min_count 50 -> 500 (pool more cities)",
         ("min_count=gr.knob(50,", "min_count=gr.knob(500,"), touches=["features"]),
    edit("spend-per-order", "prep", "features: add spend per order",
         ('    df["tenure_years"] = (AS_OF - signup).dt.days / 365.25\n',
          '    df["tenure_years"] = (AS_OF - signup).dt.days / 365.25\n'
          '    df["spend_per_order"] = df["total_spend"] / df["n_orders"].clip(lower=1)\n'),
         touches=["features"]),
    edit("swap-to-xgboost", "model", "model: LightGBM -> XGBoost (hist, native categoricals)",
         ("from lightgbm import LGBMClassifier\n",
          "from lightgbm import LGBMClassifier\nfrom xgboost import XGBClassifier\n"),
         (_LGBM, _XGB), touches=["model"]),
)

KINDS = {
    "num-leaves-63": "knob up",
    "recent-days-90": "knob down",
    "drop-capital-gain": "feature drop",
    "min-child-5": "knob down",
    "model-comment": "comment",
    "learning-rate-0.1": "knob up",
    "min-count-500": "preprocessing",
    "spend-per-order": "feature add",
    "swap-to-xgboost": "estimator swap",
}


def _data(cache: Path, rows: int) -> dict[str, Path]:
    folder = cache / f"demo-r{rows}-s0"
    if not (folder / "census.csv").exists() or not (folder / "orders.csv").exists():
        write_demo_data(folder, n_rows=rows, seed=0)
    return {"data/census.csv": folder / "census.csv", "data/orders.csv": folder / "orders.csv"}


WORKFLOW = BenchWorkflow(
    name="demo",
    description="the demo template (frozen copy): census + orders, LightGBM 800 rounds (9 edits)",
    template=TEMPLATE.read_text(encoding="utf-8"),
    edits=EDITS,
    kinds=KINDS,
    data=_data,
    rows=100_000,
    quick_rows=60_000,
    quick_edits=5,
    reseed=("random_state=SEED,\n        verbose=-1",
            "random_state=SEED + {k},\n        verbose=-1"),
)
