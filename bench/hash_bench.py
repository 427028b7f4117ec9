"""Hashing speed: ghostrun's `digest` against `joblib.hash` on the same DataFrame.

Run: `python bench/hash_bench.py [--rows N] [--repeat K]`. Builds a ~126 MiB mixed frame
(float64, int64, a categorical and a pandas 3 Arrow-backed string column), reports the best
of K runs of each hash, then `digest` alone on a purely numeric frame of the same size.
Prints figures only; it asserts nothing about time (machines differ).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ghostrun.reuse import digest  # noqa: E402

MIB = 2**20


def mixed_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    columns: dict[str, object] = {f"f{i}": rng.normal(size=rows) for i in range(11)}
    columns.update({f"i{i}": rng.integers(0, 1_000_000, rows) for i in range(3)})
    columns["colour"] = pd.Categorical(rng.choice(["red", "green", "blue", "cyan"], rows))
    names = np.array([f"user_{i:06d}" for i in range(50_000)], dtype=object)
    columns["user"] = pd.array(names[rng.integers(0, len(names), rows)], dtype="str")
    return pd.DataFrame(columns)


def numeric_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(16)})


def best_of(repeat: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def report(label: str, nbytes: int, seconds: float) -> None:
    print(
        f"{label:<28} {nbytes / MIB:8.1f} MiB {seconds:9.4f} s "
        f"{nbytes / seconds / 1e9:8.2f} GB/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    frame = mixed_frame(args.rows)
    nbytes = int(frame.memory_usage(deep=True).sum())
    digest(frame)  # warm up imports and caches
    ours = best_of(args.repeat, lambda: digest(frame))
    theirs = best_of(max(1, args.repeat // 2), lambda: joblib.hash(frame))
    kinds = ", ".join(f"{n} {d}" for d, n in frame.dtypes.astype(str).value_counts().items())
    print(f"mixed frame: {args.rows:,} rows x {frame.shape[1]} columns ({kinds})")
    report("ghostrun digest", nbytes, ours)
    report("joblib.hash", nbytes, theirs)
    print(f"{'speed-up':<28} {theirs / ours:8.1f}x")

    numeric = numeric_frame(args.rows)
    numeric_bytes = int(numeric.memory_usage(deep=True).sum())
    digest(numeric)
    numeric_seconds = best_of(args.repeat, lambda: digest(numeric))
    report("ghostrun digest (numeric)", numeric_bytes, numeric_seconds)


if __name__ == "__main__":
    main()
