"""A version: a loaded workflow plus the content of its data files, fingerprinted.

Two fingerprints per operator serve two purposes. The *fingerprint* (own definition plus
the fingerprints of its inputs) identifies the version and drives change classification.
The *local key* (own definition only) is combined by the engine with the content hashes of
the inputs actually produced, so an operator that recomputes to identical output leaves its
dependents' cache entries valid (early cutoff).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from ghostrun.workflow.datafiles import FileHasher, data_digests
from ghostrun.workflow.dependencies import AMBIENT_PACKAGES, package_versions
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.hashing import hash_parts, stable_repr, to_jsonable
from ghostrun.workflow.types import Operator, OpSnapshot, VersionSnapshot

# Bump when the meaning of cached results changes (serialisation, key layout).
CACHE_FORMAT = "ghostrun-cache-1"


@dataclass(frozen=True)
class Version:
    workflow: Workflow
    version_id: str
    env_hash: str
    data: Mapping[str, Mapping[str, str]]
    local_keys: Mapping[str, str]
    fingerprints: Mapping[str, str]

    def snapshot(self) -> VersionSnapshot:
        ops = {name: self._op_snapshot(op) for name, op in self.workflow.operators.items()}
        return VersionSnapshot(
            version_id=self.version_id,
            ops=MappingProxyType(ops),
            packages=self.workflow.packages,
            primary=self.workflow.primary,
            goal=self.workflow.goal,
        )

    def _op_snapshot(self, op: Operator) -> OpSnapshot:
        return OpSnapshot(
            name=op.name,
            kind=op.kind,
            inputs=op.inputs,
            code_hash=op.code_hash,
            knobs={k.name: to_jsonable(k.value) for k in op.knobs},
            data=dict(self.data[op.name]),
            env_hash=self.env_hash,
            fingerprint=self.fingerprints[op.name],
            source=op.source_text,
            file=op.location.file,
            line=op.location.line,
            deps=dict(op.deps),
        )


def build_version(
    workflow: Workflow,
    hasher: FileHasher | None = None,
    opened: Mapping[str, Sequence[str]] | None = None,
    env_hash: str | None = None,
) -> Version:
    """Hash data files and combine everything into per-operator fingerprints.

    `opened` gives, per operator, the data files it opened in its last run (found by the
    audit hook), so files read without a declared path are still watched for changes.
    `env_hash` is `environment_hash()` when the caller has proved it unchanged (the quick
    load: asking every installed distribution what it provides takes ~0.1 s).
    """
    hasher = hasher or FileHasher()
    opened = opened or {}
    env_hash = environment_hash() if env_hash is None else env_hash
    data: dict[str, dict[str, str]] = {}
    local_keys: dict[str, str] = {}
    fingerprints: dict[str, str] = {}
    for name, op in workflow.operators.items():
        data[name] = data_digests(op, workflow.root, opened.get(name, ()), hasher)
        local_keys[name] = local_key(op, data[name], env_hash)
        fingerprints[name] = hash_parts(
            local_keys[name], *(f"{i}={fingerprints[i]}" for i in op.inputs)
        )
    version_id = hash_parts(
        *(f"{n}={fp}" for n, fp in sorted(fingerprints.items())),
        f"primary={workflow.primary}:{workflow.goal}",
    )[:12]
    return Version(
        workflow=workflow,
        version_id=version_id,
        env_hash=env_hash,
        data=MappingProxyType(data),
        local_keys=MappingProxyType(local_keys),
        fingerprints=MappingProxyType(fingerprints),
    )


def environment_hash() -> str:
    """Python and the data packages every operator's values pass through. Other packages'
    versions are part of the code hash of the operators that use them."""
    ambient = package_versions(AMBIENT_PACKAGES)
    return hash_parts(sys.version, *(f"{k}=={v}" for k, v in sorted(ambient.items())))


def local_key(op: Operator, data: Mapping[str, str], env_hash: str) -> str:
    knobs = sorted((k.name, stable_repr(k.value)) for k in op.knobs)
    return hash_parts(
        CACHE_FORMAT,
        op.code_hash,
        *(f"knob:{n}={v}" for n, v in knobs),
        *(f"data:{p}={d}" for p, d in sorted(data.items())),
        f"env={env_hash}",
    )
