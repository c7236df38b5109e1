"""``hub fixtures``: the deterministic synthetic population."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fixtures.generate import generate_population
from hub.cli.progress import progress

app = typer.Typer(help="Synthetic registry data.", no_args_is_help=True)


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", help="folder to write the five registries into")],
    persons: Annotated[int, typer.Option("--persons", min=1, help="how many persons")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="same seed, same bytes")] = 2026,
) -> None:
    """Write what EMIS, SAS, TAK, CRA and CMS hold for N persons, plus manifest.json."""
    started = time.perf_counter()
    with progress("generating population") as update:
        manifest = generate_population(persons=persons, seed=seed, out=out, on_progress=update)
    elapsed = time.perf_counter() - started
    totals = {reg: sum(files.values()) for reg, files in manifest["counts"].items()}
    summary = ", ".join(f"{reg} {n:,}" for reg, n in totals.items())
    Console().print(f"{persons:,} persons (seed {seed}) in {elapsed:.1f} s → {out}: {summary}")
