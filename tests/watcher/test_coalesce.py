"""Coalescer: one batch per burst, due after `quiet` or at the latest after `max_delay`."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghostrun.watcher import Coalescer

A, B = Path("/p/a.py"), Path("/p/b.py")


def test_nothing_pending_has_no_deadline() -> None:
    batch = Coalescer(0.05, 0.5)
    assert batch.deadline() is None
    assert batch.take(100.0) == frozenset()


def test_a_burst_is_due_quiet_after_its_last_event() -> None:
    batch = Coalescer(0.05, 0.5)
    batch.add([A], 10.00)
    batch.add([B], 10.03)
    assert batch.deadline() == pytest.approx(10.08)
    assert batch.take(10.07) == frozenset()
    assert batch.take(10.08) == {A, B}
    assert batch.deadline() is None


def test_a_continuous_stream_is_cut_at_max_delay() -> None:
    batch = Coalescer(0.05, 0.5)
    now = 10.0
    while now < 10.5:
        batch.add([A], now)
        assert batch.take(now) == frozenset()
        now += 0.04
    assert batch.deadline() == pytest.approx(10.5)
    assert batch.take(10.5) == {A}


def test_empty_additions_do_not_extend_a_burst() -> None:
    batch = Coalescer(0.05, 0.5)
    batch.add([A], 10.0)
    batch.add([], 10.04)
    assert batch.deadline() == pytest.approx(10.05)


def test_the_next_burst_starts_fresh() -> None:
    batch = Coalescer(0.05, 0.5)
    batch.add([A], 10.0)
    assert batch.take(10.05) == {A}
    batch.add([B], 20.0)
    assert batch.deadline() == pytest.approx(20.05)


@pytest.mark.parametrize(("quiet", "max_delay"), [(-0.1, 0.5), (0.5, 0.1)])
def test_inconsistent_settings_are_refused(quiet: float, max_delay: float) -> None:
    with pytest.raises(ValueError, match="quiet <= max_delay"):
        Coalescer(quiet, max_delay)
