"""``hub clients``: who may call the API, for which purposes, with which key."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from hub.access import service
from hub.access.scopes import SCOPES
from hub.errors import HubError, InvalidInput
from hub.settings import get_settings
from hub.store.engine import make_engine, unit_of_work

app = typer.Typer(help="API clients, their scopes and keys.", no_args_is_help=True)

_SCOPE_HELP = "a purpose the client may use (repeat): " + ", ".join(SCOPES)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="the client's name, e.g. sas-portal")],
    scopes: Annotated[list[str], typer.Option("--scope", help=_SCOPE_HELP)],
    rate_limit: Annotated[
        int, typer.Option("--rate-limit", min=1, help="requests per minute")
    ] = 600,
    offices: Annotated[
        list[str] | None,
        typer.Option("--office", help="a CSW office code the client decides for (repeat)"),
    ] = None,
) -> None:
    """Register a client and print its API key once: the last line of the output is the key."""
    try:
        with unit_of_work(make_engine(get_settings().database_url)) as session:
            client, key = service.add_client(
                session,
                name=name,
                scopes=scopes,
                rate_limit_per_minute=rate_limit,
                offices=offices or (),
            )
    except HubError as error:
        _fail(error)
    err = Console(stderr=True)
    err.print(f"client [bold]{client.name}[/bold] added: {', '.join(client.scopes)}")
    err.print(
        f"key prefix {client.key_prefix}. The key below is shown only this once; "
        "the hub keeps only its hash. Store it now."
    )
    typer.echo(key)


@app.command("list")
def list_command() -> None:
    """Show every client with its key prefix, scopes and whether it is revoked."""
    with unit_of_work(make_engine(get_settings().database_url)) as session:
        clients = service.list_clients(session)
    if not clients:
        Console().print("no clients: add one with `hub clients add NAME --scope SCOPE`")
        return
    table = Table(title=f"API clients ({len(clients)})")
    for column in ("name", "key prefix", "scopes", "offices", "per minute", "created", "revoked"):
        table.add_column(column)
    for client in clients:
        table.add_row(
            client.name,
            client.key_prefix,
            ", ".join(client.scopes),
            ", ".join(client.offices),
            str(client.rate_limit_per_minute),
            client.created_at.strftime("%Y-%m-%d %H:%M"),
            client.revoked_at.strftime("%Y-%m-%d %H:%M") if client.revoked_at else "",
        )
    Console().print(table)


@app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="the client's name")]) -> None:
    """Revoke a client's key: every request with it is refused from now on."""
    try:
        with unit_of_work(make_engine(get_settings().database_url)) as session:
            client = service.revoke_client(session, name=name)
    except HubError as error:
        _fail(error)
    assert client.revoked_at is not None
    Console().print(f"client {client.name} revoked since {client.revoked_at:%Y-%m-%d %H:%M:%S} UTC")


def _fail(error: HubError) -> NoReturn:
    Console(stderr=True).print(f"[red]{error}[/red]")
    raise typer.Exit(2 if isinstance(error, InvalidInput) else 1) from error
