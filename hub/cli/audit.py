"""``hub audit``: check the audit chain, and tell a person who saw or received their data."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.audit import service
from hub.audit.models import AuditEntry
from hub.errors import InvalidInput
from hub.settings import get_settings
from hub.store.engine import make_engine, unit_of_work

app = typer.Typer(
    help="The audit log of reads and deliveries of personal data.", no_args_is_help=True
)


@app.command("verify")
def verify() -> None:
    """Walk the hash chain; exit 1 naming the first entry that breaks it."""
    with unit_of_work(make_engine(get_settings().database_url)) as session:
        result = service.verify(session)
    if result.ok:
        Console(soft_wrap=True).print(
            f"chain intact: {result.checked:,} entries, head {result.head_hash}"
        )
        return
    Console(soft_wrap=True).print(
        f"[red]chain broken at entry {result.first_broken_id}[/red]: {result.reason} "
        f"({result.checked:,} entries before it are intact)"
    )
    raise typer.Exit(1)


@app.command("export")
def export(
    person: Annotated[str, typer.Option("--person", help="the person's 10-digit personal number")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """List who saw or received a person's data, when and why (a data-subject request)."""
    try:
        with unit_of_work(make_engine(get_settings().database_url)) as session:
            found = service.export_person(session, personal_no=person)
    except InvalidInput as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    if as_json:
        document = {"person_ids": found.person_ids, "entries": [_json(e) for e in found.entries]}
        typer.echo(json.dumps(document, indent=2))
        return
    if not found.known:
        Console().print("no person in the hub has this personal number")
        return
    if not found.entries:
        Console().print("nobody has read or received this person's data through the hub")
        return
    table = Table(title=f"Who saw or received this person's data ({len(found.entries):,})")
    for column in ("entry", "when (UTC)", "action", "by", "purpose", "fields", "where", "request"):
        table.add_column(column)
    for entry in found.entries:
        table.add_row(
            str(entry.id),
            entry.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.action,
            entry.actor,
            entry.purpose,
            ", ".join(entry.fields),
            entry.target,
            entry.request_id or "",
        )
    Console().print(table)


def _json(entry: AuditEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "occurred_at": entry.occurred_at.isoformat(),
        "action": entry.action,
        "actor": entry.actor,
        "purpose": entry.purpose,
        "person_id": entry.person_id,
        "fields": entry.fields,
        "target": entry.target,
        "request_id": entry.request_id,
    }
