"""The `ghostrun` command line: parse, delegate, print. No logic of its own.

Exit codes (DESIGN §8): 0 success, 1 a failure in the user's workflow, 2 bad usage or
configuration.
"""

from __future__ import annotations

import os

# LightGBM's and XGBoost's OpenMP threads spin while waiting; on a busy 2-core machine that
# slows a fit 5-10x. Passive waiting costs nothing measurable and must be set before those
# libraries load (the user's workflow imports them later).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import contextlib  # noqa: E402
import functools
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from ghostrun import __version__
from ghostrun.config import overrides_from_click, settings_options
from ghostrun.errors import GhostrunError
from ghostrun.project import Project

F = TypeVar("F", bound=Callable[..., Any])

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def project_command(func: F) -> F:
    """Adds `--project` and every setting's flag; passes a resolved `Project` in."""

    @click.option(
        "--project",
        "project_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Project folder (default: the nearest folder upward with ghostrun config).",
    )
    @settings_options
    @functools.wraps(func)
    def wrapper(project_dir: Path | None, **kwargs: Any) -> Any:
        overrides = overrides_from_click(kwargs)
        click.get_current_context().meta["ghostrun.overrides"] = overrides
        return func(Project.open(project_dir, overrides), **kwargs)

    return wrapper  # type: ignore[return-value]


class _Group(click.Group):
    """Turns ghostrun's own errors into one clear line and the right exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GhostrunError as exc:
            _report_error(exc)
            ctx.exit(exc.exit_code)


def _report_error(exc: GhostrunError) -> None:
    from ghostrun.engine.session import RunFailed

    if isinstance(exc, RunFailed):
        err.print(f"[bold red]error:[/] {exc.cause}")
        if exc.cause.traceback_text:
            err.print(exc.cause.traceback_text.rstrip(), markup=False)
        err.print(f"[dim]recorded as failed run {exc.run_id}; see `ghostrun history`[/]")
        return
    err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ghostrun")
def main() -> None:
    """Rerun only what changed in your ML workflow, and know fast whether it helped."""


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (DESIGN §8).")
@click.option("--approx", is_flag=True, help="Stop after the approximate stages.")
@click.option("--full", is_flag=True, help="Run on the full data only (no approximate stages).")
@project_command
def run(project: Project, as_json: bool, approx: bool, full: bool) -> None:
    """Run the workflow: approximate stages first, then the full result.

    Only operators your edit changed (and what depends on them) are recomputed; the rest
    comes from the cache. Each stage prints the primary metric, its change against the
    previous version on the same rows, and a verdict.
    """
    from ghostrun.daemon.remote import daemon_running
    from ghostrun.engine.session import RunFailed, Session
    from ghostrun.engine.stages import run_ladder
    from ghostrun.render import print_invocation, stage_line

    if approx and full:
        raise click.UsageError("--approx and --full exclude each other; give one.")
    mode = "approx" if approx else "full" if full else "ladder"
    if daemon_running(project):
        _run_through_daemon(project, mode, as_json)
        return
    quiet = _user_output_to_stderr() if as_json else contextlib.nullcontext()
    with Session(project, quick=True) as session:
        primary = None

        def show(stage: Any) -> None:
            if not as_json:
                out.print(stage_line(stage.to_json(), primary))

        try:
            with quiet:
                invocation = session.prepare(session.load())
                primary = invocation.version.workflow.primary
                run_ladder(session, invocation, mode=mode, on_stage=show)
        except RunFailed as exc:
            if as_json:
                print(json.dumps(_failure_json(exc), indent=2))
            raise
    if as_json:
        print(json.dumps(invocation.to_json(), indent=2))
    else:
        print_invocation(out, invocation, stages=False)


@contextlib.contextmanager
def _user_output_to_stderr() -> Iterator[None]:
    """With --json, stdout carries exactly one JSON object: what the workflow prints (from
    Python or from C, like LightGBM's warnings) goes to stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _run_through_daemon(project: Project, mode: str, as_json: bool) -> None:
    from ghostrun.daemon.remote import RemoteRunFailed, run_through_daemon
    from ghostrun.render import remote_summary, stage_line

    def show(stage: dict[str, Any]) -> None:
        if not as_json:
            out.print(stage_line(stage, stage.get("primary")))

    try:
        result = run_through_daemon(project, mode, show)
    except RemoteRunFailed as exc:
        if as_json:
            print(json.dumps({k: exc.payload.get(k) for k in ("run_id", "version_id", "error")},
                             indent=2))
        raise
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        out.print(remote_summary(result))


def _failure_json(exc: Any) -> dict[str, Any]:
    return {
        "run_id": exc.run_id,
        "version_id": exc.invocation.version.version_id,
        "error": {
            "code": "user_code",
            "op": exc.cause.op,
            "message": exc.cause.message,
            "traceback": exc.cause.traceback_text,
        },
    }


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "-n",
    "limit",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="How many runs to show, newest first.",
)
@click.option(
    "--kind",
    type=click.Choice(["user", "explore", "manual"]),
    default=None,
    help="Only runs of this kind.",
)
@project_command
def history(project: Project, as_json: bool, limit: int, kind: str | None) -> None:
    """List past runs with their versions, fidelities and metrics."""
    from ghostrun.daemon.remote import daemon_running
    from ghostrun.history import History
    from ghostrun.ipc import Client
    from ghostrun.render import history_table

    if daemon_running(project):
        with Client(project.state_dir) as client:
            reply = client.request("history", {"limit": limit, "kind": kind})
        if as_json:
            print(json.dumps(reply, indent=2))
            return
    with History(project.ensure_state_dir() / "history.sqlite") as store:
        runs = store.runs(limit=limit, kind=kind)
    if as_json:
        print(json.dumps({"runs": [r.to_json() for r in runs]}, indent=2))
    elif not runs:
        out.print("No runs yet: `ghostrun run` records the first one.")
    else:
        out.print(history_table(runs))


