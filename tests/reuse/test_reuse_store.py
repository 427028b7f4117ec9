"""The store's contract: dedup, checksums, atomicity, garbage collection, concurrency."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import threading
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ghostrun.errors import StoreError
from ghostrun.reuse import CorruptEntry, Entry, Store, UnstorableWarning, digest
from ghostrun.reuse._blobs import BlobDir
from ghostrun.reuse._fs import publish_once
from tests.reuse import reuse_samples


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "cache")


def save(store: Store, key: str, value: object, op: str = "op") -> Entry:
    entry = store.save(key, value, digest(value), op=op, seconds=1.25)
    assert entry is not None
    return entry


def blob_files(store: Store) -> list[Path]:
    return sorted(p for p in (store.root / "blobs").rglob("*") if p.is_file())


def blob_path(store: Store, blob_id: str) -> Path:
    return store.root / "blobs" / blob_id[:2] / blob_id


def manifest_path(store: Store, key: str) -> Path:
    return store.root / "entries" / f"{key}.json"


def frame(**columns: object) -> pd.DataFrame:
    return pd.DataFrame(columns)


SHARED = np.arange(1000.0)


def test_entry_describes_the_save(store: Store) -> None:
    value = frame(a=SHARED, b=SHARED * 2)
    entry = save(store, "k", value, op="features")
    assert entry == store.lookup("k")
    assert (entry.op, entry.kind, entry.seconds) == ("features", "dataframe", 1.25)
    assert entry.content_hash == digest(value).hex
    assert entry.blobs[1:] == digest(value).columns
    assert entry.nbytes == sum(p.stat().st_size for p in blob_files(store))
    assert entry.created <= entry.last_used
    assert [e.key for e in store.entries()] == ["k"]


def test_missing_key(store: Store) -> None:
    assert store.lookup("absent") is None
    with pytest.raises(KeyError):
        store.load("absent")


def test_shared_column_is_stored_once(store: Store) -> None:
    first = save(store, "one", frame(a=SHARED, b=SHARED + 1))
    second = save(store, "two", frame(a=SHARED, c=SHARED + 2))
    assert first.blobs[1] == second.blobs[1]
    assert len(blob_files(store)) == 5  # two frame blobs, columns a, b and c
    assert store.total_bytes() < first.nbytes + second.nbytes


def test_renamed_and_repeated_columns_reuse_the_blob(store: Store) -> None:
    original = save(store, "one", frame(a=SHARED))
    column_file = blob_path(store, original.blobs[1])
    inode = column_file.stat().st_ino
    renamed = save(store, "two", frame(z=SHARED, again=SHARED))
    assert renamed.blobs[1] == renamed.blobs[2] == original.blobs[1]
    assert column_file.stat().st_ino == inode  # not rewritten
    assert len(blob_files(store)) == 3  # two frame blobs, one column
    pd.testing.assert_frame_equal(store.load("two"), frame(z=SHARED, again=SHARED))


def test_existing_blob_is_neither_encoded_nor_rewritten(tmp_path: Path) -> None:
    blobs = BlobDir(tmp_path / "blobs")
    blob_id = "ab" * 16
    first = blobs.put(blob_id, "joblib", lambda: [b"payload"])

    def must_not_encode() -> list[bytes]:
        raise AssertionError("an existing blob was encoded again")

    assert blobs.put(blob_id, "joblib", must_not_encode) == first
    assert bytes(blobs.read(first)) == b"payload"


def test_publishing_never_overwrites_an_existing_blob(tmp_path: Path) -> None:
    # Two savers racing on one blob id: the second must keep the first one's bytes.
    final, temp = tmp_path / "blob", tmp_path / "blob.tmp"
    final.write_bytes(b"first")
    temp.write_bytes(b"second")
    assert publish_once(temp, final) is False
    assert final.read_bytes() == b"first"
    temp.unlink()
    temp.write_bytes(b"third")
    assert publish_once(temp, tmp_path / "fresh") is True
    assert (tmp_path / "fresh").read_bytes() == b"third"


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


CORRUPTIBLE = {
    "frame-column": (frame(a=SHARED, b=SHARED + 1), 1),
    "frame-layout": (frame(a=SHARED), 0),
    "array": (np.arange(100), 0),
    "object": ({"weights": list(range(100))}, 0),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIBLE))
@pytest.mark.parametrize("where", ["first-payload-byte", "last-byte"])
def test_flipped_byte_is_detected_and_entry_dropped(store: Store, name: str, where: str) -> None:
    value, part = CORRUPTIBLE[name]
    entry = save(store, "k", value)
    path = blob_path(store, entry.blobs[part])
    flip_byte(path, 64 if where == "first-payload-byte" else path.stat().st_size - 1)
    with pytest.raises(CorruptEntry, match="checksum"):
        store.load("k")
    assert store.lookup("k") is None and not path.exists()
    save(store, "k", value)  # recomputed and saved again, the damaged blob rewritten
    assert digest(store.load("k")) == digest(value)


def test_corrupt_entry_is_a_store_error(store: Store) -> None:
    entry = save(store, "k", np.arange(10))
    blob_path(store, entry.blobs[0]).unlink()
    with pytest.raises(StoreError, match="missing"):
        store.load("k")
    assert store.lookup("k") is None


def test_truncated_blob_is_detected(store: Store) -> None:
    entry = save(store, "k", frame(a=SHARED))
    path = blob_path(store, entry.blobs[1])
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CorruptEntry):
        store.load("k")
    assert store.lookup("k") is None


BAD_MANIFESTS = {
    "truncated": lambda text: text[: len(text) // 2],
    "empty": lambda text: "",
    "not-an-object": lambda text: "[1, 2]",
    "path-escape": lambda text: text.replace(json.loads(text)["blobs"][0][0], "../../etc/passwd"),
    "unknown-kind": lambda text: text.replace('"dataframe"', '"mystery"'),
    "other-key": lambda text: text.replace('"key":"k"', '"key":"x"'),
    "binary": lambda text: "\udcff\x00",
}


@pytest.mark.parametrize("damage", sorted(BAD_MANIFESTS))
def test_bad_manifest_is_treated_as_missing(store: Store, damage: str) -> None:
    save(store, "k", frame(a=SHARED))
    path = manifest_path(store, "k")
    damaged = BAD_MANIFESTS[damage](path.read_text())
    path.write_bytes(damaged.encode("utf-8", "surrogateescape"))
    assert list(store.entries()) == []
    assert store.lookup("k") is None
    assert not path.exists()


def test_bad_manifest_on_load_raises_corrupt_entry(store: Store) -> None:
    save(store, "k", frame(a=SHARED))
    manifest_path(store, "k").write_text('{"format": 1, "key": "k"')
    with pytest.raises(CorruptEntry):
        store.load("k")
    assert not manifest_path(store, "k").exists()


def test_crash_mid_save_leaves_no_entry_and_gc_cleans_up(store: Store) -> None:
    # A crash after the blobs but before the manifest, plus temp files of a torn write.
    entry = save(store, "k", frame(a=SHARED))
    manifest_path(store, "k").unlink()
    shard = blob_path(store, entry.blobs[1]).parent
    (shard / f".{entry.blobs[1]}.abc.tmp").write_bytes(b"x" * 10)
    (store.root / "entries" / ".k.json.abc.tmp").write_bytes(b"{")
    assert store.lookup("k") is None and list(store.entries()) == []
    freed = store.collect_garbage()
    assert freed == entry.nbytes + 11
    assert blob_files(store) == [] and store.total_bytes() == 0
    assert list((store.root / "entries").iterdir()) == []


def test_garbage_collection_keeps_shared_blobs(store: Store) -> None:
    first = save(store, "one", frame(a=SHARED, b=SHARED + 1))
    second = save(store, "two", frame(a=SHARED, c=SHARED + 2))
    before = store.total_bytes()
    assert store.collect_garbage() == 0
    store.delete("one")
    only_first = {first.blobs[0], first.blobs[2]}
    expected = sum(blob_path(store, b).stat().st_size for b in only_first)
    assert store.collect_garbage() == expected
    assert store.total_bytes() == before - expected == second.nbytes
    pd.testing.assert_frame_equal(store.load("two"), frame(a=SHARED, c=SHARED + 2))
    store.delete("missing-is-fine")


def test_touch_and_load_record_last_use(store: Store) -> None:
    save(store, "k", np.arange(3))
    path = manifest_path(store, "k")
    os.utime(path, (1_000_000.0, 1_000_000.0))
    assert store.lookup("k").last_used == 1_000_000.0  # type: ignore[union-attr]
    store.touch("k")
    touched = store.lookup("k").last_used  # type: ignore[union-attr]
    assert touched > 1_000_000.0
    os.utime(path, (1_000_000.0, 1_000_000.0))
    store.load("k")
    assert store.lookup("k").last_used > 1_000_000.0  # type: ignore[union-attr]
    store.touch("missing")  # no error


def test_unstorable_value_warns_once_per_op(store: Store) -> None:
    lock = threading.Lock()
    unpicklable_column = frame(a=[1, 2], f=[threading.Lock(), threading.Lock()])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert store.save("k1", lock, digest(lock), op="model", seconds=1.0) is None
        assert store.save("k2", lock, digest(lock), op="model", seconds=1.0) is None
        value_digest = digest(unpicklable_column)
        assert store.save("k3", unpicklable_column, value_digest, op="feat", seconds=1.0) is None
    messages = [str(w.message) for w in caught if issubclass(w.category, UnstorableWarning)]
    assert len(messages) == 2
    assert messages[0].startswith("operator 'model' returns an object that cannot be stored (")
    assert messages[0].endswith("); it will be recomputed each run")
    assert "'feat'" in messages[1]
    assert list(store.entries()) == []


def test_invalid_keys_are_refused(store: Store) -> None:
    for key in ["", "../escape", "a/b", ".hidden", "x" * 300]:
        with pytest.raises(ValueError):
            store.save(key, 1, digest(1), op="op", seconds=0.0)


def test_directories_are_private(tmp_path: Path) -> None:
    root = tmp_path / "project" / ".ghostrun" / "cache"
    store = Store(root)
    save(store, "k", frame(a=SHARED))
    for directory in [root.parent, root, *[p for p in root.rglob("*") if p.is_dir()]]:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o777)
    os.chmod(loose, 0o777)
    Store(loose)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700


def test_concurrent_saves_of_one_key(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=3, mp_context=context) as pool:
        jobs = [pool.submit(reuse_samples.save_repeatedly, str(root), "k", 15) for _ in range(3)]
        hexes = {job.result(timeout=120) for job in jobs}
    store = Store(root)
    expected = reuse_samples.every_dtype_frame()
    assert hexes == {digest(expected).hex}
    pd.testing.assert_frame_equal(store.load("k"), expected, check_exact=True)
    assert store.collect_garbage() == 0
    assert len(blob_files(store)) == len(set(store.lookup("k").blobs))  # type: ignore[union-attr]


def test_save_raises_store_error_when_the_disk_refuses(store: Store) -> None:
    # A file where the blob directory should be: every write under it fails, even as root.
    blobs = store.root / "blobs"
    blobs.rmdir()
    blobs.write_bytes(b"")
    with pytest.raises(StoreError, match="could not write cache entry 'k'"):
        save(store, "k", np.arange(3))
    assert store.lookup("k") is None
