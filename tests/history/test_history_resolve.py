"""Every form of version reference, and the errors for unknown and ambiguous ones."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ghostrun.errors import HistoryError
from ghostrun.history import History
from ghostrun.workflow.types import FULL

from .builders import make_snapshot

A1 = "aaaa1111" + "0" * 56
A2 = "aaaa2222" + "0" * 56
B = "bbbb3333" + "0" * 56
C = "cccc4444" + "0" * 56


@pytest.fixture
def populated(history: History) -> History:
    """Runs: @1 user A1, @2 user B, @3 explore C, @4 user A1 (again), @5 user A2."""
    for version in (A1, A2, B, C):
        history.save_version(make_snapshot(version), workflow_path="w.py")
    for version, kind in [(A1, "user"), (B, "user"), (C, "explore"), (A1, "user"), (A2, "user")]:
        history.start_run(version, kind=kind, fidelity=FULL, parent_id=None)
    return history


@dataclass(frozen=True)
class Case:
    ref: str
    expected: str


CASES = [
    Case(B, B),
    Case("bbbb", B),
    Case("cccc44", C),
    Case("  bbbb3333 ", B),
    Case("HEAD", A2),
    Case("head", A2),
    Case("latest", A2),
    Case("HEAD~1", A1),
    Case("HEAD~", A1),
    Case("HEAD~2", B),  # A1's older run (@1) does not count twice
    Case("HEAD~0", A2),
    Case("@3", C),
    Case("@1", A1),
    Case("@5", A2),
]


@pytest.mark.parametrize("case", CASES, ids=[c.ref.strip()[:12] for c in CASES])
def test_resolves(populated: History, case: Case) -> None:
    assert populated.resolve_version(case.ref) == case.expected


ERRORS = [
    Case("aaaa", f"ambiguous: it matches .*{A1[:8]}.*; give more characters"),
    Case("aaaa", f"ambiguous: it matches .*{A2[:8]}"),
    Case("dddd", "no version matches 'dddd'"),
    Case("bbb", "at least 4 characters"),
    Case("HEAD~3", "goes back 3 versions, but only 3 have been run; use at most HEAD~2"),
    Case("@99", "there is no run @99"),
    Case("@x", "no version is called '@x'"),
    Case("   ", "empty version reference"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[f"{c.ref.strip()}-{i}" for i, c in enumerate(ERRORS)])
def test_refuses(populated: History, case: Case) -> None:
    with pytest.raises(HistoryError, match=case.expected):
        populated.resolve_version(case.ref)


def test_ambiguous_lists_at_most_ten_candidates(history: History) -> None:
    for i in range(12):
        history.save_version(make_snapshot(f"ffff{i:02d}"), workflow_path="w.py")
    with pytest.raises(HistoryError) as caught:
        history.resolve_version("ffff")
    assert str(caught.value).count("ffff") == 11  # the prefix itself plus ten candidates
    assert ", ...;" in str(caught.value)


def test_head_before_any_user_run(history: History) -> None:
    history.save_version(make_snapshot(C), workflow_path="w.py")
    history.start_run(C, kind="explore", fidelity=FULL, parent_id=None)
    with pytest.raises(HistoryError, match="nothing has been run yet"):
        history.resolve_version("HEAD")
