"""The demo project behind `ghostrun demo`: generated census-style data and a template.

`ghostrun.demo.data` generates the tables (no network, no bundled files);
`ghostrun/demo/template/` holds the workflow and configuration copied into a new demo
project.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent / "template"
"""Folder whose files `ghostrun demo` copies into the new project."""

__all__ = ["TEMPLATE_DIR"]
