"""A project: its root, its settings, and the layout of its private state directory.

Everything ghostrun keeps for a project lives in `<root>/.ghostrun/` (DESIGN §1, §5):

    .ghostrun/            mode 0700: only the owner gets in (DESIGN §10)
        history.sqlite    runs, versions, metrics (SQLite, WAL)
        cache/            stored intermediates, mode 0700; pickles load only from here
        daemon.log        the daemon's log
        daemon.pid        the one-daemon-per-project lock
        daemon.json       the daemon's endpoints, written once it is ready
        .gitignore        "*", so the state is never committed by accident

Every module asks a `Project` for these paths instead of joining them itself, so the layout
is written down once.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from ghostrun.config import (
    CONFIG_FILE,
    Settings,
    config_file,
    display_path,
    find_project_root,
    load_settings,
)
from ghostrun.errors import ConfigError

__all__ = ["STATE_DIR", "Project"]

STATE_DIR = ".ghostrun"
_PRIVATE_DIR_MODE = 0o700


@dataclass(frozen=True)
class Project:
    """One project's root and settings; knows where its state lives.

    `config_path` is the file the settings came from (None when there is none), so errors
    can point at the right one.
    """

    root: Path
    settings: Settings = field(default_factory=Settings)
    config_path: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).absolute())

    @classmethod
    def open(
        cls,
        start: Path | None = None,
        overrides: Mapping[str, object] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Project:
        """The project containing `start` (default: the working directory), with its
        settings resolved from `overrides` (flags), `environ` (default `os.environ`), and
        its config file."""
        root = find_project_root(Path.cwd() if start is None else start)
        return cls(root, load_settings(root, overrides, environ), config_file(root))

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def history_path(self) -> Path:
        return self.state_dir / "history.sqlite"

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "daemon.log"

    @property
    def pid_path(self) -> Path:
        return self.state_dir / "daemon.pid"

    @property
    def daemon_json(self) -> Path:
        return self.state_dir / "daemon.json"

    @property
    def workflow_path(self) -> Path:
        """The workflow module, absolute and with symlinks resolved."""
        return (self.root / self.settings.workflow).resolve()

    def ensure_state_dir(self) -> Path:
        """Creates `.ghostrun/` and its `cache/` owner-only (0700) whatever the umask, and
        tightens them if they exist looser; returns the state directory."""
        _private_dir(self.state_dir)
        _private_dir(self.cache_dir)
        ignore = self.state_dir / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Created by ghostrun: its state is local to this machine.\n*\n")
        return self.state_dir

    def require_workflow(self) -> Path:
        """The workflow module's path; ConfigError saying how to get one when it is missing."""
        path = self.workflow_path
        if path.is_file():
            return path
        where = CONFIG_FILE if self._uses_ghostrun_toml else "[tool.ghostrun]"
        raise ConfigError(
            f"No workflow at {self._shown_workflow()}. Create one (`ghostrun init --example`) "
            f"or set `workflow = ...` in {where}."
        )

    @property
    def _uses_ghostrun_toml(self) -> bool:
        return self.config_path is not None and self.config_path.name == CONFIG_FILE

    def _shown_workflow(self) -> str:
        """`./pipeline.py` when the working directory is the root, else a path that works
        from where the user is."""
        path = self.root / self.settings.workflow
        shown = display_path(path)
        if PurePath(shown).is_absolute() or shown.startswith(".."):
            return shown
        return f"./{shown}"


def _private_dir(path: Path) -> None:
    """Makes `path` a directory only its owner can enter.

    mkdir's mode is filtered by the umask (which can only remove bits), so the mode is set
    explicitly afterwards; an existing directory with looser bits is tightened. A directory
    owned by someone else is refused: we would be keeping pickles where they can write.
    """
    try:
        path.mkdir(mode=_PRIVATE_DIR_MODE, exist_ok=True)
    except FileExistsError:
        pass  # something that is not a directory: reported just below
    except OSError as exc:
        raise ConfigError(f"Cannot create {display_path(path)}: {exc.strerror}; "
                          "check the project directory's permissions.") from None
    if not path.is_dir():
        raise ConfigError(f"{display_path(path)} exists but is not a directory; move it away "
                          "so ghostrun can keep its state there.")
    info = path.stat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise ConfigError(f"{display_path(path)} belongs to another user; remove it so "
                          "ghostrun can create its own private copy.")
    if stat.S_IMODE(info.st_mode) != _PRIVATE_DIR_MODE:
        os.chmod(path, _PRIVATE_DIR_MODE)
