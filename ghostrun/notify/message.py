"""What one desktop notification says, independent of how a backend shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Urgency = Literal["low", "normal", "critical"]
URGENCIES: tuple[str, ...] = ("low", "normal", "critical")


@dataclass(frozen=True)
class Message:
    """A title, a body and an urgency: the common ground of every notification backend."""

    title: str
    body: str
    urgency: str = "normal"

    def __post_init__(self) -> None:
        if self.urgency not in URGENCIES:
            raise ValueError(
                f"Message urgency {self.urgency!r} is unknown; use one of {', '.join(URGENCIES)}."
            )

    def one_line(self) -> str:
        """Title and body on one line, for logs."""
        body = " · ".join(line for line in self.body.splitlines() if line.strip())
        return f"{self.title} — {body}" if body else self.title
