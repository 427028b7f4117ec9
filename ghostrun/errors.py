"""Every error ghostrun raises on purpose derives from `GhostrunError`.

Each message is one sentence that names where the problem is and how to fix it; the CLI
prints it as is and exits with the error's `exit_code` (2 for bad usage, configuration or
workflow definition, 1 for a failure inside the user's workflow code).
"""

from __future__ import annotations


class GhostrunError(Exception):
    """Base of all deliberate ghostrun errors."""

    exit_code = 2


class ConfigError(GhostrunError):
    """The configuration (`[tool.ghostrun]`, `ghostrun.toml`, flags) is unusable."""


class WorkflowError(GhostrunError):
    """The workflow module cannot be turned into a valid graph."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        self.file = file
        self.line = line
        self.message = message
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


class UserCodeError(GhostrunError):
    """An operator raised (or returned something unusable) while running."""

    exit_code = 1

    def __init__(self, op: str, message: str, traceback_text: str = ""):
        self.op = op
        self.message = message
        self.traceback_text = traceback_text
        super().__init__(f"operator '{op}' failed: {message}")


class MetricValueError(UserCodeError):
    """A metric returned something that is not a number or a dict of numbers."""


class RunCancelled(GhostrunError):
    """A newer save superseded this run; raised between operators."""

    exit_code = 1


class StoreError(GhostrunError):
    """The result store could not read or write an entry."""


class HistoryError(GhostrunError):
    """The run history (`.ghostrun/history.sqlite`) cannot be opened, read or written as asked."""