@main.command()
@click.argument("a", required=False)
@click.argument("b", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a diff.")
@project_command
def diff(project: Project, a: str | None, b: str | None, as_json: bool) -> None:
    """Show how version A differs from version B, per operator, with the code diff.

    A and B are version ids (or unique prefixes), HEAD, HEAD~N, or @RUN for the version of
    run RUN. With one argument, compares it with its parent; with none, the last run's
    version with its parent.
    """
    from ghostrun.history import History
    from ghostrun.render import diff_json, diff_view
    from ghostrun.workflow.changes import classify

    with History(project.ensure_state_dir() / "history.sqlite") as store:
        new_id = store.resolve_version(b or a or "HEAD")
        old_ref = a if b else store.parent_of(new_id)
        if old_ref is None:
            raise GhostrunError(f"version {new_id} has no parent; name two versions to compare.")
        old_id = store.resolve_version(old_ref)
        old, new = store.load_version(old_id), store.load_version(new_id)
    if old is None or new is None:
        raise GhostrunError("a version named is missing from the history; run `ghostrun history`.")
    changes = classify(old, new)
    if as_json:
        print(json.dumps(diff_json(old, new, changes), indent=2, default=str))
    else:
        out.print(diff_view(old, new, changes))


@main.command()
@click.option("--foreground", is_flag=True, help="Stay in this terminal with live output.")
@project_command
def up(project: Project, foreground: bool) -> None:
    """Start the daemon: it watches the project and reruns on every save."""
    from ghostrun.daemon import launch

    overrides = click.get_current_context().meta.get("ghostrun.overrides", {})
    if foreground:
        sys.exit(launch.run_foreground(project, overrides))
    info = launch.start(project, overrides)
    out.print(f"ghostrun daemon running (pid {info.pid}) for {project.root}")
    out.print("[dim]`ghostrun watch` shows its events live; `ghostrun down` stops it.[/]")


@main.command()
@project_command
def down(project: Project) -> None:
    """Stop the daemon and its workers."""
    from ghostrun.daemon import launch

    pid = launch.stop(project)
    if pid is None:
        out.print("No ghostrun daemon is running for this project.")
    else:
        out.print(f"Stopped the ghostrun daemon (pid {pid}).")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the daemon's status as JSON.")
@project_command
def status(project: Project, as_json: bool) -> None:
    """What the daemon is doing: its state, the run in progress, the last result."""
    from ghostrun.daemon.remote import daemon_running
    from ghostrun.ipc import Client
    from ghostrun.render import status_view

    if not daemon_running(project):
        reply: dict[str, Any] = {"state": "stopped", "project": str(project.root)}
    else:
        with Client(project.state_dir) as client:
            reply = client.request("status")
    if as_json:
        print(json.dumps(reply, indent=2))
    else:
        out.print(status_view(reply))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event.")
@project_command
def watch(project: Project, as_json: bool) -> None:
    """Stream the daemon's events live (Ctrl-C to stop watching)."""
    from ghostrun.daemon.remote import watch_events
    from ghostrun.render import event_line

    try:
        for topic, payload in watch_events(project):
            if as_json:
                print(json.dumps({"topic": topic, **payload}), flush=True)
            else:
                out.print(event_line(topic, payload))
    except KeyboardInterrupt:
        pass


@main.command()
@click.option("--budget", type=click.FloatRange(min=1), default=120, show_default=True,
              help="Seconds to spend exploring.")
@click.option("--json", "as_json", is_flag=True, help="Print the ranking as JSON at the end.")
@project_command
def explore(project: Project, budget: float, as_json: bool) -> None:
    """Try variants of your workflow now (knob moves, estimator swaps, dropped features),
    each paired with your version on the same rows, then rank them."""
    from ghostrun.daemon.remote import daemon_running, explore_through_daemon
    from ghostrun.render import explore_line, suggestions_view
    from ghostrun.suggest.listing import ranked, save_shown

    def show(result: dict[str, Any]) -> None:
        if not as_json:
            out.print(explore_line(result))

    if daemon_running(project):
        shown = explore_through_daemon(project, budget, show)["suggestions"]
    else:
        from ghostrun.engine.session import Session
        from ghostrun.suggest.search import explore as run_search

        with Session(project) as session:
            try:
                run_search(session, budget=budget, on_result=show)
            except KeyboardInterrupt:
                err.print("[dim]exploration interrupted; ranking what was measured[/]")
        shown = ranked(project, 10)
    save_shown(project, shown)
    if as_json:
        print(json.dumps({"suggestions": shown}, indent=2))
    else:
        out.print(suggestions_view(shown))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (DESIGN §8).")
@click.option("-n", "limit", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many suggestions to show.")
@project_command
def suggest(project: Project, as_json: bool, limit: int) -> None:
    """The changes most likely to improve your primary metric, with their evidence."""
    from ghostrun.daemon.remote import daemon_running, daemon_suggestions
    from ghostrun.render import suggestions_view
    from ghostrun.suggest.listing import ranked, save_shown

    shown = daemon_suggestions(project, limit) if daemon_running(project) else None
    if shown is None:
        shown = ranked(project, limit)
    save_shown(project, shown)
    if as_json:
        print(json.dumps({"suggestions": shown}, indent=2))
    else:
        out.print(suggestions_view(shown))


@main.command()
@click.argument("ident", metavar="ID")
@click.option("--yes", is_flag=True, help="Write without asking.")
@project_command
def apply(project: Project, ident: str, yes: bool) -> None:
    """Write suggestion ID (its rank in the last `ghostrun suggest`, or its id) into your
    code; shows the diff and asks first."""
    from ghostrun.engine.session import Session
    from ghostrun.suggest.apply import check_current, plan_edit
    from ghostrun.suggest.listing import resolve
    from ghostrun.suggest.variant import Variant

    chosen = resolve(project, ident)
    variant = Variant.from_json(chosen["change"])
    with Session(project) as session:
        version = session.load()
    check_current(version, variant, chosen.get("base_fingerprints", {}))
    edits = plan_edit(version.workflow, variant,
                      estimator_modules=project.settings.estimator_modules)
    if not edits:
        out.print("Nothing to change: your code already has this change.")
        return
    for edit in edits:
        out.print(edit.diff(), markup=False, highlight=False)
    if not yes and not click.confirm(f"Apply “{chosen['description']}”?", default=True):
        out.print("Left your code as it was.")
        return
    for edit in edits:
        edit.write()
    out.print(f"Applied {chosen['description']}. Its results are cached: `ghostrun run` "
              "shows them at once (a running daemon reruns on the save by itself).")


@main.command()
@project_command
def gc(project: Project) -> None:
    """Apply the storage budget (least saving per byte goes first) and drop unused files."""
    from ghostrun.reuse.cleanup import clean_cache

    report = clean_cache(project)
    out.print(
        f"Evicted {report.evicted} entries, freed {report.freed / 2**20:.1f} MiB; the cache "
        f"holds {report.total / 2**20:.1f} MiB of a {report.budget / 2**20:.0f} MiB budget."
    )


@main.command()
@click.option("--example", is_flag=True, help="Also write a starter pipeline.py.")
@click.option("--from", "script", type=click.Path(dir_okay=False, path_type=Path),
              default=None, metavar="SCRIPT",
              help="Explain how this plain script would become a workflow (it is only read).")
@click.option("--write-skeleton", type=click.Path(dir_okay=False, path_type=Path),
              default=None, metavar="PATH",
              help="With --from: also write the suggested workflow to this new file.")
@project_command
def init(project: Project, example: bool, script: Path | None,
         write_skeleton: Path | None) -> None:
    """Write ghostrun's configuration here; --example adds a starter workflow, --from SCRIPT
    explains how to turn your own script into one."""
    from ghostrun.scaffold import init_project

    if write_skeleton is not None and script is None:
        raise click.UsageError("--write-skeleton needs --from SCRIPT.")
    if example and script is not None:
        raise click.UsageError("--example and --from exclude each other; give one.")
    for item in init_project(project.root, project.settings, example=example, script=script,
                             skeleton=write_skeleton):
        if isinstance(item, str):
            out.print(item, markup=False)  # "[tool.ghostrun]" is not rich markup
        else:
            out.print(item)


@main.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Create the demo project in this folder and leave it there.",
)
@click.option(
    "--rows",
    type=click.IntRange(min=2000),
    default=100_000,
    show_default=True,
    help="Rows of generated data.",
)
@click.option(
    "--explore-budget",
    type=click.FloatRange(min=5),
    default=60.0,
    show_default=True,
    help="Seconds of exploration in the idle-time step.",
)
def demo(keep: Path | None, rows: int, explore_budget: float) -> None:
    """Show the whole loop on an example project: the daemon, a save and its approximate
    then full verdict, idle-time exploration, suggest, apply, and the cached result."""
    from ghostrun.demo.runner import run_demo

    sys.exit(run_demo(out, keep=keep, rows=rows, explore_budget=explore_budget))


if __name__ == "__main__":  # pragma: no cover
    main()
