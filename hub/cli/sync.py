"""``hub sync``: run flows once, and see how recent runs went."""

from __future__ import annotations

from datetime import date
from typing import Annotated, get_args

import typer
from rich.console import Console
from rich.table import Table

from hub.cli import jobrun
from hub.jobs.models import Job, JobKind
from hub.settings import get_settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.sync.flows import FLOWS, FlowName
from hub.sync.models import SyncRun
from hub.sync.runner import recent_runs, sources_of

app = typer.Typer(help="Sync flows between the registries.", no_args_is_help=True)
FLOW_NAMES: tuple[str, ...] = get_args(FlowName)


@app.command("run")
def run(
    flow: Annotated[str | None, typer.Argument(help=f"one of {', '.join(FLOW_NAMES)}")] = None,
    all_flows: Annotated[bool, typer.Option("--all", help="every flow")] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="decide as on this day (YYYY-MM-DD); default today"),
    ] = None,
    no_ingest: Annotated[
        bool, typer.Option("--no-ingest", help="decide on the store as it is, without reading")
    ] = False,
    queue_only: Annotated[
        bool, typer.Option("--queue", help="only queue the job for a `hub worker`; print its id")
    ] = False,
) -> None:
    """Ingest the flows' sources, decide, and dispatch until drained or only dead letters remain.

    Runs as a job under a lock per flow and per registry read: a run of the same flow
    elsewhere is waited for, never run alongside."""
    if (flow is None) == (not all_flows) or (flow is not None and flow not in FLOW_NAMES):
        Console(stderr=True).print(f"name one flow ({', '.join(FLOW_NAMES)}) or --all")
        raise typer.Exit(2)
    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        Console(stderr=True).print(f"--as-of must be a date YYYY-MM-DD, not {as_of!r}")
        raise typer.Exit(2) from None
    flows: list[FlowName] = list(FLOWS) if all_flows else [n for n in FLOWS if n == flow]
    settings = get_settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    job = jobrun.submit(
        engine,
        JobKind.SYNC,
        target="all" if all_flows else flows[0],
        params={
            "flows": list(flows),
            "as_of": day.isoformat(),
            "ingest": not no_ingest,
            "sources": list(sources_of(flows)),
        },
    )
    if queue_only:
        typer.echo(job.id)
        return
    ended = jobrun.run_here(engine, settings, job, wait_seconds=3600.0)
    with unit_of_work(engine) as session:
        runs = [r for r in recent_runs(session, limit=len(flows) * 3) if _after(r, ended)]
    _print_runs(Console(), runs)
    counts = ended.counts
    if ended.state != "done":
        Console(stderr=True).print(f"[red]sync failed:[/red] job {ended.id}: {ended.error}")
        raise typer.Exit(1)
    Console().print(
        f"job {ended.id}: decided {counts['decided']:,}, queued {counts['enqueued']:,}; "
        f"dispatched {counts['delivered']:,} delivered, {counts['dead']:,} dead"
    )
    if counts["dead"]:
        Console(stderr=True).print(
            "dead letters wait for an operator: `hub outbox list --state dead`"
        )
        raise typer.Exit(1)


@app.command("status")
def status(limit: Annotated[int, typer.Option("--limit", min=1)] = 20) -> None:
    """Recent flow runs with their counts and duration."""
    with unit_of_work(make_engine(get_settings().database_url)) as session:
        runs = recent_runs(session, limit=limit)
    if not runs:
        Console().print("no sync has run yet: `hub sync run --all`")
        return
    _print_runs(Console(), runs)


def _after(run: SyncRun, job: Job) -> bool:
    return job.started_at is not None and run.started_at >= job.started_at


def _print_runs(console: Console, runs: list[SyncRun]) -> None:
    table = Table(title="Sync runs")
    for column in (
        "run",
        "flow",
        "as of",
        "pulled",
        "decided",
        "enqueued",
        "delivered",
        "failed",
        "seconds",
    ):
        table.add_column(column)
    for run in runs:
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
        table.add_row(
            str(run.id),
            run.flow,
            run.as_of.date().isoformat(),
            f"{run.pulled:,}",
            f"{run.decided:,}",
            f"{run.enqueued:,}",
            f"{run.delivered:,}",
            f"{run.failed:,}",
            f"{seconds:.1f}",
        )
    console.print(table)
