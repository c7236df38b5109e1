"""``hub reconcile``: compare the registries, read the findings, apply their fixes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.audit.service import audit_cli_read, persons_shown
from hub.cli.progress import progress
from hub.errors import HubError
from hub.reconcile import service
from hub.reconcile.detectors import KINDS
from hub.reconcile.models import Finding
from hub.settings import get_settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade

app = typer.Typer(
    help="Reconciliation runs: inconsistencies between the registries.", no_args_is_help=True
)

RunId = Annotated[int, typer.Argument(help="the run's id, printed by `hub reconcile run`")]


@app.command("run")
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="count the findings without storing them")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="compare as on this day (YYYY-MM-DD); default today"),
    ] = None,
) -> None:
    """Compare the registries through the canonical store and record the findings."""
    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        Console(stderr=True).print(f"--as-of must be a date YYYY-MM-DD, not {as_of!r}")
        raise typer.Exit(2) from None
    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    with unit_of_work(engine) as session:
        run_id = service.start_run(session, dry_run=dry_run).id
    assert run_id is not None
    with progress("reconciling") as update:
        result = service.run_detectors(engine, run_id, as_of=day, on_progress=update)
    table = Table(title=f"Reconciliation run {run_id}" + (" (dry run)" if dry_run else ""))
    table.add_column("kind")
    table.add_column("findings", justify="right")
    for kind in KINDS:
        table.add_row(kind, f"{result.counts.get(kind, 0):,}")
    Console().print(table)
    if result.status != "done":
        Console(stderr=True).print(f"[red]run {run_id} failed:[/red] {result.error}")
        raise typer.Exit(1)
    stored = "counted, not stored" if dry_run else f"see `hub reconcile findings {run_id}`"
    Console().print(f"run {run_id}: {sum(result.counts.values()):,} findings ({stored})")


@app.command("findings")
def findings(
    run_id: RunId,
    kind: Annotated[
        str | None, typer.Option("--kind", help=f"only this kind ({', '.join(KINDS)})")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
) -> None:
    """List a run's findings with the action each proposes."""
    try:
        with unit_of_work(make_engine(get_settings().database_url)) as session:
            total = service.count_findings(session, run_id=run_id, kind=kind)
            page = service.list_findings(
                session, run_id=run_id, kind=kind, limit=limit, offset=offset
            )
            # subjects name persons (a duplicate's by their personal numbers): audit each
            shown = [(f.person_id, [f.evidence, f.proposed_action]) for f in page]
            audit_cli_read(
                session,
                persons_shown(session, shown),
                purpose="reconcile",
                target="hub reconcile findings",
                fields=("kind", "subject_key", "status", "proposed_action"),
            )
    except HubError as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    table = Table(title=f"Findings of run {run_id} ({offset + len(page)} of {total:,})")
    for column in ("id", "kind", "subject", "status", "proposed action"):
        table.add_column(column)
    for finding in page:
        table.add_row(
            str(finding.id), finding.kind, finding.subject_key, finding.status, _action(finding)
        )
    Console().print(table)


@app.command("apply")
def apply(
    run_id: RunId,
    finding_id: Annotated[int, typer.Argument(help="the finding's id from `findings`")],
) -> None:
    """Send a finding's proposed action to its registry, through the outbox."""
    try:
        with unit_of_work(make_engine(get_settings().database_url)) as session:
            finding = service.apply_finding(session, run_id=run_id, finding_id=finding_id)
    except HubError as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    Console().print(
        f"finding {finding_id} applied: {_action(finding)} queued "
        "(delivered by the dispatcher; see `hub outbox list`)"
    )


def _action(finding: Finding) -> str:
    proposal = finding.proposed_action
    if proposal is None:
        return "none (for the registry concerned)"
    return f"{str(proposal['target']).upper()} {proposal['operation']}"
