"""`examples/diabetes`: scikit-learn's own diabetes data (442 patients), ridge regression,
primary metric rmse (goal "min").

Real data, but below the 1,500-row sampling floor and far below the ladder's short-run
threshold: every edit takes the "full at once" path. It checks that path (and a "min"
goal), not the approximation.
"""

from __future__ import annotations

from pathlib import Path

from bench.approx.workflows.spec import BenchWorkflow, edit

__all__ = ["WORKFLOW"]

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "diabetes" / "pipeline.py"

EDITS = (
    edit("no-interactions", "prep", "features: knob interactions True -> False",
         ("interactions: bool = gr.knob(True,", "interactions: bool = gr.knob(False,"),
         touches=["features"]),
    edit("alpha-10", "model", "model: Ridge alpha 1 -> 10",
         ("Ridge(alpha=1.0,", "Ridge(alpha=10.0,"), touches=["model"]),
    edit("model-comment", "model", "model: a comment line only",
         ("    return reg.fit(split.X_train, split.y_train)",
          "    # closed form: no seed involved\n    return reg.fit(split.X_train, split.y_train)"),
         touches=[], comment_only=True),
    edit("log-targets", "model", "model: fit log(progression)",
         ("log_targets: bool = False", "log_targets: bool = True"), touches=["model"]),
    edit("alpha-0.1", "model", "model: Ridge alpha 10 -> 0.1",
         ("Ridge(alpha=10.0,", "Ridge(alpha=0.1,"), touches=["model"]),
)

KINDS = {
    "no-interactions": "feature drop",
    "alpha-10": "knob up",
    "model-comment": "comment",
    "log-targets": "preprocessing",
    "alpha-0.1": "knob down",
}


WORKFLOW = BenchWorkflow(
    name="diabetes",
    description="examples/diabetes: sklearn's diabetes data (442 rows), ridge, rmse (5 edits)",
    template=EXAMPLE.read_text(encoding="utf-8"),
    edits=EDITS,
    kinds=KINDS,
    data=lambda _cache, _rows: {},
    rows=442,
    quick_rows=442,
    quick_edits=3,
    reseed=None,  # closed-form ridge: the metric does not move with a seed
)
