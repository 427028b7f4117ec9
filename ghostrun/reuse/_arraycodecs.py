"""The Arrow IPC and `.npy` codecs of `_codecs` (see there for the formats).

Arrays decoded from `npy` blobs are writable (they are views of the writable payload);
columns decoded from Arrow are read-only numpy arrays, as they always were here, which
pandas copies before writing to.
"""

from __future__ import annotations

import io
import struct
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ghostrun.reuse._codecs import ARROW, ARROW_LZ4, NPY, NPY_LZ4, Unstorable

_FIELD = "values"
_COMPRESSION = "lz4"
_LENGTH = struct.Struct("<Q")


def encode(codec: str, value: Any) -> list[Any]:
    if codec in (ARROW, ARROW_LZ4):
        return _encode_arrow(value, _COMPRESSION if codec == ARROW_LZ4 else None)
    if codec == NPY:
        return _encode_npy(value)
    if codec == NPY_LZ4:
        return _encode_npy_lz4(value)
    raise ValueError(f"not an array codec: {codec!r}")


def decode(codec: str, payload: memoryview) -> Any:
    if codec in (ARROW, ARROW_LZ4):
        return _decode_arrow(payload)
    if codec == NPY:
        return _decode_npy(payload)
    if codec == NPY_LZ4:
        return _decode_npy_lz4(payload)
    raise ValueError(f"not an array codec: {codec!r}")


def _encode_arrow(array: Any, compression: str | None) -> list[Any]:
    try:
        if isinstance(array, np.ndarray):
            # Plain numpy columns skip pandas' metadata: much less per-column overhead,
            # which is what dominates for wide frames (thousands of small columns).
            table = pa.table({_FIELD: pa.array(array)})
        else:
            # pandas' schema metadata lets to_pandas restore extension dtypes exactly.
            frame = pd.DataFrame({_FIELD: array}, copy=False)
            table = pa.Table.from_pandas(frame, preserve_index=False)
        sink = pa.BufferOutputStream()
        options = pa.ipc.IpcWriteOptions(compression=compression)
        with pa.ipc.new_file(sink, table.schema, options=options) as writer:
            writer.write_table(table)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise Unstorable(f"Arrow cannot write dtype {array.dtype}: {exc}") from exc
    return [sink.getvalue()]


def _decode_arrow(payload: memoryview) -> Any:
    table = pa.ipc.open_file(pa.py_buffer(payload)).read_all()
    if b"pandas" not in (table.schema.metadata or {}):
        return table.column(0).to_numpy()
    return table.to_pandas()[_FIELD].array


def _encode_npy(array: np.ndarray) -> list[Any]:
    if not (array.flags.c_contiguous or array.flags.f_contiguous):
        array = np.ascontiguousarray(array)
    header = np.lib.format.header_data_from_array_1_0(array)
    stream = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(stream, header)
    except ValueError:  # header too long for format 1.0
        stream = io.BytesIO()
        np.lib.format.write_array_header_2_0(stream, header)
    data = array.T if header["fortran_order"] else array
    return [stream.getvalue(), np.ascontiguousarray(data).reshape(-1).view(np.uint8)]


def _decode_npy(payload: memoryview) -> np.ndarray:
    # Parse the header ourselves so the array is a view of the payload, not a copy.
    shape, fortran, dtype, offset = _npy_header(payload)
    count = int(np.prod(shape, dtype=np.int64))
    flat = np.frombuffer(payload, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape, order="F" if fortran else "C")


def _npy_header(payload: memoryview) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
    """Shape, Fortran order, dtype, and where the data starts."""
    major = payload[6]
    length_format = "<H" if major == 1 else "<I"
    prefix = 8 + struct.calcsize(length_format)
    (header_length,) = struct.unpack(length_format, payload[8:prefix])
    stream = io.BytesIO(payload[: prefix + header_length])
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    if dtype.hasobject:
        raise ValueError("an .npy blob holds Python objects; refusing to unpickle it")
    return shape, fortran, dtype, prefix + header_length


def _encode_npy_lz4(array: np.ndarray) -> list[Any]:
    """The `.npy` header, then the data LZ4-compressed: [len][header][len][compressed]."""
    header, data = _encode_npy(array)
    compressed = pa.compress(data, codec=_COMPRESSION, asbytes=False)
    return [_LENGTH.pack(len(header)), header, _LENGTH.pack(data.nbytes), compressed]


def _decode_npy_lz4(payload: memoryview) -> np.ndarray:
    (header_length,) = _LENGTH.unpack(payload[: _LENGTH.size])
    start = _LENGTH.size + header_length
    (length,) = _LENGTH.unpack(payload[start : start + _LENGTH.size])
    header = payload[_LENGTH.size : start]
    shape, fortran, dtype, offset = _npy_header(header)
    body = payload[start + _LENGTH.size :]
    data = pa.decompress(body, length, codec=_COMPRESSION, asbytes=False)
    writable = bytearray(memoryview(data))  # arrays read back are writable, as from `npy`
    flat = np.frombuffer(writable, dtype=dtype, count=int(np.prod(shape, dtype=np.int64)))
    return flat.reshape(shape, order="F" if fortran else "C")
