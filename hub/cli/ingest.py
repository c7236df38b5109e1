"""``hub ingest``: pull the registries into the canonical store."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.cli import jobrun
from hub.ingest.run import INGEST_ORDER
from hub.jobs.models import Job, JobKind
from hub.settings import REGISTRY_NAMES, get_settings
from hub.store.engine import make_engine
from hub.store.migrate import upgrade


def ingest(
    source: Annotated[
        str | None,
        typer.Option("--source", help=f"only this registry ({', '.join(REGISTRY_NAMES)})"),
    ] = None,
    queue_only: Annotated[
        bool, typer.Option("--queue", help="only queue the job for a `hub worker`; print its id")
    ] = False,
) -> None:
    """Read each registry's change feed from its watermark into the canonical store.

    Runs as a job under a lock per registry: an ingestion of the same registry running
    elsewhere (another `hub ingest`, a worker) is waited for, never run alongside.
    """
    if source is not None and source not in REGISTRY_NAMES:
        Console(stderr=True).print(
            f"unknown source {source!r}; use one of {', '.join(REGISTRY_NAMES)}"
        )
        raise typer.Exit(2)
    settings = get_settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sources = [n for n in INGEST_ORDER if source is None or n == source]
    job = jobrun.submit(engine, JobKind.INGEST, target=source or "all", params={"sources": sources})
    if queue_only:
        typer.echo(job.id)
        return
    ended = jobrun.run_here(engine, settings, job, wait_seconds=WAIT_SECONDS)
    _print(ended)
    if ended.state != "done":
        Console(stderr=True).print(
            f"job {ended.id} {ended.state}: {ended.error}. Registries that could not be read "
            "keep their watermark; running `hub ingest` again resumes where they stopped"
        )
        raise typer.Exit(1)


WAIT_SECONDS = 3600.0
"""How long `hub ingest` waits for another run of the same registry to end."""


def _print(job: Job) -> None:
    table = Table(title=f"Ingestion (job {job.id})")
    for column in ("registry", "read", "mapped", "quarantined", "pages", "seconds", "status"):
        table.add_column(column)
    for name, report in job.counts.items():
        if name == "identity":
            continue
        error = report.get("error")
        status = "[green]complete[/green]" if not error else f"[red]{error}[/red]"
        table.add_row(
            name.upper(),
            f"{report['read']:,}",
            f"{report['mapped']:,}",
            f"{report['quarantined']:,}",
            str(report["pages"]),
            f"{report['seconds']:.1f}",
            status,
        )
    Console().print(table)
    identity = job.counts.get("identity")
    if identity is not None:
        Console().print(
            f"returnees without personal number: {identity['candidates']:,} — linked "
            f"{identity['linked']:,}, sent to review {identity['review']:,}, unmatched "
            f"{identity['none']:,}"
        )
