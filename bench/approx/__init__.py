"""Fidelity benchmark (issue 4, DESIGN §4): how fast and how right is ghostrun's
approximate feedback, edit by edit, against a plain re-run of the whole workflow.

Layout:
    workflows/   the edited workflows: replay (bench/replay's own data, template and
                 session), demo (ghostrun/demo/template), census (examples/census),
                 diabetes (examples/diabetes, scikit-learn's data); spec.py: their shape
    runs.py      plain (fresh process), cold (`ghostrun run --json`), hot (RunWorker)
    session.py   one workflow: model-seed noise runs, then each edit through all three
    judge.py     noise threshold, verdict grades, extrapolation error
    margins.py   the measured stages re-graded under other verdict margins
    report.py    tables, the summary against issue 4's targets
    main.py      command line

Run from the repository root: `python -m bench.approx --quick` (smoke) or
`python -m bench.approx --out results.json`.
"""
