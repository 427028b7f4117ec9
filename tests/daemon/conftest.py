"""A project with a small real workflow, and a daemon running on it (stopped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.harness import DaemonHarness
from tests.engine.conftest import HELPERS, PIPELINE, write_table


@pytest.fixture
def project_root(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.ghostrun]\nworkflow = "pipeline.py"\n')
    (root / "pipeline.py").write_text(PIPELINE)
    (root / "helpers.py").write_text(HELPERS)
    write_table(root / "data" / "table.csv")
    return root


@pytest.fixture
def daemon(project_root: Path) -> Iterator[DaemonHarness]:
    """Not started: each test starts it with the settings it needs."""
    harness = DaemonHarness(project_root)
    yield harness
    if harness.pid is not None:
        try:
            harness.down()
        finally:
            harness.kill()
