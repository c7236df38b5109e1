"""``hub audit``: check the audit chain, and tell a person who saw or received their data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.audit import anchor, service
from hub.audit.models import AuditEntry
from hub.errors import InvalidInput
from hub.settings import get_settings
from hub.store.engine import make_engine, unit_of_work

app = typer.Typer(
    help="The audit log of reads and deliveries of personal data.", no_args_is_help=True
)


@app.command("verify")
def verify(
    expect_head: Annotated[
        Path | None,
        typer.Option(
            "--expect-head",
            help="a checkpoint from `hub audit checkpoint`: fail if the log was cut short "
            "since (needs HUB_AUDIT_ANCHOR_KEY)",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Walk the hash chain; exit 1 naming the first entry that breaks it, or the truncation."""
    settings = get_settings()
    expect = None
    if expect_head is not None:
        key = settings.audit_anchor_key.get_secret_value()
        expect = anchor.loads(expect_head.read_text(encoding="utf-8"), key)
    with unit_of_work(make_engine(settings.database_url)) as session:
        result = service.verify(session, expect=expect)
    console = Console(soft_wrap=True)
    if result.ok:
        console.print(f"chain intact: {result.checked:,} entries, head {result.head_hash}")
        if result.anchored is not None:
            console.print(
                f"checkpoint holds: entry {result.anchored.last_id} is entry "
                f"{result.anchored.count:,} with the hash taken at "
                f"{result.anchored.taken_at:%Y-%m-%d %H:%M:%S} UTC"
            )
        return
    if result.first_broken_id is None:
        console.print(f"[red]audit log {result.reason}[/red]")
    else:
        console.print(
            f"[red]chain broken at entry {result.first_broken_id}[/red]: {result.reason} "
            f"({result.checked:,} entries before it are intact)"
        )
    raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="write the checkpoint to this file (default: standard output); keep it "
            "where the hub's hosts cannot write",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Verify the chain and print its head signed with HUB_AUDIT_ANCHOR_KEY: a checkpoint
    `hub audit verify --expect-head` checks the log against later."""
    settings = get_settings()
    key = settings.audit_anchor_key.get_secret_value()
    anchor.check_key(key)  # before the walk: a missing key fails at once
    with unit_of_work(make_engine(settings.database_url)) as session:
        head = service.checkpoint(session)
    document = head.dumps(key)
    if out is None:
        typer.echo(document, nl=False)
        return
    partial = out.with_name(out.name + ".partial")
    partial.write_text(document, encoding="utf-8")
    partial.replace(out)
    Console(stderr=True, soft_wrap=True).print(
        f"checkpoint written to {out}: entry {head.last_id}, {head.count:,} entries, "
        f"head {head.head_hash}"
    )


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
