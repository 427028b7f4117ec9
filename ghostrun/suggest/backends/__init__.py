"""Where exploration trials run: here, one at a time, or on a Dask cluster, many at once.

The search (`ghostrun.suggest.search`) chooses trials; a back end runs them. It submits a
trial and gets a handle, waits for some handles to finish, and takes each finished one's
result: the trial as recorded in the project's history (`Measured`), whichever machine ran
it. `slots()` bounds how many trials the search keeps in flight.

- `LocalBackend` (the default): one slot, and a trial runs in the search's own process
  when its result is taken, exactly as the search always ran them.
- `cluster.DaskBackend`: trials as tasks on a `dask.distributed` cluster (`settings.cluster`),
  one slot per worker process.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from ghostrun.errors import ConfigError
from ghostrun.suggest.halving import Rung
from ghostrun.suggest.trials import Measured, Trials
from ghostrun.suggest.variant import Variant

if TYPE_CHECKING:
    from ghostrun.config import Settings

__all__ = ["Backend", "LocalBackend", "TrialHandle", "open_backend"]


class TrialHandle(Protocol):
    """One submitted trial."""

    variant: Variant
    rung: Rung

    def result(self) -> Measured:
        """The recorded trial. Raises WorkflowError when the variant does not apply,
        RunCancelled when cancelled, BaseFailed when the base version fails on its own."""
        ...


class Backend(Protocol):
    """Runs trials; see the module docstring."""

    def slots(self) -> int:
        """How many trials may be in flight at once."""
        ...

    def submit(self, trials: Trials, variant: Variant, rung: Rung) -> TrialHandle:
        """Start measuring `variant` at `rung` against `trials`' base. May raise
        WorkflowError at once when the variant does not apply."""
        ...

    def wait(self, handles: Sequence[TrialHandle], timeout: float) -> list[TrialHandle]:
        """The handles among `handles` whose result is ready (maybe none after `timeout`
        seconds)."""
        ...

    def cancel(self, handles: Sequence[TrialHandle]) -> None:
        """Stop these trials now (a save preempts exploration); their results are dropped."""
        ...

    def close(self) -> None: ...


class _LocalTrial:
    """A trial that runs when its result is taken (in the caller's thread)."""

    def __init__(self, trials: Trials, variant: Variant, rung: Rung):
        self.trials = trials
        self.variant = variant
        self.rung = rung

    def result(self) -> Measured:
        return self.trials.measure(self.variant, self.rung)


class LocalBackend:
    """Trials in this process, one at a time (see the module docstring)."""

    def slots(self) -> int:
        return 1

    def submit(self, trials: Trials, variant: Variant, rung: Rung) -> TrialHandle:
        return _LocalTrial(trials, variant, rung)

    def wait(self, handles: Sequence[TrialHandle], timeout: float) -> list[TrialHandle]:
        return list(handles[:1])

    def cancel(self, handles: Sequence[TrialHandle]) -> None:
        """Nothing to do: a local run stops between operators on the search's `cancelled`."""

    def close(self) -> None:
        pass


@contextmanager
def open_backend(settings: Settings) -> Iterator[Backend]:
    """The back end the settings ask for: the Dask cluster at `settings.cluster`, else
    local; closed (the cluster's client disconnected) on leaving the block."""
    if not settings.cluster:
        yield LocalBackend()
        return
    try:
        from ghostrun.suggest.backends.cluster import DaskBackend
    except ImportError as exc:
        raise ConfigError(
            f"the `cluster` setting needs dask.distributed here ({exc}); install it with "
            "`pip install 'ghostrun[cluster]'`, or unset `cluster`."
        ) from None
    backend = DaskBackend.connect(settings.cluster)
    try:
        yield backend
    finally:
        backend.close()
