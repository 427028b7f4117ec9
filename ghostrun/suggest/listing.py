"""The suggestions a user last saw, so `ghostrun apply 2` means the second one *shown*.

The ranking can change between `suggest` and `apply` (exploration goes on in the
background); the list shown is kept in `.ghostrun/suggestions.json` and `apply` resolves a
rank against it, or a suggestion id against it and then against a fresh ranking.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ghostrun.errors import GhostrunError
from ghostrun.history import History
from ghostrun.project import Project

SHOWN_FILE = "suggestions.json"


class NoSuchSuggestion(GhostrunError):
    """The id or rank names no suggestion."""


def ranked(project: Project, n: int) -> list[dict[str, Any]]:
    """The ranking from the history alone (no daemon needed), as `suggest --json` entries."""
    from ghostrun.suggest.rank import suggestions

    with History(project.history_path) as history:
        return [s.to_json() for s in suggestions(history, None, n)]


def save_shown(project: Project, shown: list[dict[str, Any]]) -> None:
    path = project.ensure_state_dir() / SHOWN_FILE
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".suggestions-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"suggestions": shown}, f)
    os.replace(tmp, path)


def load_shown(project: Project) -> list[dict[str, Any]]:
    try:
        data = json.loads((project.state_dir / SHOWN_FILE).read_text(encoding="utf-8"))
        return list(data["suggestions"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def resolve(project: Project, ident: str) -> dict[str, Any]:
    """The suggestion `ident` names: a rank of the list last shown, or an id (prefix)."""
    shown = load_shown(project)
    if ident.isdigit():
        rank = int(ident)
        found = next((s for s in shown if s.get("rank") == rank), None)
        if found is None and not shown:
            found = next((s for s in ranked(project, rank) if s["rank"] == rank), None)
        if found is None:
            raise NoSuchSuggestion(f"there is no suggestion {rank}; `ghostrun suggest` lists them.")
        return found
    for candidates in (shown, ranked(project, 1000)):
        matches = [s for s in candidates if str(s.get("id", "")).startswith(ident)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise NoSuchSuggestion(f"{ident!r} matches {len(matches)} suggestions; give more "
                                   "of the id.")
    raise NoSuchSuggestion(f"no suggestion has the id {ident!r}; `ghostrun suggest` lists them.")


def shown_path(project: Project) -> Path:
    return project.state_dir / SHOWN_FILE
