"""``hub demo``: the whole job on a synthetic population, end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.cli.progress import progress_board
from hub.demo.run import DemoSummary, run_demo
from hub.errors import HubError
from hub.settings import get_settings


def demo(
    persons: Annotated[int, typer.Option("--persons", min=100, help="population size")] = 10_000,
    as_json: Annotated[
        bool, typer.Option("--json", help="last stdout line is a JSON summary")
    ] = False,
    workdir: Annotated[Path, typer.Option("--workdir", help="where data goes")] = Path("var/demo"),
) -> None:
    """Generate a population, start the five mock registries, run the hub against them."""
    console = Console()
    settings = get_settings()
    try:
        with progress_board() as board:
            summary = run_demo(
                persons=persons,
                workdir=workdir,
                settings=settings,
                on_generate=board.task("generating population"),
                on_read=board.task("reading registries"),
            )
    except HubError as exc:
        Console(stderr=True).print(f"[red]demo failed:[/red] {exc}")
        raise typer.Exit(2) from exc
    _print(console, summary)
    if as_json:
        print(json.dumps(summary.as_json(), separators=(",", ":"), sort_keys=True))
    if not summary.ok:
        raise typer.Exit(1)


def _print(console: Console, summary: DemoSummary) -> None:
    table = Table(title=f"Registries read through their contracts ({summary.persons:,} persons)")
    for column in ("registry", "records read", "per kind", "manifest", "seconds"):
        table.add_column(column)
    for line in summary.registries:
        kinds = ", ".join(f"{kind} {n:,}" for kind, n in line.read.items())
        verdict = "[green]complete[/green]" if line.matches else "[red]MISMATCH[/red]"
        table.add_row(
            line.registry.upper(),
            f"{sum(line.read.values()):,}",
            kinds,
            verdict,
            f"{line.seconds:.1f}",
        )
    console.print(table)
    console.print(
        f"generated in {summary.generate_seconds:.1f} s; whole demo {summary.total_seconds:.1f} s"
    )
