"""Customer feature engineering on a DataFrame, Apache Hamilton style (no ghostrun).

Self-contained: `customers` generates a deterministic table, each public function derives
one column from the columns it names, and `feature_frame` assembles them. Private
`_helpers` are not nodes (Hamilton skips names starting with an underscore).
"""

import numpy as np
import pandas as pd

_SEED = 11
_N_CUSTOMERS = 5_000
_PLANS = np.array(["free", "basic", "pro", "enterprise"])


def _winsorize(values: pd.Series, upper_quantile: float) -> pd.Series:
    """Cap extreme values so a handful of whales do not dominate a feature."""
    return values.clip(upper=values.quantile(upper_quantile))


def _safe_ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator > 0)).fillna(0.0)


def customers() -> pd.DataFrame:
    """A customer table like a CRM export: ages, income with gaps, plan, activity."""
    rng = np.random.default_rng(_SEED)
    n = _N_CUSTOMERS
    income = rng.lognormal(10.8, 0.6, n)
    income[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "customer_id": np.arange(1, n + 1),
        "age": rng.integers(18, 80, n),
        "income": income,
        "plan": _PLANS[rng.choice(4, n, p=[0.5, 0.3, 0.15, 0.05])],
        "sessions_30d": rng.poisson(6, n),
        "purchases_30d": rng.poisson(1.2, n),
        "signup_date": pd.Timestamp("2020-01-01")
        + pd.to_timedelta(rng.integers(0, 1_800, n), unit="D"),
    })


def age(customers: pd.DataFrame) -> pd.Series:
    return customers["age"]


def income(customers: pd.DataFrame) -> pd.Series:
    return customers["income"]


def log_income(income: pd.Series, income_cap_quantile: float = 0.99) -> pd.Series:
    """Log of capped income; missing incomes become the median (and are flagged)."""
    capped = _winsorize(income, income_cap_quantile)
    return np.log1p(capped.fillna(capped.median()))


def income_missing(income: pd.Series) -> pd.Series:
    return income.isna().astype(int)


def age_bucket(age: pd.Series) -> pd.Series:
    """Life stage, since spending habits change in steps rather than linearly."""
    edges = [17, 25, 35, 50, 65, 120]
    return pd.cut(age, bins=edges, labels=["18-25", "26-35", "36-50", "51-65", "65+"])


def tenure_days(customers: pd.DataFrame) -> pd.Series:
    return (pd.Timestamp("2025-01-01") - customers["signup_date"]).dt.days


def conversion_rate(customers: pd.DataFrame) -> pd.Series:
    """Purchases per session over the last 30 days."""
    return _safe_ratio(customers["purchases_30d"], customers["sessions_30d"])


def is_paying(customers: pd.DataFrame) -> pd.Series:
    return (customers["plan"] != "free").astype(int)


def feature_frame(
    log_income: pd.Series,
    income_missing: pd.Series,
    age_bucket: pd.Series,
    tenure_days: pd.Series,
    conversion_rate: pd.Series,
    is_paying: pd.Series,
) -> pd.DataFrame:
    """All features side by side, one-hot encoding the age bucket."""
    frame = pd.DataFrame({
        "log_income": log_income,
        "income_missing": income_missing,
        "tenure_days": tenure_days,
        "conversion_rate": conversion_rate,
        "is_paying": is_paying,
    })
    return frame.join(pd.get_dummies(age_bucket, prefix="age", dtype=int))
