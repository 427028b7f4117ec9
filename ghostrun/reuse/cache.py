"""The result cache an engine run talks to: memory in front of the on-disk store.

A run asks one object for results. Values it computes go to memory (when a memory tier
exists) and to disk when the materialisation policy says they are worth keeping; lookups
try memory first, then disk, and a value read from disk is kept in memory for next time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ghostrun.reuse.digest import Digest, digest
from ghostrun.reuse.memory import HASH_SPEED, MemoryCache, MemoryEntry
from ghostrun.reuse.store import Entry, Store


@dataclass(frozen=True)
class KnownContent:
    """A result computed before but not kept: its content hash keys its dependents, but
    it cannot be loaded."""

    key: str
    content_hash: str
    nbytes: int
    loadable: bool = False


KnownOutputs = Callable[[str], "tuple[str, int] | None"]


class ResultCache:
    def __init__(
        self, disk: Store, memory: MemoryCache | None = None, known: KnownOutputs | None = None
    ):
        self.disk = disk
        self.memory = memory
        self.known = known

    def lookup(self, key: str) -> Entry | MemoryEntry | KnownContent | None:
        """A loadable entry (memory, then disk), else what is known of an unkept result."""
        if self.memory is not None:
            hot = self.memory.lookup(key)
            if hot is not None:
                return hot
        entry = self.disk.lookup(key)
        if entry is None and self.known is not None:
            found = self.known(key)
            if found is not None:
                return KnownContent(key, found[0], found[1])
        return entry

    def is_hot(self, key: str) -> bool:
        return self.memory is not None and self.memory.lookup(key) is not None

    def load_seconds(self, key: str, nbytes: int) -> float | None:
        """The cost of serving a memory hit (a digest check); None when not in memory."""
        return nbytes / HASH_SPEED if self.is_hot(key) else None

    def load(self, key: str) -> Any:
        if self.memory is not None:
            try:
                return self.memory.get(key)
            except KeyError:
                pass
        value = self.disk.load(key)
        entry = self.disk.lookup(key)
        if self.memory is not None and entry is not None:
            held = digest(value).hex
            hot = MemoryEntry(key, entry.op, entry.content_hash, entry.nbytes, held_hash=held)
            self.memory.put(hot, value)
        return value

    def save(
        self, key: str, value: Any, digest: Digest, *, op: str, seconds: float, persist: bool = True
    ) -> Entry | None:
        if self.memory is not None:
            self.memory.put(MemoryEntry(key, op, digest.hex, digest.nbytes), value)
        if not persist:
            return None
        return self.disk.save(key, value, digest, op=op, seconds=seconds)
