"""Manifests: the JSON file per cache entry naming its blobs, and the `Entry` read from it.

A manifest is written last in a save and read first in a load; it is the only thing that
makes an entry visible. Everything read from one is validated (format version, key, kind,
blob ids and codecs), since a damaged or edited manifest must never send a read outside
the blob directory or reach a decoder with the wrong codec.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghostrun.reuse._blobs import BlobRecord, is_blob_id
from ghostrun.reuse._codecs import CODECS

FORMAT = 1


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


class BadManifest(Exception):
    """A manifest file exists but cannot be parsed or fails validation."""


def new_entry(
    key: str, op: str, content_hash: str, kind: str, records: list[BlobRecord], **times: float
) -> Entry:
    """The entry describing `records`; `times` holds created, seconds and last_used."""
    sizes = {record.id: record.size for record in records}
    return Entry(
        key=key,
        op=op,
        content_hash=content_hash,
        kind=kind,
        nbytes=sum(sizes.values()),
        blobs=tuple(record.id for record in records),
        created=float(times["created"]),
        seconds=float(times["seconds"]),
        last_used=float(times["last_used"]),
    )


def encode_manifest(entry: Entry, records: list[BlobRecord]) -> bytes:
    manifest = {
        "format": FORMAT,
        "key": entry.key,
        "op": entry.op,
        "content_hash": entry.content_hash,
        "kind": entry.kind,
        "created": entry.created,
        "seconds": entry.seconds,
        "blobs": [[r.id, r.codec, r.checksum, r.size] for r in records],
    }
    return json.dumps(manifest, separators=(",", ":")).encode()


def read_manifest(path: Path, key: str, kinds: frozenset[str]) -> tuple[Entry, list[BlobRecord]]:
    """Parse and validate `path`; FileNotFoundError if absent, BadManifest if damaged.

    The file's mtime is the entry's last use (`Store.touch` moves it)."""
    with open(path, "rb") as stream:
        data = stream.read()
        last_used = os.fstat(stream.fileno()).st_mtime_ns / 1e9
    try:
        return _parse(key, json.loads(data), last_used, kinds)
    except (ValueError, KeyError, TypeError) as exc:
        raise BadManifest(f"unreadable manifest: {exc}") from exc


def _parse(
    key: str, data: Any, last_used: float, kinds: frozenset[str]
) -> tuple[Entry, list[BlobRecord]]:
    if data["format"] != FORMAT or data["key"] != key:
        raise ValueError("wrong format version or key")
    if data["kind"] not in kinds:
        raise ValueError(f"unknown kind {data['kind']!r}")
    records = [BlobRecord(str(i), str(c), str(s), int(n)) for i, c, s, n in data["blobs"]]
    for record in records:
        if not is_blob_id(record.id) or record.codec not in CODECS:
            raise ValueError(f"bad blob reference {record.id!r}")
    entry = new_entry(
        key,
        str(data["op"]),
        str(data["content_hash"]),
        data["kind"],
        records,
        created=data["created"],
        seconds=data["seconds"],
        last_used=last_used,
    )
    return entry, records
