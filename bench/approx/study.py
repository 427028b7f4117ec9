"""Fidelity study: every version of a bench session measured on a grid of fidelities.

The fidelity bench (`python -m bench.approx`) measures what the ladder as built tells the
user. This study measures what the ladder *could* be told, so that its choices (stage
fraction, budget scale, seeds, margins) are made on data rather than guessed: each version
of a workflow's scripted session runs in-process, in one scratch project, at full fidelity
and at every (fraction, budget) of a grid on several sample seeds, in session order (a
version reuses its parent's cached intermediates, as in real use). Per run it records the
primary metric and the seconds the run took; `bench.approx.policy` replays ladder policies
on the result.

    python -m bench.approx.study --workflows replay --fractions 0.02,0.05,0.1,0.2 \\
        --budgets 0.25,0.5,1 --seeds 4 --out /tmp/study-replay.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.approx.runs import make_project, write
from bench.approx.workflows import NAMES, BenchWorkflow, select
from bench.replay.edits import BASELINE, apply_edit
from ghostrun.approx.sensitivity import knob_names, scale_sensitive
from ghostrun.engine.session import Session
from ghostrun.project import Project
from ghostrun.workflow.types import FULL, Fidelity

__all__ = ["main", "study_workflow"]

HERE = Path(__file__).resolve().parent


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.approx.study", description=__doc__.split(
        "\n")[0])
    p.add_argument("--workflows", default="replay", help=f"comma-separated subset of {NAMES}")
    p.add_argument("--rows", default="", help="rows per workflow, e.g. replay=500000")
    p.add_argument("--fractions", default="0.02,0.05,0.1,0.2")
    p.add_argument("--budgets", default="0.25,1")
    p.add_argument("--seeds", type=int, default=4, help="sample seeds per fidelity")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--edits", type=int, default=None, help="only the first N edits")
    p.add_argument("--workdir", type=Path, default=HERE / ".work")
    p.add_argument("--out", type=Path, required=True)
    return p


def study_workflow(wf: BenchWorkflow, rows: int, grid: list[Fidelity], seeds: int,
                   workdir: Path, edits: int | None = None, log=print) -> dict[str, Any]:
    """Every version of `wf`'s session at full fidelity and on `grid` × `seeds`."""
    folder = workdir / "study" / wf.name
    make_project(folder, wf, wf.data(workdir / "data", rows), wf.template)
    versions, text = [], wf.template
    session_edits = wf.edits if edits is None else wf.edits[:edits]
    with Session(Project.open(folder)) as session:
        for step in [BASELINE, *session_edits]:
            if step is not BASELINE:
                text = apply_edit(text, step)
            write(folder, text)
            versions.append(_version(session, step.name, grid, seeds))
            log(_line(wf.name, versions[-1]))
    return {"workflow": wf.name, "rows": rows, "versions": versions}


def _version(session: Session, name: str, grid: list[Fidelity], seeds: int) -> dict[str, Any]:
    invocation = session.prepare(session.load())
    changed = sorted(c.op for c in invocation.changes if c.change.value != "unchanged")
    knobs = {c.op: {k: [repr(o), repr(n)] for k, (o, n) in c.knobs.items()}
             for c in invocation.changes if c.knobs}
    runs = []
    for f in grid:
        for seed in range(seeds):
            fid = Fidelity(f.fraction, f.precision, f.budget, seed)
            t0 = time.perf_counter()
            r = session.execute(invocation, fid)
            runs.append({"fraction": f.fraction, "budget": f.budget, "seed": seed,
                         "metric": r.metrics.get(r.primary or ""), "seconds": r.seconds,
                         "wall": time.perf_counter() - t0,
                         "computed": {n: round(o.seconds, 4) for n, o in r.outcomes.items()
                                      if o.state == "computed"}})
    full = session.execute(invocation, FULL)  # last: retention then spares the grid's entries
    return {"edit": name, "version_id": invocation.version.version_id, "changed": changed,
            "changes": {c.op: c.change.value for c in invocation.changes}, "knobs": knobs,
            "sensitive": scale_sensitive(invocation.changes,
                                         knob_names(invocation.version.workflow.operators)),
            "primary": full.primary, "goal": invocation.version.workflow.goal,
            "full": {"metric": full.metrics.get(full.primary or ""), "seconds": full.seconds},
            "runs": runs}


def _line(workflow: str, v: dict[str, Any]) -> str:
    approx = sum(r["seconds"] for r in v["runs"])
    return (f"  {workflow} {v['edit']:<22} full {v['full']['metric']:.5f} "
            f"({v['full']['seconds']:.1f} s) · grid {approx:.1f} s · changed {v['changed']}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    workflows = select(args.workflows)
    rows = {w.name: w.rows for w in workflows}
    for item in (s for s in args.rows.split(",") if s.strip()):
        name, _, value = item.partition("=")
        rows[name.strip()] = int(value)
    grid = [Fidelity(f, budget=b) for f in _floats(args.fractions) for b in _floats(args.budgets)]
    out: dict[str, Any] = {"command": " ".join(["python -m bench.approx.study", *sys.argv[1:]]),
                           "load_start": os.getloadavg(), "studies": []}
    for wf in workflows:
        out["studies"].append(study_workflow(wf, rows[wf.name], grid, args.seeds, args.workdir,
                                             args.edits, log=lambda m: print(m, flush=True)))
        args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    out["load_end"] = os.getloadavg()
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
