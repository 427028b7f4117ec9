"""The benchmark's table: the demo's census generator plus three messier columns.

`make_census` (ghostrun.demo.data) gives 23 columns: an id key, skewed numbers with
missing values, categoricals (one of ~900 cities), a free-text job title and ISO date
strings. The replay bench adds what makes preprocessing cost what it costs in real work:

- `last_active`: US-style timestamps ("03/15/2024 14:22") that need a format to parse;
- `referral_note`: free text from a sign-up form, with a channel, a household size and
  sometimes a promo code buried in it (regex territory), often empty;
- `device`: one more low-cardinality categorical.

The CSV is written once per (rows, seed) and reused across bench runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ghostrun.demo.data import LABEL, make_census

__all__ = ["GENERATOR_VERSION", "census_csv", "make_table"]

GENERATOR_VERSION = 1  # bump when the table changes, so cached CSVs are not reused

_CHANNELS = ("email", "web", "phone", "store", "partner app")
_SOURCES = ("a friend", "a podcast ad", "a coworker", "search", "a flyer", "social media")
_DEVICES = ("ios", "android", "web", "desktop-app")


def _last_active(rng: np.random.Generator, label: np.ndarray) -> np.ndarray:
    """Timestamps in 2024 as 'MM/DD/YYYY HH:MM'; the affluent were seen a little later."""
    n = len(label)
    start = np.datetime64("2024-01-01T00:00")
    minutes = (rng.beta(2.0 + 0.6 * label, 1.6, n) * 366 * 24 * 60).astype(np.int64)
    stamps = pd.Series(start + minutes.astype("timedelta64[m]"))
    text = stamps.dt.strftime("%m/%d/%Y %H:%M").to_numpy(dtype=object)
    text[rng.random(n) < 0.03] = None
    return text


def _referral_notes(rng: np.random.Generator, label: np.ndarray) -> np.ndarray:
    """Free-text notes such as 'Signed up via Email after a podcast ad; household of 3;
    promo SAVE20'. Promo codes and larger households lean slightly towards the label."""
    n = len(label)
    channel = np.array(_CHANNELS, dtype=object)[rng.integers(0, len(_CHANNELS), n)]
    source = np.array(_SOURCES, dtype=object)[rng.integers(0, len(_SOURCES), n)]
    household = rng.poisson(2.2 + 0.5 * label) + 1
    promo_rate = 0.12 + 0.10 * label
    promo = np.where(rng.random(n) < promo_rate,
                     "; promo " + pd.Series(rng.integers(5, 60, n) * 5).astype(str)
                     .radd("SAVE").to_numpy(dtype=object), "")
    lead = np.where(rng.random(n) < 0.5, "Signed up via ", "came in through ")
    notes = (pd.Series(lead + channel) + " after " + source + "; household of "
             + pd.Series(household).astype(str) + pd.Series(promo))
    casing = rng.random(n)
    notes = notes.where(casing > 0.1, notes.str.upper())
    out = notes.to_numpy(dtype=object)
    out[rng.random(n) < 0.25] = None
    return out


def make_table(n_rows: int, seed: int) -> pd.DataFrame:
    """Census table (23 columns) plus `last_active`, `referral_note`, `device`: 26 in all."""
    base = make_census(n_rows, seed)
    rng = np.random.default_rng([seed, 77])
    label = base[LABEL].to_numpy()
    device_p = np.where(label[:, None] == 1, [0.40, 0.20, 0.25, 0.15], [0.25, 0.40, 0.25, 0.10])
    device_idx = (rng.random(n_rows)[:, None] > np.cumsum(device_p, axis=1)).sum(axis=1)
    extra = pd.DataFrame({
        "last_active": _last_active(rng, label),
        "referral_note": _referral_notes(rng, label),
        "device": np.array(_DEVICES, dtype=object)[device_idx],
    })
    out = pd.concat([base.drop(columns=[LABEL]), extra, base[[LABEL]]], axis=1)
    return out


def census_csv(data_dir: Path, n_rows: int, seed: int, log=print) -> Path:
    """Path of the cached CSV for (rows, seed), generating it on first use (atomic write)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"census-v{GENERATOR_VERSION}-r{n_rows}-s{seed}.csv"
    if path.exists():
        return path
    log(f"generating {n_rows:,} rows (seed {seed}) into {path} ...")
    tmp = path.with_name(f".{path.name}.tmp")
    make_table(n_rows, seed).to_csv(tmp, index=False)
    tmp.replace(path)
    return path
