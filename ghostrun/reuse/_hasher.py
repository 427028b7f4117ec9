"""The one hashing primitive under `digest`: framed fields fed into a single xxh3_128 state.

Every field is written as its byte length followed by its bytes, so two different field
sequences can never produce the same byte stream by concatenation ("ab"+"c" vs "a"+"bc").
Raw buffers are fed without copying; only non-contiguous arrays are copied first.
"""

from __future__ import annotations

import pickle
import struct
from typing import TYPE_CHECKING, Any

import xxhash

if TYPE_CHECKING:
    import numpy as np

# Bump when the hashing scheme changes: every digest (and so every cache key) changes with it.
SCHEME = "ghostrun-digest-1"

_LENGTH = struct.Struct("<Q")


class Unhashable(Exception):
    """A value has no stable content hash (it cannot be pickled); the reason is the message."""


class Hasher:
    """Accumulates framed fields; `hexdigest()` names the content, `nbytes` counts bytes fed."""

    __slots__ = ("_state", "nbytes")

    def __init__(self, tag: str) -> None:
        self._state = xxhash.xxh3_128()
        self.nbytes = 0
        self.text(SCHEME)
        self.text(tag)

    def raw(self, data: Any) -> None:
        """Feed one bytes-like field (bytes, memoryview, pyarrow buffer, contiguous array)."""
        view = memoryview(data)
        self._state.update(_LENGTH.pack(view.nbytes))
        self._state.update(view)
        self.nbytes += view.nbytes

    def text(self, value: str) -> None:
        self.raw(value.encode("utf-8", "surrogatepass"))

    def integer(self, value: int) -> None:
        size = (value.bit_length() + 8) // 8
        self.raw(value.to_bytes(size, "little", signed=True))

    def array(self, values: np.ndarray) -> None:
        """Feed a numpy array's raw bytes (any non-object dtype, any layout)."""
        import numpy as np  # here, not at the top: hashing plain values must not import it

        flat = np.ascontiguousarray(values).reshape(-1)
        self.raw(flat.view(np.uint8))

    def pickled(self, value: object) -> None:
        """Feed `value`'s protocol-5 pickle; large buffers (numpy arrays) are fed out of band.

        Out-of-band buffers spare a copy of every array inside, e.g. a fitted model's trees.
        """
        buffers: list[pickle.PickleBuffer] = []
        try:
            data = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
        except Exception as exc:  # any pickling failure means "no stable content hash"
            raise Unhashable(f"{type(exc).__name__}: {exc}") from exc
        self.raw(data)
        for buffer in buffers:
            self.raw(buffer.raw())

    def hexdigest(self) -> str:
        return self._state.hexdigest()
