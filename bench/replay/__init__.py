"""Replay benchmark (issue 3, DESIGN §3): one scripted editing session, replayed through
ghostrun and its peers, timed per edit and checked for stale results.

Layout:
    data.py               generated census-style table (26 columns), cached CSV per (rows, seed)
    template_pipeline.py  the workflow (DESIGN §1 style), copied to each runner's folder
    edits.py              the scripted session: cumulative text replacements
    dag.py                reads a workflow module for the non-ghostrun runners
    child.py, host.py     what the fresh-process and the long-lived runner processes execute
    runners/              plain, joblib, hamilton, oracle, ghostrun, ghostrun-hot
    report.py             tables, ratios, STALE flags, targets, JSON
    main.py               command line and the replay loop

Run from the repository root: `python -m bench.replay --quick` (smoke) or
`python -m bench.replay --out results.json` (500k rows).
"""
