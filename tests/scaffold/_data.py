"""Small deterministic data files for the fixture scripts in `scripts/`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SCRIPTS = Path(__file__).resolve().parent / "scripts"


def write_churn(root: Path, rows: int = 2500) -> None:
    """`data/churn.csv`: a customer table with a binary `churn` label and some gaps."""
    rng = np.random.default_rng(0)
    tenure = rng.integers(0, 72, rows)
    contract = rng.choice(["month", "year", "two_year"], rows)
    monthly = rng.normal(70, 20, rows)
    total = monthly * tenure + rng.normal(0, 50, rows)
    total[rng.random(rows) < 0.02] = np.nan
    logit = -1 + 1.5 * (contract == "month") - 0.03 * tenure + 0.01 * (monthly - 70)
    frame = pd.DataFrame({
        "customer_id": np.arange(rows),
        "tenure": tenure,
        "contract": contract,
        "payment": rng.choice(["card", "bank", "check"], rows),
        "monthly_charges": monthly,
        "total_charges": total,
        "churn": (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int),
    })
    _write(root / "data" / "churn.csv", frame)


def write_houses(root: Path, rows: int = 2000) -> None:
    """`data/houses.csv` (prices) and `data/districts.csv` (a lookup joined on district)."""
    rng = np.random.default_rng(1)
    names = [f"d{i}" for i in range(12)]
    income = dict(zip(names, rng.normal(50, 10, len(names)), strict=True))
    district = rng.choice(names, rows)
    area = rng.gamma(4, 25, rows)
    rooms = rng.integers(1, 7, rows)
    age = rng.integers(0, 80, rows).astype(float)
    age[rng.random(rows) < 0.05] = np.nan
    price = (1000 * area + 5000 * rooms - 300 * np.nan_to_num(age, nan=40)
             + 2000 * np.array([income[d] for d in district]) + rng.normal(0, 20000, rows))
    houses = pd.DataFrame({"district": district, "area": area, "rooms": rooms, "age": age,
                           "price": price})
    _write(root / "data" / "houses.csv", houses)
    lookup = pd.DataFrame({"district": names, "district_income": [income[d] for d in names]})
    _write(root / "data" / "districts.csv", lookup)


def _write(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
