"""Recent results kept in memory by a long-lived run worker, bounded by bytes.

User code may modify an input in place (`df["x"] = ...`), which would silently corrupt a
value shared across runs. So a hit is only served after its content digest still matches
the one recorded when it was produced; hashing runs at gigabytes per second, far cheaper
than reading the value back from disk.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ghostrun.reuse.digest import digest

HASH_SPEED = 3e9  # bytes/s, what `digest` sustains on numeric frames here


@dataclass(frozen=True)
class MemoryEntry:
    key: str
    op: str
    content_hash: str  # the result's canonical content hash (what keys its dependents)
    nbytes: int
    held_hash: str = ""  # digest of the object as held, if it differs (read back from disk)

    @property
    def check_hash(self) -> str:
        return self.held_hash or self.content_hash


class MemoryCache:
    """Responsibilities: hold values by cache key, least recently used first out, within
    a byte budget; refuse to serve a value whose content changed since it was stored."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[MemoryEntry, Any]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def lookup(self, key: str) -> MemoryEntry | None:
        item = self._items.get(key)
        return item[0] if item else None

    def get(self, key: str) -> Any:
        """The value, or KeyError when absent or modified in place since it was stored."""
        entry, value = self._items[key]
        if digest(value).hex != entry.check_hash:
            self.discard(key)
            raise KeyError(key)
        self._items.move_to_end(key)
        return value

    def put(self, entry: MemoryEntry, value: Any) -> None:
        if entry.nbytes > self.max_bytes:
            return
        self.discard(entry.key)
        self._items[entry.key] = (entry, value)
        self._bytes += entry.nbytes
        while self._bytes > self.max_bytes:
            _, (old, _) = self._items.popitem(last=False)
            self._bytes -= old.nbytes

    def discard(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item:
            self._bytes -= item[0].nbytes

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0
