"""Reuse of intermediate results: content digests and the content-addressed result store.

`digest` names a value by its content; `Store` keeps values under cache keys, column by
column for DataFrames so identical columns are stored once (DESIGN §3).
"""

from ghostrun.reuse.digest import Digest, digest
from ghostrun.reuse.store import CorruptEntry, Entry, Store, UnstorableWarning

__all__ = ["CorruptEntry", "Digest", "Entry", "Store", "UnstorableWarning", "digest"]
