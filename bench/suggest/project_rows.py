"""Rows the explorer sees, and rows it never sees. Copied into each bench project as
`benchrows.py` and imported by its workflow.

A quarter of the data set's rows (a fixed random subset) is held out. Normally the
workflow gets the other rows only (`dev_rows`), and `bench_split` is plain
`train_test_split`: that is all exploration and Optuna ever measure. With the environment
variable GHOSTRUN_BENCH_HOLDOUT=1 (the bench's final check, run as plain Python) the
workflow gets every row, flagged, and `bench_split` trains on all development rows and
tests on the held-out ones.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

HOLDOUT_SHARE = 0.25
HOLDOUT_SEED = 20240611
FLAG = "_holdout"


def holding_out() -> bool:
    return os.environ.get("GHOSTRUN_BENCH_HOLDOUT") == "1"


def dev_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The development rows; with the hold-out switch on, every row, flagged."""
    rng = np.random.default_rng(HOLDOUT_SEED)
    held = rng.random(len(frame)) < HOLDOUT_SHARE
    if holding_out():
        return frame.assign(**{FLAG: held})
    return frame.loc[~held].reset_index(drop=True)


def bench_split(X, y, **kwargs):
    """`train_test_split(X, y, **kwargs)`; with the hold-out switch on, (development rows,
    held-out rows) instead."""
    if FLAG not in X.columns:
        return train_test_split(X, y, **kwargs)
    held = X[FLAG].to_numpy(dtype=bool)
    X = X.drop(columns=[FLAG])
    return X[~held], X[held], y[~held], y[held]
