"""``hub review``: the queue of uncertain identity pairs."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hub.audit.service import audit_cli_read
from hub.errors import HubError
from hub.identity import review as service
from hub.identity.matching import reasons_text
from hub.identity.review import Side
from hub.settings import get_settings
from hub.store.engine import make_engine, unit_of_work

app = typer.Typer(help="Uncertain identity pairs an operator decides.", no_args_is_help=True)

_SHOWN = ("first_name", "last_name", "birth_date", "municipality")

DecidedBy = Annotated[
    str, typer.Option("--by", help="who decides (default: the login name)", show_default=False)
]


@app.command("list")
def list_command(
    limit: Annotated[int, typer.Option("--limit", min=1, help="how many pairs")] = 50,
) -> None:
    """Show pending pairs, most likely first, with why the model scored each so."""
    with unit_of_work(make_engine(get_settings().database_url)) as session:
        pending = service.list_pending(session, limit=limit)
        # names and birth dates are shown: each person audited before the table is printed
        audit_cli_read(
            session,
            (item.person_id for item in pending),
            purpose="review",
            target="hub review list",
            fields=_SHOWN,
        )
    if not pending:
        Console().print("no pairs waiting for review")
        return
    table = Table(title="Pending identity pairs")
    for column in ("id", "record", "as recorded", "person", "as registered", "p", "why"):
        table.add_column(column)
    for item in pending:
        table.add_row(
            str(item.pair_id),
            f"{item.source_registry.upper()} {item.record_key}",
            _describe(item.record),
            str(item.person_id),
            _describe(item.person),
            f"{item.score:.3f}",
            _why(item.components),
        )
    Console().print(table)
    Console().print(
        "p: the model's probability that the record is this person; why: each field's level "
        "of agreement and its weight in bits (positive for, negative against)"
    )


@app.command("accept")
def accept(
    pair_id: Annotated[int, typer.Argument(help="the pair's id from `hub review list`")],
    by: DecidedBy = "",
) -> None:
    """Link the record to the person; the record's other pending pairs are rejected."""
    _decide(service.accept, pair_id, by)


@app.command("reject")
def reject(
    pair_id: Annotated[int, typer.Argument(help="the pair's id from `hub review list`")],
    by: DecidedBy = "",
) -> None:
    """Record that the pair is not the same human; it will not be proposed again."""
    _decide(service.reject, pair_id, by)


def _decide(action: service.Decide, pair_id: int, by: str) -> None:
    try:
        with unit_of_work(make_engine(get_settings().database_url)) as session:
            pair = action(session, pair_id=pair_id, decided_by=by or getpass.getuser())
    except HubError as exc:
        Console(stderr=True).print(f"[red]cannot decide pair {pair_id}:[/red] {exc}")
        raise typer.Exit(1) from exc
    linked = f": {pair.record_key} linked to person {pair.person_id}"
    Console().print(f"pair {pair_id} {pair.status}{linked if pair.status == 'accepted' else ''}")


def _why(components: dict[str, Any]) -> str:
    text = reasons_text(components)
    thresholds = components.get("thresholds")
    if isinstance(thresholds, dict) and "link" in thresholds:
        text += f"; link from p {thresholds['link']:.3f}"
    return text


def _describe(side: Side | None) -> str:
    if side is None:
        return "(record gone)"
    name = " ".join(part for part in (side.first_name, side.last_name) if part)
    born = side.birth_date.isoformat() if side.birth_date else "?"
    return f"{name}, born {born}, municipality {side.municipality_code or '?'}"
