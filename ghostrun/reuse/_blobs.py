"""Content-addressed blob files under `blobs/ab/<id>`, each carrying its own checksum.

A blob file is a 64-byte header (magic, xxh3_128 of the payload, payload length) followed
by the payload. The checksum is computed once, when the payload is first written, and the
manifests that reference the blob record it. A later save that finds the blob already
there (dedup) copies the checksum from the header instead of rewriting or rereading the
file; if the file had been damaged meanwhile, its bytes no longer match that checksum and
the first load says so. Blobs are never modified in place: a name, once published, keeps
its bytes until garbage collection removes it.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xxhash

from ghostrun.reuse._fs import TEMP_SUFFIX, make_private_dir, publish_once, temp_file, write_chunks

_MAGIC = b"GRBLOB01"
_HEADER = struct.Struct("<8s16sQ32x")
HEADER_SIZE = _HEADER.size
_BLOB_ID = re.compile(r"[0-9a-f]{32}")


class BlobCorrupt(Exception):
    """A blob is missing or its bytes do not match its checksum; the reason is the message."""

    def __init__(self, reason: str, *, damaged: bool) -> None:
        super().__init__(reason)
        self.damaged = damaged  # True when the file exists but its bytes are wrong


@dataclass(frozen=True)
class BlobRecord:
    """What a manifest keeps about one blob: id, codec, payload checksum, file size."""

    id: str
    codec: str
    checksum: str
    size: int


def is_blob_id(text: str) -> bool:
    return _BLOB_ID.fullmatch(text) is not None


class BlobDir:
    """Writes, verifies, lists and removes the blob files of one store."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, blob_id: str) -> Path:
        if not is_blob_id(blob_id):
            raise ValueError(f"not a blob id: {blob_id!r}")
        return self.root / blob_id[:2] / blob_id

    def put(self, blob_id: str | None, codec: str, encode: Callable[[], list[Any]]) -> BlobRecord:
        """Store a payload once. A known `blob_id` that exists is reused without encoding;
        without an id, the payload's checksum is its id."""
        if blob_id is not None and (found := self._existing(blob_id, codec)) is not None:
            return found  # dedup: an existing blob is neither encoded nor written again
        chunks = encode()
        state = xxhash.xxh3_128()
        length = 0
        for chunk in chunks:
            state.update(chunk)
            length += memoryview(chunk).nbytes
        checksum = state.hexdigest()
        if blob_id is None:
            blob_id = checksum
            if (found := self._existing(blob_id, codec)) is not None:
                return found
        header = _HEADER.pack(_MAGIC, state.digest(), length)
        record = BlobRecord(blob_id, codec, checksum, HEADER_SIZE + length)
        return self._publish(record, [header, *chunks])

    def _publish(self, record: BlobRecord, chunks: list[Any]) -> BlobRecord:
        final = self.path(record.id)
        make_private_dir(final.parent)
        fd, temp = temp_file(final.parent, record.id)
        try:
            write_chunks(fd, chunks)
            if publish_once(temp, final):
                return record
            # Another writer published first; use its blob unless it is damaged.
            found = self._existing(record.id, record.codec)
            if found is not None:
                return found
            os.replace(temp, final)
            return record
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()

    def _existing(self, blob_id: str, codec: str) -> BlobRecord | None:
        """The record of an intact-looking published blob (header only), or None."""
        path = self.path(blob_id)
        try:
            with open(path, "rb") as stream:
                size = os.fstat(stream.fileno()).st_size
                magic, checksum, length = _HEADER.unpack(stream.read(HEADER_SIZE))
            os.utime(path)  # fresh again: age-based collection must not take it now
        except (OSError, struct.error):
            return None
        if magic != _MAGIC or size != HEADER_SIZE + length:
            return None
        return BlobRecord(blob_id, codec, checksum.hex(), size)

    def read(self, record: BlobRecord) -> memoryview:
        """The verified payload of a blob (writable memory), or BlobCorrupt."""
        try:
            with open(self.path(record.id), "rb", buffering=0) as stream:
                size = os.fstat(stream.fileno()).st_size
                if size != record.size:
                    reason = f"blob {record.id} has {size} bytes, expected {record.size}"
                    raise BlobCorrupt(reason, damaged=True)
                stream.seek(HEADER_SIZE)
                payload = bytearray(size - HEADER_SIZE)
                _read_into(stream, memoryview(payload))
        except FileNotFoundError:
            raise BlobCorrupt(f"blob {record.id} is missing", damaged=False) from None
        if xxhash.xxh3_128_hexdigest(payload) != record.checksum:
            raise BlobCorrupt(f"blob {record.id} does not match its checksum", damaged=True)
        return memoryview(payload)

    def remove(self, blob_id: str) -> int:
        """Delete a blob; returns the bytes freed (0 if it was already gone)."""
        path = self.path(blob_id)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size

    def files(self) -> Iterator[os.DirEntry[str]]:
        """Every file under the blob directory, temp files included."""
        with contextlib.suppress(FileNotFoundError), os.scandir(self.root) as shards:
            for shard in shards:
                if shard.is_dir(follow_symlinks=False):
                    with os.scandir(shard.path) as entries:
                        yield from (e for e in entries if e.is_file(follow_symlinks=False))

    def total_bytes(self) -> int:
        return sum(entry.stat().st_size for entry in self.files() if is_blob_id(entry.name))


def is_temp(name: str) -> bool:
    return name.endswith(TEMP_SUFFIX)


def _read_into(stream: Any, view: memoryview) -> None:
    while view:
        count = stream.readinto(view)
        if not count:
            raise BlobCorrupt("blob ended early", damaged=True)
        view = view[count:]
