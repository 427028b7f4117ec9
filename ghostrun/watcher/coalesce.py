"""Turning an editor's burst of file events into one change."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class Coalescer:
    """Collects changed paths until the burst is over.

    A burst is over `quiet` seconds after its last addition, or `max_delay` seconds after its
    first, whichever comes first: the quiet window absorbs an atomic save or vim's
    backup-and-rewrite, and the cap keeps a continuous stream of writes reporting. Times are
    passed in (monotonic seconds) so the caller owns the clock.
    """

    def __init__(self, quiet: float, max_delay: float) -> None:
        if quiet < 0 or max_delay < quiet:
            raise ValueError(
                f"need 0 <= quiet <= max_delay, got quiet={quiet} and max_delay={max_delay}"
            )
        self.quiet = quiet
        self.max_delay = max_delay
        self._paths: set[Path] = set()
        self._first = 0.0
        self._last = 0.0

    def add(self, paths: Iterable[Path], now: float) -> None:
        """Record changed paths; an empty iterable does not extend the burst."""
        new = set(paths)
        if not new:
            return
        if not self._paths:
            self._first = now
        self._paths |= new
        self._last = now

    def deadline(self) -> float | None:
        """When the pending burst is due, or None when nothing is pending."""
        if not self._paths:
            return None
        return min(self._last + self.quiet, self._first + self.max_delay)

    def take(self, now: float) -> frozenset[Path]:
        """The pending burst if it is due (and forget it), else an empty set."""
        due = self.deadline()
        if due is None or now < due:
            return frozenset()
        paths = frozenset(self._paths)
        self._paths.clear()
        return paths
