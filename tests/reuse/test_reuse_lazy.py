"""Plain values are hashed, stored and loaded without importing numpy, pandas or pyarrow;
arrays and frames imported afterwards get the same digests and round trips as ever."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ghostrun.reuse import Store, digest

SCRIPT = """\
import json, sys
from ghostrun.reuse import Store, digest

heavy = ("numpy", "pandas", "pyarrow", "joblib")
store = Store(sys.argv[1])
metric = {"auc": 0.9, "parts": [1, 2.5, "x"]}
store.save("metric", metric, digest(metric), op="auc", seconds=0.1)
plain = {"digest": digest(metric).hex, "loaded": store.load("metric"),
         "imported": [m for m in heavy if m in sys.modules]}

import numpy as np
import pandas as pd

frame = pd.DataFrame({"a": np.arange(5), "b": list("abcde"), "c": [0.5, None, 1, 2, 3]})
value = (frame, np.arange(3), np.float64(0.5), pd.Series([1, None], dtype="Int64"))
store.save("frame", frame, digest(frame), op="f", seconds=0.1)
print(json.dumps({**plain, "late": [digest(v).hex for v in value],
                  "frame_back": store.load("frame").equals(frame)}))
"""


def test_plain_values_need_no_array_library_and_late_imports_hash_as_ever(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "cache")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    metric = {"auc": 0.9, "parts": [1, 2.5, "x"]}
    assert seen["imported"] == []
    assert seen["loaded"] == metric and seen["digest"] == digest(metric).hex
    frame = pd.DataFrame({"a": np.arange(5), "b": list("abcde"), "c": [0.5, None, 1, 2, 3]})
    value = (frame, np.arange(3), np.float64(0.5), pd.Series([1, None], dtype="Int64"))
    assert seen["late"] == [digest(v).hex for v in value]
    assert seen["frame_back"] is True
    assert Store(tmp_path / "cache").load("metric") == metric
