"""``hub report``: the statistical reports a ministry files, written as CSV and PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hub.errors import HubError, InvalidInput
from hub.report import MEASURE_LABELS, Month, MonthlyReport, build_monthly_report
from hub.report.charts import write_charts
from hub.report.csv_out import write_csv
from hub.settings import get_settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import current_revision, head_revision

app = typer.Typer(help="Statistical reports (aggregates only).", no_args_is_help=True)


@app.command("monthly")
def monthly(
    month: Annotated[str, typer.Option("--month", help="the month to report, YYYY-MM")],
    out: Annotated[Path, typer.Option("--out", help="folder for the files (created if missing)")],
) -> None:
    """Count jobseekers, certificates, refusals, suspensions and returnees of one month.

    Writes a tidy CSV of breakdowns by municipality, sex and category, a CSV of
    totals and one PNG chart per measure; a rerun overwrites the month's files.
    """
    err = Console(stderr=True)
    try:
        period = Month.parse(month)
    except InvalidInput as error:
        err.print(f"--month: {error}")
        raise typer.Exit(2) from None
    engine = make_engine(get_settings().database_url)
    if current_revision(engine) != head_revision(engine):
        err.print("the database is not at the newest schema: run `hub db upgrade` first")
        raise typer.Exit(1)
    try:
        with unit_of_work(engine) as session:
            report = build_monthly_report(session, month=period)
    except HubError as error:
        err.print(f"[red]report failed:[/red] {error}")
        raise typer.Exit(1) from error
    try:
        out.mkdir(parents=True, exist_ok=True)
        tables, charts = write_csv(report, out), write_charts(report, out)
    except OSError as error:
        err.print(f"cannot write the report into {out}: {error.strerror or error}")
        raise typer.Exit(1) from None
    _print_summary(Console(), report, out, tables, charts)


def _print_summary(
    console: Console, report: MonthlyReport, out: Path, tables: list[Path], charts: list[Path]
) -> None:
    table = Table(title=f"Monthly report {report.month}")
    table.add_column("measure")
    table.add_column("count", justify="right")
    for measure, count in report.totals().items():
        table.add_row(MEASURE_LABELS[measure], f"{count:,}")
    console.print(table)
    if report.empty:
        console.print(f"no records in {report.month}: the files hold zeros")
    tidy, totals = tables
    written = [
        (tidy.name, "breakdowns by municipality, sex and category"),
        (totals.name, "national totals"),
        (charts[0].name, "chart of the national totals"),
        (f"monthly-{report.month}-<measure>.png", f"{len(charts) - 1} charts, one per measure"),
    ]
    console.print(f"wrote into {out}:")
    width = max(len(name) for name, _ in written)
    for name, what in written:
        console.print(f"  {name:<{width}}  {what}", highlight=False)
