"""Income classification on generated census data: pandas cleaning, one-hot encoding,
frequency encoding for a high-cardinality column, XGBoost.

Runs as plain Python too: `python -c "import pipeline as p; print(p.auc(...))"`, or call
the operators in order as `tests/test_examples.py` does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from xgboost import XGBClassifier

import ghostrun as gr
from ghostrun.demo.data import LABEL, make_census

PROJECT = Path(__file__).resolve().parent
N_ROWS = 100_000  # rows generated on the first run
SEED = 7
LOW_CARDINALITY = ["workclass", "marital_status", "occupation", "relationship", "race", "sex"]
TITLE_WORDS = {  # free-text title → (seniority level, pattern)
    "executive": (3, r"\b(?:head|chief|director)\b"),
    "lead": (2, r"\b(?:lead|principal|staff|senior|sr)\b"),
    "junior": (0, r"\b(?:junior|jr|trainee|intern)\b"),
}


def parse_seniority(titles: pd.Series) -> pd.Series:
    """Seniority 0-3 from a job title typed into a web form ('Sr. Welder - PT' → 2)."""
    lowered = titles.fillna("").str.lower()
    level = pd.Series(1, index=titles.index, dtype="int64")
    for value, pattern in sorted(TITLE_WORDS.values()):
        level = level.mask(lowered.str.contains(pattern), value)
    return level


@gr.source(sample_by="customer_id")
def census(path: str = "data/census.csv") -> pd.DataFrame:
    """The census table; generated on the first run so the example needs no download."""
    file = Path(path) if Path(path).is_absolute() else PROJECT / path
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        make_census(N_ROWS, seed=0).to_csv(file, index=False)
    return pd.read_csv(file)


@gr.op
def cleaned(census: pd.DataFrame, gain_cap: float = 50_000.0) -> pd.DataFrame:
    """Typed, de-noised columns: titles parsed, dates turned into tenure, caps applied."""
    df = census.copy()
    df["seniority"] = parse_seniority(df["job_title"])
    df["part_time"] = df["job_title"].str.contains(r"(?i)part.?time|\bpt\b").fillna(False)
    signup = pd.to_datetime(df["signup_date"], errors="coerce")
    df["tenure_days"] = (pd.Timestamp("2025-01-01") - signup).dt.days
    df["capital_gain"] = df["capital_gain"].clip(upper=gain_cap)  # 99999 means "unknown"
    df["investment_missing"] = df["investment_income"].isna()
    for col in LOW_CARDINALITY + ["native_country"]:
        df[col] = df[col].fillna("missing")
    return df.drop(columns=["job_title", "signup_date", "education"])


@gr.op
def encoded(cleaned: pd.DataFrame,
            max_categories: int = gr.knob(20, low=3, high=60, log=True)) -> pd.DataFrame:
    """All-numeric table for XGBoost: one-hot for small categoricals, frequency for city."""
    df = cleaned.copy()
    for col in LOW_CARDINALITY + ["native_country"]:
        top = df[col].value_counts().index[:max_categories]
        df[col] = df[col].where(df[col].isin(top), "other")
    df["city_share"] = df["city"].map(df["city"].value_counts(normalize=True))
    df["is_us"] = df.pop("native_country").eq("United-States")
    df = pd.get_dummies(df.drop(columns=["city", "customer_id"]), columns=LOW_CARDINALITY,
                        dtype=np.float32)
    return df.astype({c: np.float32 for c in df.columns if c != LABEL})


@gr.op
def split(encoded: pd.DataFrame, test_size: float = 0.2) -> dict[str, pd.DataFrame | pd.Series]:
    """Hold-out rows, stratified and seeded so that versions are compared on equal terms."""
    X_train, X_test, y_train, y_test = train_test_split(
        encoded.drop(columns=[LABEL]), encoded[LABEL],
        test_size=test_size, random_state=SEED, stratify=encoded[LABEL],
    )
    return {"X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}


@gr.op
def model(split: dict, max_depth: int = gr.knob(6, low=2, high=12)) -> XGBClassifier:
    """Histogram gradient boosting; `n_estimators` is the budget approximate runs shrink."""
    clf = XGBClassifier(
        n_estimators=300,
        learning_rate=0.08,
        max_depth=max_depth,
        subsample=0.8,
        colsample_bytree=0.8,
        min_child_weight=2.0,
        tree_method="hist",
        random_state=SEED,
    )
    return clf.fit(split["X_train"], split["y_train"])


@gr.metric(goal="max")
def auc(model: XGBClassifier, split: dict) -> float:
    return float(roc_auc_score(split["y_test"], model.predict_proba(split["X_test"])[:, 1]))


@gr.metric(goal="min")
def logloss(model: XGBClassifier, split: dict) -> float:
    return float(log_loss(split["y_test"], model.predict_proba(split["X_test"])[:, 1]))
