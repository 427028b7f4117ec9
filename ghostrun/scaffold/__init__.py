"""`ghostrun init`: the configuration, a starter workflow, and plans for plain scripts."""

from ghostrun.scaffold.init import STARTER_PIPELINE, init_project

__all__ = ["STARTER_PIPELINE", "init_project"]
