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

import json
import os
import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghostrun.errors import StoreError
from ghostrun.reuse import serializers
from ghostrun.reuse._blobs import BlobCorrupt, BlobDir, BlobRecord, is_blob_id, is_temp
from ghostrun.reuse._codecs import CODECS, Unstorable, decode
from ghostrun.reuse._fs import HAS_LOCKS, atomic_write, make_private_dir, store_lock
from ghostrun.reuse.digest import Digest

__all__ = ["CorruptEntry", "Entry", "Store", "UnstorableWarning"]

_FORMAT = 1
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+=-]{0,199}")
_MANIFEST = ".json"
# Without flock, collection spares files younger than this (a save may be using them).
_UNLOCKED_GRACE_SECONDS = 3600.0


class CorruptEntry(StoreError):
    """A cache entry was unreadable or failed its checksum; it has been deleted."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"cache entry {key!r} is corrupt ({reason}); it was discarded and will be recomputed")


class UnstorableWarning(UserWarning):
    """An operator's result cannot be cached (it cannot be pickled)."""


@dataclass(frozen=True)
class Entry:
    """One cached result, as its manifest describes it (no data is read to build it)."""

    key: str
    op: str
    content_hash: str
    kind: str
    nbytes: int  # bytes of its distinct blobs on disk
    blobs: tuple[str, ...]  # in layout order; a repeated column repeats its id
    created: float
    seconds: float  # how long the operator took to compute this result
    last_used: float


class _BadManifest(Exception):
    """A manifest file exists but cannot be parsed or fails validation."""


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
        for directory in (self._entries, self._blobs.root):
            make_private_dir(directory)
        _make_owner_only(self.root)

    def lookup(self, key: str) -> Entry | None:
        """The entry for `key`, or None (a corrupt manifest is deleted). Reads no data."""
        try:
            return self._read_manifest(key)[0]
        except FileNotFoundError:
            return None
        except _BadManifest:
            self.delete(key)
            return None

    def load(self, key: str) -> object:
        """The stored value. KeyError if absent; CorruptEntry (entry deleted) if damaged."""
        try:
            entry, records = self._read_manifest(key)
        except FileNotFoundError:
            raise KeyError(key) from None
        except _BadManifest as exc:
            self.delete(key)
            raise CorruptEntry(key, str(exc)) from None
        parts = [self._load_blob(key, record) for record in records]
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
        try:
            return decode(record.codec, payload)
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
                records = [self._blobs.put(p.id, p.codec, p.encode) for p in plan.parts]
                entry = self._entry(key, op, digest, plan.kind, records, seconds)
                atomic_write(path, _manifest_bytes(entry, records))
        except Unstorable as exc:
            self._warn_unstorable(op, str(exc))
            return None
        except OSError as exc:
            raise StoreError(
                f"could not write cache entry {key!r} under {self.root}: {exc}; "
                "free disk space or check the directory's permissions"
            ) from exc
        return entry

    def _entry(
        self, key: str, op: str, digest: Digest, kind: str, records: list[BlobRecord], seconds: float
    ) -> Entry:
        sizes = {record.id: record.size for record in records}
        now = time.time()
        return Entry(
            key=key,
            op=op,
            content_hash=digest.hex,
            kind=kind,
            nbytes=sum(sizes.values()),
            blobs=tuple(record.id for record in records),
            created=now,
            seconds=float(seconds),
            last_used=now,
        )

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
                unused = is_temp(item.name) or (
                    is_blob_id(item.name) and item.name not in referenced
                )
                stat = item.stat()
                if unused and stat.st_mtime <= cutoff:
                    os.unlink(item.path)
                    freed += stat.st_size
            return freed

    def _manifest_path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(
                f"cache key {key!r} is not usable as a file name; use 1-200 letters, digits "
                "and ._@+=- starting with a letter or digit"
            )
        return self._entries / f"{key}{_MANIFEST}"

    def _read_manifest(self, key: str) -> tuple[Entry, list[BlobRecord]]:
        path = self._manifest_path(key)
        with open(path, "rb") as stream:
            data = stream.read()
            last_used = os.fstat(stream.fileno()).st_mtime
        try:
            return _parse_manifest(key, json.loads(data), last_used)
        except (ValueError, KeyError, TypeError) as exc:
            raise _BadManifest(f"unreadable manifest: {exc}") from exc


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


def _manifest_bytes(entry: Entry, records: list[BlobRecord]) -> bytes:
    manifest = {
        "format": _FORMAT,
        "key": entry.key,
        "op": entry.op,
        "content_hash": entry.content_hash,
        "kind": entry.kind,
        "created": entry.created,
        "seconds": entry.seconds,
        "blobs": [[r.id, r.codec, r.checksum, r.size] for r in records],
    }
    return json.dumps(manifest, separators=(",", ":")).encode()


def _parse_manifest(key: str, data: Any, last_used: float) -> tuple[Entry, list[BlobRecord]]:
    """Validate a decoded manifest; ValueError/KeyError/TypeError on anything unexpected."""
    if data["format"] != _FORMAT or data["key"] != key:
        raise ValueError("wrong format version or key")
    if data["kind"] not in serializers.KINDS:
        raise ValueError(f"unknown kind {data['kind']!r}")
    records = [BlobRecord(str(i), str(c), str(s), int(n)) for i, c, s, n in data["blobs"]]
    for record in records:
        if not is_blob_id(record.id) or record.codec not in CODECS:
            raise ValueError(f"bad blob reference {record.id!r}")
    sizes = {record.id: record.size for record in records}
    entry = Entry(
        key=key,
        op=str(data["op"]),
        content_hash=str(data["content_hash"]),
        kind=data["kind"],
        nbytes=sum(sizes.values()),
        blobs=tuple(record.id for record in records),
        created=float(data["created"]),
        seconds=float(data["seconds"]),
        last_used=last_used,
    )
    return entry, records
