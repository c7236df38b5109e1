"""``hub registries``: reach the configured registries through their contracts."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from hub.cli.progress import progress_board
from hub.ingest.feeds import read_all_feeds
from hub.settings import REGISTRY_NAMES, RegistryName, get_settings

app = typer.Typer(help="The registries the hub talks to.", no_args_is_help=True)


@app.command("read")
def read() -> None:
    """Read every registry's change feed from the start and count the records per kind."""
    settings = get_settings()
    # a registry that refuses or is down ends through the CLI's error boundary (exit 1)
    with progress_board() as board:
        tasks = {name: board.task(f"reading {name.upper()}") for name in REGISTRY_NAMES}

        def on_progress(registry: RegistryName, done: int) -> None:
            tasks[registry](done, 0)

        results = read_all_feeds(settings, on_progress=on_progress)
    table = Table(title="Change feeds")
    for column in ("registry", "changes", "pages", "per kind", "seconds"):
        table.add_column(column)
    for name, result in results.items():
        kinds = ", ".join(f"{kind} {n:,}" for kind, n in sorted(result.by_kind.items()))
        table.add_row(
            name.upper(), f"{result.changes:,}", str(result.pages), kinds, f"{result.seconds:.1f}"
        )
    Console().print(table)
