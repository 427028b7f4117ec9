"""The `Settings` dataclass: every setting declared once, as one field.

Each field's metadata carries its help text and kind (`ghostrun.config.spec`); TOML keys,
environment variables and click options are all derived from the fields, so adding a
setting means adding one field here (STYLE.md: no setting declared twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ghostrun.config.kinds import (
    COUNT,
    INPUTS,
    MODULES,
    NON_NEGATIVE,
    OPTIONAL_STR,
    SECONDS,
    SIZE,
    STR,
    choice,
)
from ghostrun.config.spec import checked, setting
from ghostrun.config.toml_text import toml_text
from ghostrun.workflow.types import Goal

__all__ = ["Settings"]

_GiB = 1024**3


@dataclass(frozen=True)
class Settings:
    """All of ghostrun's settings for one project; see the `ghostrun.config` docstring for
    sources.

    Values are checked and normalised on construction (sizes become bytes, lists tuples),
    so `Settings(storage_budget="500MB")` works and a wrong value fails here rather than
    deep inside a run.
    """

    workflow: str = setting(
        "pipeline.py", "Path of the workflow module, relative to the project root.",
        STR, pinned=True)
    metric: str | None = setting(
        None, "Name of the primary metric operator: needed for undecorated (Hamilton-style) "
        "modules, and overrides the decorators' choice.", OPTIONAL_STR, example="auc")
    goal: Goal = setting(
        "max", "Whether the primary metric is better higher (max) or lower (min).",
        choice("max", "min"))
    inputs: Mapping[str, Any] = setting(
        {}, "Values for the external inputs of Hamilton-style modules (parameters that name "
        "no operator and have no default).", INPUTS, flag="--input",
        example={"data_path": "data/train.csv"})
    storage_budget: int = setting(
        2 * _GiB, "Disk space the result cache under .ghostrun/cache may use.", SIZE)
    memory_budget: int = setting(
        1 * _GiB, "Memory the run worker may use to keep recent intermediates hot.", SIZE)
    estimator_modules: tuple[str, ...] = setting(
        ("sklearn", "xgboost", "lightgbm"), "Packages whose estimator constructors' literal "
        "keyword arguments count as implicit knobs.", MODULES)
    min_sample_rows: int = setting(
        1500, "Fewest rows an approximate run samples; smaller sources are never sampled.",
        COUNT)
    notify: str = setting(
        "auto", "Desktop notifications from the daemon: auto (desktop, else notify-send, else "
        "the log) or off.", choice("auto", "off"))
    idle_after: float = setting(
        30.0, "Seconds without a save before the daemon starts exploring variants.", SECONDS)
    run_timeout: float = setting(
        3600.0, "Seconds a single run may take before the daemon stops it and reports a hang.",
        SECONDS)
    explore_budget: float = setting(
        600.0, "Seconds of exploration the daemon spends per quiet period (variants of your "
        "current version, run in a low-priority worker).", SECONDS)
    improvement_threshold: float = setting(
        0.0, "Smallest confirmed improvement of the primary metric that earns a notification.",
        NON_NEGATIVE)
    notify_interval: float = setting(
        900.0, "Fewest seconds between two notifications about exploration findings.", SECONDS)
    worker_memory: int = setting(
        8 * _GiB, "Memory a worker process may allocate before it is stopped and replaced "
        "(user code that eats memory cannot take the machine down).", SIZE)
    cluster: str | None = setting(
        None, "Address of a Dask distributed scheduler: idle-time exploration runs its trials "
        "on the cluster's workers (pip install 'ghostrun[cluster]' here and ghostrun there); "
        "your own runs stay local.", OPTIONAL_STR, example="tcp://scheduler:8786")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = checked(f, getattr(self, f.name), f"Settings.{f.name}")
            object.__setattr__(self, f.name, value)

    def to_toml_text(self, table: str | None = "tool.ghostrun") -> str:
        """These settings as a commented config file (what `ghostrun init` writes).

        Values equal to their default are written commented out, so a better default in a
        later release still reaches the project; `workflow` is always written. Pass
        `table=None` for ghostrun.toml's top-level form.
        """
        return toml_text(((f, getattr(self, f.name)) for f in fields(self)), table)
