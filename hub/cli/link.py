"""``hub link``: link an external list of persons against the canonical store."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hub.cli.progress import progress
from hub.errors import HubError
from hub.identity.linking import link_file
from hub.settings import get_settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import current_revision


def link(
    file: Annotated[
        Path, typer.Argument(help="CSV with first_name,last_name,birth_date,municipality")
    ],
    out: Annotated[Path, typer.Option("--out", help="where to write the result CSV")],
) -> None:
    """Link each row of FILE to a known person: personal_no, score and link/review/none.

    Rows that cannot be read are written with their line number and the reason in the
    `error` column; every other row is still linked.
    """
    settings = get_settings()
    errors = Console(stderr=True, soft_wrap=True)
    engine = make_engine(settings.database_url)
    if current_revision(engine) is None:
        errors.print("[red]the database is empty:[/red] run `hub db upgrade` and ingest first")
        raise typer.Exit(2)
    started = time.perf_counter()
    try:
        with progress("linking rows") as update, unit_of_work(engine) as session:
            report = link_file(session, source=file, out=out, settings=settings, on_progress=update)
    except HubError as exc:
        errors.print(f"[red]cannot link:[/red] {exc}")
        raise typer.Exit(2) from exc
    elapsed = time.perf_counter() - started
    Console(soft_wrap=True).print(
        f"{report.rows:,} rows in {elapsed:.1f} s: {report.linked:,} linked, "
        f"{report.review:,} to review, {report.none:,} not found, {report.errors:,} with errors"
        f" → {out}"
    )
