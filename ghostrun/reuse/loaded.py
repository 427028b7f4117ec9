"""Type checks against numpy and pandas that never import them.

A value can only be a numpy array or a pandas DataFrame once numpy or pandas has been
imported, so a check against a library that is not in `sys.modules` is simply false. Code on
the path of every run checks types this way, so that a run which only loads cached plain
values (the metrics, after a comment-only edit) never imports pandas, pyarrow or numpy
(half a second or more, against a run that takes a few milliseconds).
"""

from __future__ import annotations

import sys
from operator import attrgetter

__all__ = ["loaded_types"]


def loaded_types(module: str, *names: str) -> tuple[type, ...]:
    """The classes `module.name` for each (possibly dotted) name, or () when `module` is
    not imported: `isinstance(x, loaded_types("numpy", "ndarray"))` imports nothing."""
    found = sys.modules.get(module)
    if found is None:
        return ()
    return tuple(attrgetter(name)(found) for name in names)
