"""File watching for the daemon (DESIGN §5): which saved files matter, once per save."""

from ghostrun.watcher.coalesce import Coalescer
from ghostrun.watcher.ignore import IgnoreRules
from ghostrun.watcher.watcher import OnChange, ProjectWatcher
from ghostrun.watcher.watchset import WatchSet

__all__ = ["Coalescer", "IgnoreRules", "OnChange", "ProjectWatcher", "WatchSet"]
