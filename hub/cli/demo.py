"""``hub demo``: the whole job on a synthetic population, end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.cli.progress import ProgressBoard, progress_board
from hub.demo.run import RECONCILE_TARGETS, DemoSummary, run_demo
from hub.settings import REGISTRY_NAMES, RegistryName, get_settings


def demo(
    persons: Annotated[int, typer.Option("--persons", min=100, help="population size")] = 10_000,
    as_json: Annotated[
        bool, typer.Option("--json", help="last stdout line is a JSON summary")
    ] = False,
    workdir: Annotated[Path, typer.Option("--workdir", help="where data goes")] = Path("var/demo"),
    serve: Annotated[
        bool,
        typer.Option("--serve", help="afterwards keep the API and console running (Ctrl-C stops)"),
    ] = False,
    host: Annotated[str, typer.Option("--host", help="with --serve: interface")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="with --serve")] = 8000,
) -> None:
    """Generate a population, start the five mock registries, ingest them, run every flow."""
    console = Console(width=None if Console().is_terminal else 120)
    settings = get_settings()
    with ExitStack() as keep:  # with --serve, the mock registries live until the hub stops
        # a failure ends through the CLI's error boundary: one line, the table's exit code
        with progress_board() as board:
            summary = run_demo(
                persons=persons,
                workdir=workdir,
                settings=settings,
                on_generate=board.task("generating population"),
                on_ingest=_per_registry(board),
                keep_running=keep if serve else None,
            )
        _print(console, summary)
        if as_json:
            print(json.dumps(summary.as_json(), separators=(",", ":"), sort_keys=True))
        if serve:
            from hub.demo.serve import serve_demo

            serve_demo(summary, settings, host=host, port=port, say=_say)
    if not summary.ok:
        raise typer.Exit(1)


def _per_registry(board: ProgressBoard) -> Callable[[RegistryName, int], None]:
    tasks = {name: board.task(f"ingesting {name.upper()}") for name in REGISTRY_NAMES}

    def update(registry: RegistryName, done: int) -> None:
        tasks[registry](done, 0)

    return update


def _print(console: Console, summary: DemoSummary) -> None:
    table = Table(
        title=f"Registries ingested through their contracts ({summary.persons:,} persons)"
    )
    for column in (
        "registry",
        "read",
        "mapped",
        "quarantined",
        "linked",
        "to review",
        "seconds",
        "",
    ):
        table.add_column(column)
    for line in summary.registries:
        verdict = (
            "[green]complete[/green]" if line.complete else f"[red]{line.error or 'MISSING'}[/red]"
        )
        table.add_row(
            line.registry.upper(),
            f"{line.read:,}",
            f"{line.mapped:,}",
            f"{line.quarantined:,}",
            f"{line.linked:,}",
            f"{line.review:,}",
            f"{line.seconds:.1f}",
            verdict,
        )
    console.print(table)
    if summary.identity is not None:
        identity = summary.identity
        console.print(
            f"returnees without personal number: {identity.returnees:,}; "
            f"linked {identity.links:,}, precision {identity.precision:.3f}, "
            f"recall {identity.recall:.3f} (targets 0.99 / 0.95)"
        )
    flows = Table(title="Sync flows: what the registries received, against the manifest")
    for column in ("flow", "expected", "delivered", "missing", "unexpected"):
        flows.add_column(column)
    for check in summary.flows:
        style = "" if check.ok else "[red]"
        flows.add_row(
            check.flow,
            f"{check.expected:,}",
            f"{check.delivered:,}",
            f"{style}{check.missing:,}",
            f"{style}{check.unexpected:,}",
        )
    console.print(flows)
    if summary.dead_letters:
        console.print(
            f"[red]{summary.dead_letters:,} dead letters[/red]: `hub outbox list --state dead`"
        )
    if summary.reconcile:
        console.print(_reconcile_table(summary))
    console.print(
        f"generated in {summary.generate_seconds:.1f} s; reconciled in "
        f"{summary.reconcile_seconds:.1f} s; whole demo {summary.total_seconds:.1f} s"
    )


def _reconcile_table(summary: DemoSummary) -> Table:
    recall, precision = RECONCILE_TARGETS
    table = Table(
        title="Reconciliation: findings against the planted inconsistencies "
        f"(targets recall {recall:.2f}, precision {precision:.2f})"
    )
    for column in ("finding kind", "planted", "found", "precision", "recall"):
        table.add_column(column)
    for check in summary.reconcile:
        style = "" if check.ok else "[red]"
        table.add_row(
            check.kind,
            f"{check.expected:,}",
            f"{check.found:,}",
            f"{style}{check.precision:.3f}",
            f"{style}{check.recall:.3f}",
        )
    return table


def _say(line: str) -> None:
    """A plain line on stdout: a key must not be wrapped or styled."""
    print(line, flush=True)
