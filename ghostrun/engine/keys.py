"""Cache keys: an operator's own definition, the fidelity, and its inputs' *content*.

Keying on input content rather than input keys gives early cutoff: when an upstream
operator recomputes to byte-identical output, every key below it is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

from ghostrun.workflow.hashing import hash_parts
from ghostrun.workflow.types import Fidelity


def cache_key(local_key: str, fidelity: Fidelity, inputs: Iterable[tuple[str, str]]) -> str:
    """`inputs` are (parameter name, content hash) pairs."""
    return hash_parts(local_key, fidelity.key(), *(f"{n}={h}" for n, h in inputs))
