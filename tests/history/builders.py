"""Builders of version snapshots for the history tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ghostrun.workflow.types import OpSnapshot, VersionSnapshot


def make_op(
    name: str, *, kind: Any = "op", inputs: tuple[str, ...] = (),
    knobs: Mapping[str, Any] | None = None, source: str | None = None, line: int = 1,
) -> OpSnapshot:  # fmt: skip
    """An operator snapshot whose fields are all distinguishable from one another."""
    return OpSnapshot(
        name=name, kind=kind, inputs=inputs, code_hash=f"code-{name}", knobs=dict(knobs or {}),
        data={"data/train.csv": f"digest-{name}"} if kind == "source" else {},
        env_hash="env-1", fingerprint=f"fp-{name}-{sorted((knobs or {}).items())!r}",
        source=source if source is not None else f"def {name}():\n    return 1\n",
        file="workflow.py", line=line,
    )  # fmt: skip


def make_snapshot(
    version_id: str, *, knobs: Mapping[str, Any] | None = None, primary: str | None = "auc",
    goal: Any = "max",
) -> VersionSnapshot:  # fmt: skip
    """A three-operator workflow (load → model → auc); `knobs` go on `model`."""
    ops = [
        make_op("load", kind="source", line=3),
        make_op("model", inputs=("load",), knobs=knobs or {"n_estimators": 100}, line=10),
        make_op("auc", kind="metric", inputs=("model", "load"), line=20),
    ]
    packages = {"scikit-learn": "1.5.0", "pandas": "2.2.2"}
    ops_by_name = {op.name: op for op in ops}
    return VersionSnapshot(version_id, ops_by_name, packages, primary, goal)
