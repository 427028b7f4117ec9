"""Exploration on a Dask cluster against the local explorer (issue 8): `python -m bench.dask`."""
