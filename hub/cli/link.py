"""``hub link``: link an external list of persons against the canonical store."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from hub.audit.service import audit_cli_read
from hub.cli.errors import EXIT_FAILED, EXIT_STORE, EXIT_USAGE
from hub.cli.progress import progress
from hub.errors import HubError
from hub.identity.external import check_output
from hub.identity.linking import LinkReport, link_file
from hub.settings import get_settings
from hub.store.engine import make_engine, normalise_url, unit_of_work
from hub.store.migrate import current_revision

SHOWN_WARNINGS = 10


def link(
    file: Annotated[
        Path, typer.Argument(help="CSV with first_name,last_name,birth_date,municipality")
    ],
    out: Annotated[Path, typer.Option("--out", help="where to write the result CSV")],
    model: Annotated[
        bool, typer.Option("--model", help="also print the match model's weights")
    ] = False,
) -> None:
    """Link each row of FILE to a known person: personal_no, score and link/review/none.

    The score is the probability that the row is that person. Rows that cannot be read
    are written with their line number and what is wrong in the `error` column, and the
    command exits 1; every other row is still linked. A municipality the hub does not know
    is left out of the match and named in the `warning` column.
    """
    settings = get_settings()
    errors = Console(stderr=True, soft_wrap=True)
    try:
        check_output(out)
    except HubError as exc:
        errors.print(f"[red]cannot link:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    missing = _missing_store(settings.database_url)
    if missing is not None:
        errors.print(
            f"[red]no hub store at {missing}:[/red] check HUB_DATABASE_URL, or create it "
            "with `hub db upgrade` and ingest first"
        )
        raise typer.Exit(EXIT_STORE)
    engine = make_engine(settings.database_url)
    if current_revision(engine) is None:
        errors.print("[red]the database is empty:[/red] run `hub db upgrade` and ingest first")
        raise typer.Exit(EXIT_STORE)
    started = time.perf_counter()
    try:
        with progress("linking rows") as update, unit_of_work(engine) as session:
            report = link_file(session, source=file, out=out, settings=settings, on_progress=update)
            # the file names persons by their personal number: each is audited with it
            audit_cli_read(
                session,
                report.persons_written,
                purpose="link",
                target="hub link",
                fields=("personal_no", "score"),
            )
    except HubError as exc:
        errors.print(f"[red]cannot link:[/red] {exc}")
        raise typer.Exit(EXIT_USAGE) from exc
    _print(report, out, time.perf_counter() - started, model, errors)
    if report.errors:
        raise typer.Exit(EXIT_FAILED)


def _missing_store(url: str) -> Path | None:
    """The SQLite file the URL names, if it does not exist (linking never creates one)."""
    parsed = make_url(normalise_url(url))
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    path = Path(database)
    return None if path.is_file() else path


def _print(report: LinkReport, out: Path, elapsed: float, model: bool, errors: Console) -> None:
    console = Console(soft_wrap=True)
    console.print(
        f"{report.rows:,} rows in {elapsed:.1f} s: {report.linked:,} linked, "
        f"{report.review:,} to review, {report.none:,} not found, {report.errors:,} with errors"
        f" → {out}"
    )
    t = report.thresholds
    if t is not None:
        console.print(
            f"thresholds from the model: link from p {t.link:.3f} (expected precision of the "
            f"links {t.link_precision:.4f}), review from p {t.review:.3f} (expected precision "
            f"{t.review_precision:.2f}), none below (expected known persons among them "
            f"{t.missed:.1f})"
        )
    if model:
        for name, levels in report.weights.items():
            console.print(
                f"  {name}: " + ", ".join(f"{level} {w:+.1f}" for level, w in levels.items())
            )
    for warning in report.warnings[:SHOWN_WARNINGS]:
        errors.print(f"[yellow]warning:[/yellow] {warning}")
    if len(report.warnings) > SHOWN_WARNINGS:
        errors.print(f"… {len(report.warnings) - SHOWN_WARNINGS:,} more warnings in {out}")
    if report.errors:
        errors.print(
            f"[red]{report.errors:,} rows could not be linked:[/red] see the error column of {out}"
        )
