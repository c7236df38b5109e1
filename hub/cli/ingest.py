"""``hub ingest``: pull the registries into the canonical store."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.cli.progress import progress_board
from hub.ingest.pipeline import IngestRun, ingest_all
from hub.ingest.run import INGEST_ORDER
from hub.settings import REGISTRY_NAMES, RegistryName, get_settings
from hub.store.engine import make_engine
from hub.store.migrate import upgrade


def ingest(
    source: Annotated[
        str | None,
        typer.Option("--source", help=f"only this registry ({', '.join(REGISTRY_NAMES)})"),
    ] = None,
) -> None:
    """Read each registry's change feed from its watermark into the canonical store."""
    if source is not None and source not in REGISTRY_NAMES:
        Console(stderr=True).print(
            f"unknown source {source!r}; use one of {', '.join(REGISTRY_NAMES)}"
        )
        raise typer.Exit(2)
    settings = get_settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sources: tuple[RegistryName, ...] = (
        tuple(n for n in INGEST_ORDER if n == source) if source else INGEST_ORDER
    )
    with progress_board() as board:
        tasks = {name: board.task(f"ingesting {name.upper()}") for name in sources}

        def on_progress(registry: RegistryName, done: int) -> None:
            tasks[registry](done, 0)

        run = ingest_all(engine, settings, sources=sources, on_progress=on_progress)
    _print(run)
    if not run.ok:
        Console(stderr=True).print(
            "some registries could not be read to the end; their watermarks keep what was "
            "stored, so running `hub ingest` again resumes where they stopped"
        )
        raise typer.Exit(1)


def _print(run: IngestRun) -> None:
    table = Table(title="Ingestion")
    for column in ("registry", "read", "mapped", "quarantined", "pages", "seconds", "status"):
        table.add_column(column)
    for name, report in run.reports.items():
        status = "[green]complete[/green]" if report.ok else f"[red]{report.error}[/red]"
        table.add_row(
            name.upper(),
            f"{report.read:,}",
            f"{report.mapped:,}",
            f"{report.quarantined:,}",
            str(report.pages),
            f"{report.seconds:.1f}",
            status,
        )
    Console().print(table)
    if run.identity is not None:
        identity = run.identity
        Console().print(
            f"returnees without personal number: {identity.candidates:,} — linked "
            f"{identity.linked:,}, sent to review {identity.review:,}, unmatched {identity.none:,}"
        )
