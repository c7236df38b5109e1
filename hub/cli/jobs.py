"""``hub jobs``: what the workers run, ran and failed to run."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.jobs import queue
from hub.jobs.models import Job
from hub.settings import get_settings
from hub.store.engine import make_engine, unit_of_work

app = typer.Typer(help="Jobs: ingestions, flow runs and reconciliations.", no_args_is_help=True)


@app.command("list")
def list_command(
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 20,
    active: Annotated[bool, typer.Option("--active", help="only queued and running")] = False,
) -> None:
    """The latest jobs, newest first."""
    with unit_of_work(make_engine(get_settings().database_url)) as session:
        jobs = queue.recent(session, limit=limit, states=("queued", "running") if active else None)
        for job in jobs:
            session.expunge(job)
    if not jobs:
        Console().print("no jobs yet: `hub ingest` or `hub sync run --all` queue one")
        return
    table = Table(title=f"Jobs ({len(jobs)})")
    for column in ("id", "kind", "target", "state", "progress", "by", "worker", "created", "error"):
        table.add_column(column)
    for job in jobs:
        table.add_row(
            str(job.id),
            job.kind,
            job.target,
            job.state,
            f"{job.progress:.0%}",
            job.requested_by,
            job.claimed_by or "",
            f"{job.created_at:%Y-%m-%d %H:%M:%S}",
            job.error or "",
        )
    Console().print(table)


@app.command("show")
def show(job_id: Annotated[int, typer.Argument(min=1, help="the job's id")]) -> None:
    """One job with its parameters, counts and error."""
    with unit_of_work(make_engine(get_settings().database_url)) as session:
        job = queue.get(session, job_id)
        session.expunge(job)
    Console().print_json(json.dumps(describe(job), default=str))


def describe(job: Job) -> dict[str, object]:
    """A job as JSON-ready data."""
    return {
        "id": job.id,
        "kind": job.kind,
        "target": job.target,
        "state": job.state,
        "params": job.params,
        "writers": job.writers,
        "requested_by": job.requested_by,
        "claimed_by": job.claimed_by,
        "attempts": job.attempts,
        "progress": job.progress,
        "counts": job.counts,
        "error": job.error,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }
