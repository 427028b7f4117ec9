"""Weekly marketing spend and signups: Series feature math in Apache Hamilton style.

No ghostrun decorators: every public function is a node, and a parameter names the node
it consumes. This is the one fixture with external inputs, which a driver (or ghostrun's
loader, which reports them as missing) must be given:

- ``spend``: pd.Series, marketing spend per week (currency units, one row per week).
- ``signups``: pd.Series, new signups per week, aligned with ``spend``.

``window_weeks`` has a default, so it is optional (a knob, for ghostrun).
"""

import numpy as np
import pandas as pd


def avg_spend(spend: pd.Series, window_weeks: int = 3) -> pd.Series:
    """Rolling average spend: smooths the weekly budget pulses of campaigns."""
    return spend.rolling(window_weeks, min_periods=1).mean()


def spend_per_signup(spend: pd.Series, signups: pd.Series) -> pd.Series:
    """Cost of acquiring one signup each week (NaN in weeks without signups)."""
    return spend / signups.replace(0, np.nan)


def spend_mean(spend: pd.Series) -> float:
    return float(spend.mean())


def spend_std_dev(spend: pd.Series) -> float:
    return float(spend.std())


def spend_zero_mean(spend: pd.Series, spend_mean: float) -> pd.Series:
    return spend - spend_mean


def spend_zero_mean_unit_variance(spend_zero_mean: pd.Series, spend_std_dev: float) -> pd.Series:
    """Standardised spend, comparable across channels with different budgets."""
    return spend_zero_mean / spend_std_dev


def signups_growth(signups: pd.Series) -> pd.Series:
    """Week-over-week relative change in signups (0 for the first week)."""
    return signups.pct_change().fillna(0.0)


def marginal_cost(spend: pd.Series, signups: pd.Series) -> pd.Series:
    """Extra spend per extra signup between consecutive weeks; what the next dollar buys."""
    return spend.diff() / signups.diff().replace(0, np.nan)


def efficiency_score(spend_per_signup: pd.Series, avg_spend: pd.Series) -> float:
    """Average signups per 1,000 of smoothed spend: higher means cheaper growth."""
    per_thousand = 1_000.0 / spend_per_signup
    weights = avg_spend / avg_spend.sum()
    return float((per_thousand * weights).sum())
