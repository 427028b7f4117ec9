"""`ghostrun demo`: the whole loop on a generated census project, with the real daemon.

Steps: create the project; `ghostrun up` (the daemon's first run); a scripted save, as an
editor writes it, answered by an approximate verdict and then the full result; a short
burst of idle-time exploration; `ghostrun suggest`; `ghostrun apply 1`, whose result comes
from the cache; `ghostrun down`. Each step prints one line saying what happens and the
command that does it by hand, then what ghostrun reported. Returns the exit code: 0 when
every step did what it should.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from ghostrun.daemon import launch
from ghostrun.demo.data import write_demo_data
from ghostrun.errors import GhostrunError
from ghostrun.ipc import Client, EventStream
from ghostrun.notify import stage_message
from ghostrun.project import Project
from ghostrun.render import event_line, explore_line, stage_line, suggestions_view

TEMPLATE = Path(__file__).parent / "template"
EDIT = ("num_leaves=gr.knob(31,", "num_leaves=gr.knob(63,")
IDLE_AFTER = 3.0
RUN_WAIT = 300.0


class DemoFailed(GhostrunError):
    exit_code = 1


@dataclass
class Demo:
    console: Console
    project: Project
    explore_budget: float
    stream: EventStream | None = None
    client: Client | None = None
    started: dict[str, Any] = field(default_factory=dict)
    base_metric: float | None = None

    def say(self, number: int, title: str, by_hand: str) -> None:
        self.console.print(f"\n[bold]{number}. {title}[/] [dim]By hand: `{by_hand}`.[/]")

    def ok(self, text: str) -> None:
        self.console.print(f"[green]✓[/] {text}")

    def events(self) -> EventStream:
        assert self.stream is not None
        return self.stream


def run_demo(
    console: Console, *, keep: Path | None = None, rows: int = 100_000,
    explore_budget: float = 60.0,
) -> int:
    started = time.perf_counter()
    with ExitStack() as stack:
        temporary = tempfile.TemporaryDirectory(prefix="ghostrun-demo-")
        root = keep or Path(stack.enter_context(temporary))
        try:
            _create(console, root, rows)
            settings = {"idle_after": IDLE_AFTER, "explore_budget": explore_budget}
            project = Project.open(root, settings)
            demo = Demo(console, project, explore_budget)
            with _daemon(demo):
                for step in STEPS:
                    step(demo)
        except GhostrunError as exc:
            console.print(f"[bold red]✗ demo failed:[/] {exc}")
            return exc.exit_code or 1
        console.print(f"\n[bold green]Demo complete[/] in {time.perf_counter() - started:.0f} s.")
        if keep:
            console.print(f"The project stays in {root}: `cd {root}`, `ghostrun up`, and edit "
                          "pipeline.py.")
        return 0
    return 1  # pragma: no cover


def _create(console: Console, root: Path, rows: int) -> None:
    console.rule("[bold]ghostrun demo")
    root.mkdir(parents=True, exist_ok=True)
    for item in TEMPLATE.iterdir():
        if item.is_file():
            shutil.copy2(item, root / item.name)
    t0 = time.perf_counter()
    write_demo_data(root / "data", n_rows=rows)
    console.print(f"Created a census-style project with {rows:,} generated customers in {root} "
                  f"({time.perf_counter() - t0:.1f} s). By hand: `ghostrun init --example`.")


@contextmanager
def _daemon(demo: Demo) -> Iterator[None]:
    overrides = {"idle_after": IDLE_AFTER, "explore_budget": demo.explore_budget}
    demo.say(1, "Start the daemon", "ghostrun up")
    info = launch.start(demo.project, overrides)
    try:
        with Client(demo.project.state_dir, timeout=30.0) as client, client.events() as stream:
            demo.client, demo.stream = client, stream
            backend = client.request("status")["notify"]
            where = ("desktop notifications" if backend in ("desktop-notifier", "notify-send")
                     else "no desktop here, so its notifications are shown below")
            demo.ok(f"daemon running (pid {info.pid}), watching the project; {where}.")
            yield
    finally:
        demo.say(7, "Stop the daemon", "ghostrun down")
        pid = launch.stop(demo.project)
        demo.ok(f"daemon (pid {pid}) stopped; the history and cache stay in .ghostrun/.")


def _first_run(demo: Demo) -> None:
    demo.console.print("   It runs the workflow once: everything is computed and cached.")
    finished = _follow_run(demo)
    demo.base_metric = finished["metrics"].get(finished.get("primary") or "auc")
    demo.ok(f"first result: {stage_line(finished, finished.get('primary'))}")


def _edit(demo: Demo) -> None:
    demo.say(2, "Edit pipeline.py: num_leaves 31 → 63, saved as an editor saves",
             "edit and save; `ghostrun watch` shows the events")
    path = demo.project.root / "pipeline.py"
    text = path.read_text()
    temp = path.with_name(".pipeline.py.tmp")
    temp.write_text(text.replace(*EDIT, 1))
    os.replace(temp, path)
    finished = _follow_run(demo)
    computed = {o["name"] for o in finished["result"]["ops"] if o["state"] == "computed"}
    if not computed <= {"model", "auc", "logloss"}:
        raise DemoFailed(f"expected only model and the metrics to rerun, got {sorted(computed)}")
    demo.ok("only model and the metrics reran; loading, joining and features were reused.")


def _explore(demo: Demo) -> None:
    demo.say(3, f"Think for {IDLE_AFTER:.0f} s: the daemon explores variants while you do",
             f"ghostrun explore --budget {demo.explore_budget:.0f}")
    stream, deadline = demo.events(), time.monotonic() + demo.explore_budget + RUN_WAIT
    while (left := deadline - time.monotonic()) > 0:
        event = stream.next(timeout=left)
        if event is None:
            break
        topic, payload = event
        if topic == "explore.result":
            demo.console.print("   ", explore_line(payload))
        elif topic == "suggest.updated":
            trials = payload.get("report", {}).get("trials", 0)
            demo.ok(f"{trials} trials, each paired with your version on the same rows.")
            return
    raise DemoFailed("the exploration did not finish in time")


def _suggest(demo: Demo) -> None:
    from ghostrun.suggest.listing import ranked, save_shown

    demo.say(4, "The changes worth making next", "ghostrun suggest")
    shown = ranked(demo.project, 5)
    save_shown(demo.project, shown)
    demo.console.print(suggestions_view(shown))
    if not shown:
        raise DemoFailed("exploration found nothing to suggest")


def _apply(demo: Demo) -> None:
    from ghostrun.suggest.apply import check_current, plan_edit
    from ghostrun.suggest.listing import resolve
    from ghostrun.suggest.variant import Variant

    chosen = resolve(demo.project, "1")
    demo.say(5, f"Apply suggestion 1: {chosen['description']}", "ghostrun apply 1")
    version = _load(demo.project)
    variant = Variant.from_json(chosen["change"])
    check_current(version, variant, chosen.get("base_fingerprints", {}))
    edits = plan_edit(version.workflow, variant,
                      estimator_modules=demo.project.settings.estimator_modules)
    for edit in edits:
        demo.console.print(edit.diff(), markup=False, highlight=False)
        edit.write()
    t0 = time.perf_counter()
    demo.say(6, "The daemon reruns on that save", "ghostrun run")
    finished = _follow_run(demo)
    computed = [o["name"] for o in finished["result"]["ops"] if o["state"] == "computed"]
    seconds = time.perf_counter() - t0
    if computed and chosen["evidence"]["confirmed_full"]:
        raise DemoFailed(f"expected the measured variant from the cache, but {computed} ran")
    where = "from the cache" if not computed else f"recomputing {', '.join(computed)}"
    demo.ok(f"result in {seconds:.1f} s {where}: {stage_line(finished, finished.get('primary'))}")


def _load(project: Project) -> Any:
    from ghostrun.engine.session import Session

    with Session(project) as session:
        return session.load()


def _follow_run(demo: Demo) -> dict[str, Any]:
    """Print one run's events as they arrive; return its `run.finished` payload."""
    stream, deadline = demo.events(), time.monotonic() + RUN_WAIT
    context: dict[str, Any] = {}
    while (left := deadline - time.monotonic()) > 0:
        event = stream.next(timeout=left)
        if event is None:
            break
        topic, payload = event
        if topic == "run.started":
            context = payload
            latency = f"[dim]({payload.get('latency', 0) * 1000:.0f} ms after the save)[/]"
            demo.console.print("   ", event_line(topic, payload), latency)
        elif topic == "run.stage":
            demo.console.print("   ", event_line(topic, payload))
            _show_notification(demo, payload, context)
        elif topic == "run.finished":
            return payload
        elif topic == "run.failed" and payload["error"]["code"] not in ("cancelled", "superseded"):
            raise DemoFailed(f"the run failed: {payload['error'].get('message')}")
    raise DemoFailed("no result within the time allowed")


def _show_notification(demo: Demo, stage: dict[str, Any], started: dict[str, Any]) -> None:
    fidelity = stage.get("fidelity") or {}
    final = fidelity.get("fraction", 1) >= 1 and fidelity.get("budget", 1) >= 1
    message = stage_message(stage, {
        "primary": stage.get("primary"), "goal": started.get("goal", "max"),
        "changes": started.get("changes", []), "reran": stage.get("reran"),
        "reused": stage.get("reused"), "full_eta": None, "final": final,
    })
    demo.console.print(f"    [magenta]🔔 {message.title}[/] [dim]— {message.body}[/]")


Step = Callable[[Demo], None]
STEPS: tuple[Step, ...] = (_first_run, _edit, _explore, _suggest, _apply)
