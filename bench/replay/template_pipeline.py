"""Who earns over 50k? The replay benchmark's workflow (copied to each runner's folder
as `pipeline.py`, then edited step by step by `bench.replay.edits`).

Costly preprocessing on purpose: regex parsing of two free-text columns, two date formats,
groupby aggregates per city; then a hold-out split, a gradient-boosted model, metrics.
Runs as plain Python: the decorators leave every function callable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import train_test_split

import ghostrun as gr

HERE = Path(__file__).resolve().parent
LABEL = "income_over_50k"
SEED = 7
AS_OF = pd.Timestamp("2025-01-01")  # "today", fixed so that every run sees the same dates
CATEGORICAL = ["workclass", "marital_status", "occupation", "relationship", "race", "sex",
               "native_country", "city", "device", "channel", "role"]
# words in a title that say how senior or how employed, not what the job is
QUALIFIERS = (r"\b(?:junior|jr|trainee|intern|senior|sr|lead|principal|staff|head|chief"
              r"|director|vp|part time|pt|ii|contract|remote)\b")
# seniority read off free-text job titles: first match wins, otherwise 1 (no qualifier)
SENIORITY = [
    (4, r"\b(?:head|chief|director|vp)\b"),
    (3, r"\b(?:lead|principal|staff)\b"),
    (2, r"\b(?:senior|sr)\b"),
    (0, r"\b(?:junior|jr|trainee|intern)\b"),
]


@dataclass
class Split:
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


def _title_features(titles: pd.Series) -> pd.DataFrame:
    """Seniority level and part-time flag parsed from titles like 'Sr. Accountant - PT'."""
    clean = titles.fillna("").str.lower().str.replace(r"[^a-z ]+", " ", regex=True)
    seniority = pd.Series(1, index=titles.index)
    for level, pattern in reversed(SENIORITY):
        seniority = seniority.mask(clean.str.contains(pattern), level)
    part_time = clean.str.contains(r"\bpart time\b|\bpt\b")
    return pd.DataFrame({"seniority": seniority.where(titles.notna()), "part_time": part_time})


@gr.source(sample_by="customer_id")
def raw(path: str = "data/census.csv") -> pd.DataFrame:
    """One row per customer: demographics, work, money, free text, dates, the label."""
    return pd.read_csv(HERE / path)


@gr.op
def city_profile(raw: pd.DataFrame) -> pd.DataFrame:
    """What the neighbours look like: per-city aggregates (no label in them)."""
    prof = raw.groupby("city").agg(
        city_size=("customer_id", "size"),
        city_age=("age", "mean"),
        city_hours=("hours_per_week", "mean"),
        city_edu=("education_num", "mean"),
        city_invest=("investment_income", "median"),
    )
    return prof.reset_index()


@gr.op
def occupation_profile(raw: pd.DataFrame) -> pd.DataFrame:
    """Peers with the same occupation and education: hours, gains, investment spread."""
    grouped = raw.groupby(["occupation", "education"])
    prof = grouped.agg(
        peer_count=("customer_id", "size"),
        peer_hours=("hours_per_week", "mean"),
        peer_gain=("capital_gain", "mean"),
        peer_credit=("credit_score", "median"),
    )
    prof["peer_invest_p90"] = grouped["investment_income"].quantile(0.9)
    return prof.reset_index()


@gr.op
def text_features(raw: pd.DataFrame) -> pd.DataFrame:
    """Parsed job titles and referral notes: seniority, part time, channel, household."""
    out = _title_features(raw["job_title"])
    clean = raw["job_title"].str.lower().str.replace(r"[^a-z ]+", " ", regex=True)
    out["role"] = clean.str.replace(QUALIFIERS, " ", regex=True).str.split().str.join(" ")
    note = raw["referral_note"].str.lower()
    out["channel"] = note.str.extract(r"(?:via|through) (email|web|phone|store|partner app)",
                                      expand=False)
    out["household"] = pd.to_numeric(note.str.extract(r"household of (\d+)", expand=False))
    out["note_words"] = note.str.split().str.len()
    out["customer_id"] = raw["customer_id"]
    return out


@gr.op
def date_features(raw: pd.DataFrame) -> pd.DataFrame:
    """Tenure from the ISO sign-up date, inactivity from US-style 'last active' stamps."""
    signup = pd.to_datetime(raw["signup_date"], format="%Y-%m-%d")
    active = pd.to_datetime(raw["last_active"], format="%m/%d/%Y %H:%M")
    return pd.DataFrame({
        "customer_id": raw["customer_id"],
        "tenure_years": (AS_OF - signup).dt.days / 365.25,
        "days_inactive": (AS_OF - active).dt.days,
        "active_hour": active.dt.hour,
    })


@gr.op
def features(raw: pd.DataFrame, city_profile: pd.DataFrame,
             occupation_profile: pd.DataFrame, text_features: pd.DataFrame,
             date_features: pd.DataFrame,
             min_count: int = gr.knob(50, low=1, high=2000, log=True)) -> pd.DataFrame:
    """The model's table: raw columns, parsed text and dates, city context, log money."""
    df = raw.merge(city_profile, on="city", how="left", validate="many_to_one")
    df = df.merge(occupation_profile, on=["occupation", "education"], how="left",
                  validate="many_to_one")
    df["hours_vs_peers"] = df["hours_per_week"] / df["peer_hours"]
    df["credit_rank_in_city"] = df.groupby("city")["credit_score"].rank(pct=True)
    df = df.merge(text_features, on="customer_id", validate="one_to_one")
    df = df.merge(date_features, on="customer_id", validate="one_to_one")
    for col in ["capital_gain", "capital_loss", "investment_income"]:
        df[col] = np.log1p(df[col])
    df["city"] = df["city"].where(df["city_size"] >= min_count, "other")
    for col in CATEGORICAL:
        df[col] = df[col].astype("category")
    drop = ["customer_id", "job_title", "referral_note", "signup_date", "last_active",
            "education"]
    return df.drop(columns=drop)


@gr.op
def split(features: pd.DataFrame, test_size: float = 0.25) -> Split:
    """Stratified hold-out split, fixed by SEED so every version is scored on the same rows."""
    X = features.drop(columns=[LABEL])
    y = features[LABEL]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=SEED, stratify=y
    )
    return Split(X_train, X_test, y_train, y_test)


@gr.op
def model(split: Split) -> Any:
    """Gradient-boosted trees; LightGBM reads the pandas categoricals natively."""
    clf = LGBMClassifier(
        num_leaves=31,
        min_child_samples=20,
        learning_rate=0.1,
        n_estimators=100,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        force_col_wise=True,
        random_state=SEED,
        verbose=-1,
    )
    return clf.fit(split.X_train, split.y_train)


@gr.metric(goal="max")
def auc(model: Any, split: Split) -> float:
    """Ranking quality on the hold-out rows: the primary metric."""
    return float(roc_auc_score(split.y_test, model.predict_proba(split.X_test)[:, 1]))


@gr.metric(goal="min")
def logloss(model: Any, split: Split) -> float:
    """Calibration on the hold-out rows."""
    return float(log_loss(split.y_test, model.predict_proba(split.X_test)[:, 1]))
