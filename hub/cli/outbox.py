"""``hub outbox``: what waits to be delivered, what failed, and what an operator does about it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.errors import HubError
from hub.settings import get_settings
from hub.store.engine import make_engine, unit_of_work
from hub.sync import outbox as service
from hub.sync.dispatcher import Dispatcher
from hub.sync.models import MessageState

app = typer.Typer(help="Deliveries to the registries.", no_args_is_help=True)


@app.command("list")
def list_command(
    state: Annotated[
        MessageState | None, typer.Option("--state", help="only messages in this state")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
) -> None:
    """Show messages, newest first, with their state, attempts and last error."""
    with unit_of_work(make_engine(get_settings().database_url)) as session:
        messages = service.list_messages(session, state=state, limit=limit)
        totals = service.counts(session)
    summary = ", ".join(f"{name} {n:,}" for name, n in sorted(totals.items())) or "empty"
    table = Table(title=f"Outbox ({summary})")
    for column in (
        "id",
        "flow",
        "target",
        "operation",
        "state",
        "attempts",
        "updated",
        "last error",
    ):
        table.add_column(column)
    for message in messages:
        table.add_row(
            str(message.id),
            message.flow,
            message.target_registry.upper(),
            message.operation,
            message.state,
            str(message.attempts),
            message.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
            message.last_error or message.discard_reason or "",
        )
    Console().print(table)


@app.command("retry")
def retry(
    message_id: Annotated[int | None, typer.Argument(help="a dead message's id")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="every dead message")] = False,
) -> None:
    """Send a dead message (or all of them) again."""
    if (message_id is None) == (not all_dead):
        Console(stderr=True).print("give a message id or --all-dead (not both)")
        raise typer.Exit(2)
    try:
        with unit_of_work(make_engine(get_settings().database_url)) as session:
            if all_dead:
                count = service.retry_all_dead(session)
                Console().print(f"{count:,} dead messages will be delivered again")
                return
            assert message_id is not None
            service.retry(session, message_id=message_id)
    except HubError as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    Console().print(f"message {message_id} will be delivered again")


@app.command("discard")
def discard(
    message_id: Annotated[int, typer.Argument(help="a pending or dead message's id")],
    reason: Annotated[str, typer.Option("--reason", help="why it must not be delivered")],
) -> None:
    """Decide a message must not be delivered; it stays in the outbox with the reason."""
    try:
        with unit_of_work(make_engine(get_settings().database_url)) as session:
            service.discard(session, message_id=message_id, reason=reason)
    except HubError as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    Console().print(f"message {message_id} discarded")


@app.command("dispatch")
def dispatch(
    timeout: Annotated[
        float, typer.Option("--timeout", help="give up after this many seconds")
    ] = 600.0,
) -> None:
    """Deliver pending messages now, until none is pending (dead letters stay dead)."""
    settings = get_settings()
    dispatcher = Dispatcher(make_engine(settings.database_url), settings)
    try:
        report = dispatcher.drain(timeout=timeout)
    finally:
        dispatcher.close()
    Console().print(
        f"{report.delivered:,} delivered ({report.duplicates:,} already applied), "
        f"{report.retried:,} retries, {report.dead:,} dead"
    )
