"""The one error of the cluster back end: the cluster cannot do what a trial needs."""

from __future__ import annotations

from ghostrun.errors import GhostrunError

__all__ = ["ClusterError"]


class ClusterError(GhostrunError):
    """The Dask cluster cannot be reached or used (no ghostrun on its workers, data it
    cannot see and is too big to send); the message says what to change."""
