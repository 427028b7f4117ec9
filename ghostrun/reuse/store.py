"""The content-addressed result store: manifests under `entries/`, blobs under `blobs/`.

Layout of a store directory (every directory mode 0o700):

    blobs/ab/<id>        content-addressed blob files (see `_blobs`), shared between entries
    entries/<key>.json   one manifest per cached result; its mtime is the entry's last use
    .lock                shared by savers, exclusive for garbage collection

A save writes the blobs first and the manifest last, each through a temp file and a
rename, so a crash mid-save leaves no visible entry (only orphan blobs, which garbage
collection removes). Two processes saving the same key both succeed; the last manifest
wins and both are complete. A load verifies every blob against the checksum its manifest
recorded; a bad entry is deleted and reported as `CorruptEntry`, so the caller recomputes.
"""

from __future__ import annotations

import functools
import os
import re
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ghostrun.errors import StoreError
from ghostrun.reuse import serializers
from ghostrun.reuse._blobs import BlobCorrupt, BlobDir, BlobRecord, is_blob_id, is_temp
from ghostrun.reuse._codecs import ARRAY_CODECS, Unstorable, decode, import_for
from ghostrun.reuse._fs import HAS_LOCKS, atomic_write, make_private_dir, store_lock
from ghostrun.reuse._manifest import BadManifest, Entry, encode_manifest, new_entry, read_manifest
from ghostrun.reuse.digest import Digest

__all__ = ["CorruptEntry", "Entry", "Store", "UnstorableWarning"]

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+=-]{0,199}")
_MANIFEST = ".json"
WORKERS = min(4, os.cpu_count() or 1)  # threads encoding or decoding one entry's blobs
_T = TypeVar("_T")
_R = TypeVar("_R")
# Without flock, collection spares files younger than this (a save may be using them).
_UNLOCKED_GRACE_SECONDS = 3600.0


class CorruptEntry(StoreError):
    """A cache entry was unreadable or failed its checksum; it has been deleted."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(
            f"cache entry {key!r} is corrupt ({reason}); it was discarded and will be recomputed"
        )


class UnstorableWarning(UserWarning):
    """An operator's result cannot be cached (it cannot be pickled)."""


