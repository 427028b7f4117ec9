"""A generated regression workflow: delivery minutes, HistGradientBoostingRegressor, rmse.

The one session whose primary metric is better lower (goal "min") on the ladder path, and
whose budget is scikit-learn's `max_iter`. Session: knobs up and down, a dropped feature
that carries signal, an added one, a preprocessing change (no distance clipping), a
comment, and a swap to LightGBM.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.approx.workflows.spec import BenchWorkflow, edit

__all__ = ["WORKFLOW", "make_orders"]

TEMPLATE = Path(__file__).resolve().parent / "regression_pipeline.py"
ZONES = 40

_HGB = '''    reg = HistGradientBoostingRegressor(
        max_iter=300,
        learning_rate=0.02,
        max_leaf_nodes=31,
        l2_regularization=0.0,
        max_features=0.8,
        early_stopping=False,
        random_state=SEED,
    )'''
_LGBM = '''    reg = LGBMRegressor(
        n_estimators=300,
        learning_rate=0.02,
        num_leaves=31,
        colsample_bytree=0.8,
        random_state=SEED,
        verbose=-1,
    )'''

EDITS = (
    edit("max-leaves-31", "model", "model: max_leaf_nodes 15 -> 31",
         ("max_leaf_nodes=15,", "max_leaf_nodes=31,"), touches=["model"]),
    edit("learning-rate-0.02", "model", "model: learning_rate 0.05 -> 0.02 (300 rounds)",
         ("learning_rate=0.05,", "learning_rate=0.02,"), touches=["model"]),
    edit("drop-load", "prep", "features: drop the courier's load (it carries signal)",
         ('    return df.drop(columns=["order_id", "zone"])',
          '    return df.drop(columns=["order_id", "zone", "load"])'), touches=["features"]),
    edit("model-comment", "model", "model: a comment line only",
         ("    return reg.fit(split.X_train, split.y_train)",
          "    # fixed rounds: approximate runs scale max_iter\n"
          "    return reg.fit(split.X_train, split.y_train)"), touches=[], comment_only=True),
    edit("no-clipping", "prep", "features: knob clip_quantile 0.999 -> 1.0 (no clipping)",
         ("clip_quantile: float = gr.knob(0.999,", "clip_quantile: float = gr.knob(1.0,"),
         touches=["features"]),
    edit("distance-x-rain", "prep", "features: add distance × rain",
         ('    df["rush_hour"] =', '    df["distance_rain"] = df["distance_km"] * df["rain_mm"]\n'
          '    df["rush_hour"] ='), touches=["features"]),
    edit("swap-to-lightgbm", "model", "model: HistGradientBoosting -> LightGBM (300 rounds)",
         ("from sklearn.ensemble import HistGradientBoostingRegressor\n",
          "from lightgbm import LGBMRegressor\n"
          "from sklearn.ensemble import HistGradientBoostingRegressor\n"),
         (_HGB, _LGBM), touches=["model"]),
    edit("num-leaves-7", "model", "model: num_leaves 31 -> 7",
         ("num_leaves=31,", "num_leaves=7,"), touches=["model"]),
)

KINDS = {
    "max-leaves-31": "knob up",
    "learning-rate-0.02": "knob down",
    "drop-load": "feature drop",
    "model-comment": "comment",
    "no-clipping": "preprocessing",
    "distance-x-rain": "feature add",
    "swap-to-lightgbm": "estimator swap",
    "num-leaves-7": "knob down",
}


def make_orders(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """Orders with a Friedman-style signal, a zone effect and a heavy right tail."""
    rng = np.random.default_rng([seed, 31])
    x = rng.random((n_rows, 5))
    zone = rng.integers(0, ZONES, n_rows)
    zone_effect = np.random.default_rng(4).normal(0, 3, ZONES)[zone]
    distance = rng.lognormal(1.2, 0.6, n_rows)
    hour = rng.integers(0, 24, n_rows)
    rush = ((hour >= 7) & (hour <= 9)) | ((hour >= 16) & (hour <= 18))
    rain = np.where(rng.random(n_rows) < 0.2, rng.gamma(2.0, 3.0, n_rows), 0.0)
    minutes = (12 + 10 * np.sin(np.pi * x[:, 0] * x[:, 1]) + 20 * (x[:, 2] - 0.5) ** 2
               + 10 * x[:, 3] + 5 * x[:, 4] + 3.0 * np.minimum(distance, 25)
               + 6 * rush + 0.15 * distance * rain + zone_effect
               + rng.gumbel(0, 3.0, n_rows))
    return pd.DataFrame({
        "order_id": np.arange(1, n_rows + 1), "basket": x[:, 0], "floor": x[:, 1],
        "weight": x[:, 2], "load": x[:, 3], "age_of_bike": x[:, 4],
        "noise_a": rng.random(n_rows), "noise_b": rng.normal(size=n_rows),
        "distance_km": distance, "hour": hour, "rain_mm": rain,
        "zone": np.char.add("z", zone.astype(str)), "minutes": minutes,
    })


def _data(cache: Path, rows: int) -> dict[str, Path]:
    path = cache / f"deliveries-r{rows}-s0.csv"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        make_orders(rows).to_csv(tmp, index=False)
        tmp.replace(path)
    return {"data/orders.csv": path}


WORKFLOW = BenchWorkflow(
    name="regression",
    description="generated deliveries: HistGradientBoostingRegressor, rmse (goal min; 8 edits)",
    template=TEMPLATE.read_text(encoding="utf-8"),
    edits=EDITS,
    kinds=KINDS,
    data=_data,
    rows=600_000,
    quick_rows=50_000,
    quick_edits=4,
    reseed=("        random_state=SEED,\n    )\n    return reg.fit",
            "        random_state=SEED + {k},\n    )\n    return reg.fit"),
)
