"""``hub quarantine``: records that did not map, kept for an operator."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.audit.service import audit_cli_read
from hub.ingest import quarantine as service
from hub.settings import REGISTRY_NAMES, get_settings
from hub.store.engine import make_engine, unit_of_work

app = typer.Typer(help="Records that did not map.", no_args_is_help=True)


@app.command("list")
def list_command(
    registry: Annotated[
        str | None, typer.Option("--registry", help=f"one of {', '.join(REGISTRY_NAMES)}")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="how many records")] = 50,
) -> None:
    """Show open quarantined records with the field that failed and why."""
    if registry is not None and registry not in REGISTRY_NAMES:
        Console(stderr=True).print(
            f"unknown registry {registry!r}; use one of {', '.join(REGISTRY_NAMES)}"
        )
        raise typer.Exit(2)
    with unit_of_work(make_engine(get_settings().database_url)) as session:
        records = service.list_open(session, registry=registry, limit=limit)
        totals = service.count_open(session)
        # a person stream's record key is a personal number: each person audited before it shows
        audit_cli_read(
            session,
            service.persons_keyed(session, records),
            purpose="quarantine",
            target="hub quarantine list",
            fields=("personal_no",),
        )
    if not records:
        Console().print("the quarantine is empty")
        return
    table = Table(title=f"Quarantined records ({sum(totals.values()):,} open)")
    for column in ("id", "registry", "stream", "record", "feed seq", "field", "reason", "when"):
        table.add_column(column)
    for record in records:
        table.add_row(
            str(record.id),
            record.source_registry.upper(),
            record.stream,
            record.record_key or "",
            str(record.feed_seq or ""),
            record.field_path,
            record.reason,
            record.quarantined_at.strftime("%Y-%m-%d %H:%M"),
        )
    Console().print(table)
