"""``hub db``: schema migrations."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from hub.settings import get_settings
from hub.store.engine import make_engine
from hub.store.migrate import current_revision, head_revision, upgrade

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
) -> None:
    """Apply the migrations up to REVISION (default: the newest)."""
    engine = make_engine(get_settings().database_url)
    upgrade(engine, revision)
    Console().print(f"database at revision [bold]{current_revision(engine)}[/bold]")


@app.command("current")
def current_command() -> None:
    """Show the database's revision and the newest one this hub ships."""
    engine = make_engine(get_settings().database_url)
    current, head = current_revision(engine), head_revision(engine)
    Console().print(f"current: {current or '(empty database)'}  head: {head}")
    if current != head:
        Console(stderr=True).print("the database is behind: run `hub db upgrade`")
        raise typer.Exit(1)
