"""Fixtures for the history tests: a real SQLite file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ghostrun.history import History


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / ".ghostrun" / "history.sqlite"


@pytest.fixture
def history(db_path: Path) -> Iterator[History]:
    with History(db_path) as opened:
        yield opened