class Store:
    """Saves, finds, loads, deletes and garbage-collects cached results under one directory.

    Responsibilities: key → manifest mapping, checksum verification on load, one warning
    per operator whose results cannot be stored, and collection of unreferenced blobs.
    How values become blobs lives in `serializers`; blob files in `_blobs`.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._entries = self.root / "entries"
        self._blobs = BlobDir(self.root / "blobs")
        self._lock = self.root / ".lock"
        self._warned: set[str] = set()
        try:
            for directory in (self._entries, self._blobs.root):
                make_private_dir(directory)
            _make_owner_only(self.root)
        except OSError as exc:
            raise StoreError(f"cannot use {self.root} as a cache directory: {exc}") from exc

    def lookup(self, key: str) -> Entry | None:
        """The entry for `key`, or None (a corrupt manifest is deleted). Reads no data."""
        try:
            return self._read_manifest(key)[0]
        except FileNotFoundError:
            return None
        except BadManifest:
            self.delete(key)
            return None

    def load(self, key: str) -> object:
        """The stored value. KeyError if absent; CorruptEntry (entry deleted) if damaged."""
        try:
            entry, records = self._read_manifest(key)
        except FileNotFoundError:
            raise KeyError(key) from None
        except BadManifest as exc:
            self.delete(key)
            raise CorruptEntry(key, str(exc)) from None
        except OSError as exc:
            raise StoreError(f"could not read cache entry {key!r}: {exc}") from exc
        import_for(record.codec for record in records)
        load = functools.partial(self._load_blob, key)
        if all(record.codec in ARRAY_CODECS for record in records):
            parts = _in_parallel(load, records)
        else:  # unpickling imports the value's modules: never on several threads at once
            parts = [load(record) for record in records]
        try:
            value = serializers.assemble(entry.kind, parts)
        except (serializers.Mismatch, TypeError, ValueError) as exc:
            self.delete(key)
            raise CorruptEntry(key, f"blobs do not fit together: {exc}") from exc
        self.touch(key)
        return value

    def _load_blob(self, key: str, record: BlobRecord) -> Any:
        try:
            payload = self._blobs.read(record)
        except BlobCorrupt as exc:
            self.delete(key)
            if exc.damaged:
                self._blobs.remove(record.id)  # so the next save writes it afresh
            raise CorruptEntry(key, str(exc)) from None
        except OSError as exc:
            raise StoreError(f"could not read cache entry {key!r}: {exc}") from exc
        try:
            return decode(record.codec, payload)
        except MemoryError:
            raise
        except Exception as exc:  # a payload that passed its checksum but will not decode
            self.delete(key)
            raise CorruptEntry(key, f"blob {record.id} cannot be decoded: {exc}") from exc

    def save(
        self, key: str, value: object, digest: Digest, *, op: str, seconds: float
    ) -> Entry | None:
        """Store `value` (whose digest is `digest`) under `key`; None if it cannot be stored.

        StoreError if the disk refuses the write (full, read-only, permissions).
        """
        path = self._manifest_path(key)
        try:
            plan = serializers.plan(value, digest)
            with store_lock(self._lock, exclusive=False):
                import_for(part.codec for part in plan.parts)
                records = _in_parallel(self._put, plan.parts)
                now_ns = time.time_ns()
                now = now_ns / 1e9
                times = {"created": now, "seconds": seconds, "last_used": now}
                entry = new_entry(key, op, digest.hex, plan.kind, records, **times)
                atomic_write(path, encode_manifest(entry, records), mtime_ns=now_ns)
        except Unstorable as exc:
            self._warn_unstorable(op, str(exc))
            return None
        except OSError as exc:
            raise StoreError(
                f"could not write cache entry {key!r} under {self.root}: {exc}; "
                "free disk space or check the directory's permissions"
            ) from exc
        return entry

    def _put(self, part: serializers.Part) -> BlobRecord:
        return self._blobs.put(part.id, part.codec, part.encode)

    def _warn_unstorable(self, op: str, reason: str) -> None:
        if op in self._warned:
            return
        self._warned.add(op)
        warnings.warn(
            f"operator {op!r} returns an object that cannot be stored ({reason}); "
            "it will be recomputed each run",
            UnstorableWarning,
            stacklevel=3,
        )

    def delete(self, key: str) -> None:
        """Forget `key` (its blobs stay until garbage collection). Missing keys are fine."""
        try:
            self._manifest_path(key).unlink()
        except FileNotFoundError:
            pass

    def touch(self, key: str) -> None:
        """Record that `key` was just used (the manifest's mtime); a missing key is ignored."""
        try:
            os.utime(self._manifest_path(key))
        except FileNotFoundError:
            pass

    def entries(self) -> Iterator[Entry]:
        """Every readable entry; corrupt manifests are deleted on the way."""
        for key in self._keys():
            entry = self.lookup(key)
            if entry is not None:
                yield entry

    def _keys(self) -> list[str]:
        with os.scandir(self._entries) as found:
            names = [e.name for e in found if e.name.endswith(_MANIFEST) and e.is_file()]
        keys = [name[: -len(_MANIFEST)] for name in names]
        return [key for key in keys if _KEY.fullmatch(key)]

    def total_bytes(self) -> int:
        """Bytes of all blob files on disk (each shared blob counted once)."""
        return self._blobs.total_bytes()

    def collect_garbage(self) -> int:
        """Remove blobs no manifest references, corrupt manifests and leftover temp files;
        returns the bytes freed."""
        with store_lock(self._lock, exclusive=True):
            referenced = {blob for entry in self.entries() for blob in entry.blobs}
            cutoff = time.time() - (0.0 if HAS_LOCKS else _UNLOCKED_GRACE_SECONDS)
            freed = 0
            for item in [*self._blobs.files(), *_temp_files(self._entries)]:
                used = is_blob_id(item.name) and item.name in referenced
                if not used and (is_temp(item.name) or is_blob_id(item.name)):
                    freed += _remove_older_than(item, cutoff)
            return freed

    def _manifest_path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(
                f"cache key {key!r} is not usable as a file name; use 1-200 letters, digits "
                "and ._@+=- starting with a letter or digit"
            )
        return self._entries / f"{key}{_MANIFEST}"

    def _read_manifest(self, key: str) -> tuple[Entry, list[BlobRecord]]:
        return read_manifest(self._manifest_path(key), key, serializers.KINDS)


def _in_parallel(func: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """`[func(i) for i in items]` on a few threads: compressing, checksumming and file I/O
    release the GIL, so a frame's columns encode and decode side by side."""
    if WORKERS < 2 or len(items) < 2:
        return [func(item) for item in items]
    with ThreadPoolExecutor(min(WORKERS, len(items))) as pool:
        return list(pool.map(func, items))


def _remove_older_than(item: os.DirEntry[str], cutoff: float) -> int:
    """Delete the file if it was last modified before `cutoff`; returns the bytes freed."""
    try:
        status = item.stat()
        if status.st_mtime > cutoff:
            return 0
        os.unlink(item.path)
    except FileNotFoundError:  # a load dropped it (a damaged blob) meanwhile
        return 0
    return status.st_size


def _temp_files(directory: Path) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as found:
        return [item for item in found if is_temp(item.name) and item.is_file()]


def _make_owner_only(root: Path) -> None:
    # Pickles are loaded from here: nobody else may be able to write into it.
    if os.name != "posix":
        return
    status = root.stat()
    if status.st_uid != os.getuid():
        raise StoreError(f"{root} belongs to another user; use a cache directory you own")
    if status.st_mode & 0o077:
        os.chmod(root, 0o700)
