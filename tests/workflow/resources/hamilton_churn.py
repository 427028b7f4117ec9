"""Subscription churn as an Apache Hamilton dataflow (no ghostrun decorators).

Every public function is a node; `_days_between` is private and `days_since` is imported
from a project-local module, so neither is a node. Fast: builds a small frame only.
"""

import numpy as np
import pandas as pd
from hamilton_helpers import days_since

_TODAY = pd.Timestamp("2025-01-01")


def _days_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.days


def events(n_users: int = 200, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    last = _TODAY - pd.to_timedelta(rng.integers(0, 120, n_users), unit="D")
    return pd.DataFrame({"user": np.arange(n_users), "last_seen": last})


def active(events: pd.DataFrame, window_days: int = 30) -> pd.Series:
    return days_since(events["last_seen"], _TODAY) <= window_days


def tenure(events: pd.DataFrame) -> pd.Series:
    return _days_between(pd.Series(_TODAY, index=events.index), events["last_seen"])


def churn_rate(active: pd.Series) -> float:
    return float(1.0 - active.mean())
