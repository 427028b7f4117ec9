"""Which ghostrun code a measurement ran on: the commit and a stamp of the source files.

Other work lands in the same tree while a long bench runs; a cold run imports ghostrun
afresh each time, the hot worker once. Each step records both, and the report flags a
session whose steps did not all run on the same code.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

__all__ = ["code_stamp"]


def code_stamp(repo_root: Path) -> dict[str, str | None]:
    """{"commit": HEAD (read-only git), "sources": digest of ghostrun/**/*.py names, sizes
    and modification times}."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo_root,
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head = ""
    h = hashlib.sha1()
    for path in sorted((repo_root / "ghostrun").rglob("*.py")):
        st = path.stat()
        h.update(f"{path.relative_to(repo_root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return {"commit": head or None, "sources": h.hexdigest()[:12]}
