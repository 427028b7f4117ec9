"""ghostrun: rerun only what changed in a tabular ML workflow, approximate first.

User workflows import this package for the decorators only; it stays light (no pandas,
no scikit-learn) so that importing a workflow costs nothing extra.
"""

from ghostrun.workflow.decorators import knob, metric, op, source

__all__ = ["__version__", "knob", "metric", "op", "source"]

__version__ = "0.1.0"
