"""Time `sample` on a 1M-row, 20-column frame (a measurement, not a test).

Run: python -m tests.approx.measure_speed
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from ghostrun.approx import SampleSpec, sample

ROWS, COLUMNS = 1_000_000, 20


def wide_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    data = pd.DataFrame({f"f{i}": rng.normal(size=ROWS) for i in range(COLUMNS - 3)})
    data["cat"] = pd.Categorical(rng.choice(["a", "b", "c"], ROWS))
    data["customer_id"] = rng.integers(0, 100_000, ROWS)
    data["customer_name"] = pd.array([f"c{i}" for i in rng.integers(0, ROWS, ROWS)], dtype="str")
    return data


def best_of(fn: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    data = wide_frame()
    by_label = data.set_axis(pd.Index([f"row{i}" for i in range(ROWS)]))
    cases = {
        "RangeIndex": (data, None),
        "string index labels": (by_label, None),
        "sample_by int key (100k keys)": (data, "customer_id"),
        "sample_by str key (~630k distinct)": (data, "customer_name"),
        "tuple (X, y ndarray)": ((data, data["f0"].to_numpy()), None),
    }
    print(f"{ROWS:,} rows x {COLUMNS} columns; best of 5")
    for name, (value, by) in cases.items():
        for fraction in (0.01, 0.1, 0.5):
            spec = SampleSpec(fraction, sample_by=by)
            seconds = best_of(lambda value=value, spec=spec: sample(value, spec))
            print(f"  {name:36s} fraction {fraction:<5} {seconds * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
