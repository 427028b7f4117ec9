"""Lower-precision source outputs for approximate runs (float64 → float32).

Halving float width pays for linear models and memory, not for tree boosters that bin
their inputs anyway, so the ladder uses it only where it measures faster.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd


def downcast(value: Any) -> Any:
    """The same structure with every float64 column or array as float32."""
    if isinstance(value, pd.DataFrame):
        wide = [c for c, dtype in value.dtypes.items() if dtype == np.float64]
        return value.astype(dict.fromkeys(wide, np.float32)) if wide else value
    if isinstance(value, pd.Series):
        return value.astype(np.float32) if value.dtype == np.float64 else value
    if isinstance(value, np.ndarray):
        return value.astype(np.float32) if value.dtype == np.float64 else value
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(downcast(v) for v in value))
    if isinstance(value, tuple | list):
        return type(value)(downcast(v) for v in value)
    if isinstance(value, dict):
        return {k: downcast(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: downcast(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value
