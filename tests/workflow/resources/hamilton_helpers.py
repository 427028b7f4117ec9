"""A project-local module used by `hamilton_churn`."""

import pandas as pd


def days_since(when: pd.Series, today: pd.Timestamp) -> pd.Series:
    return (today - when).dt.days
