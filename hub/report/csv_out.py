"""The monthly report as CSV: one tidy file of breakdowns, one of national totals.

File names are stable, so a month's files overwrite the last run's:
``monthly-YYYY-MM.csv`` (``month, measure, dimension, value, count``) and
``monthly-YYYY-MM-totals.csv`` (``month, measure, count``). Municipalities are
written as their two-digit civil-registry codes (code list ``municipalities``).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from hub.report.models import DIMENSIONS, MEASURES, MonthlyReport

TIDY_COLUMNS = ("month", "measure", "dimension", "value", "count")
TOTALS_COLUMNS = ("month", "measure", "count")


def tidy_path(out: Path, report: MonthlyReport) -> Path:
    """Where the breakdowns of ``report`` go."""
    return out / f"monthly-{report.month}.csv"


def totals_path(out: Path, report: MonthlyReport) -> Path:
    """Where the totals of ``report`` go."""
    return out / f"monthly-{report.month}-totals.csv"


def write_csv(report: MonthlyReport, out: Path) -> list[Path]:
    """Write both CSV files into ``out`` (which must exist); their paths."""
    month = str(report.month)
    tidy = [
        (month, measure, dimension, value, count)
        for measure in MEASURES
        for dimension in DIMENSIONS
        for value, count in report.breakdown(measure, dimension)
    ]
    totals = [(month, measure, count) for measure, count in report.totals().items()]
    return [
        _write(tidy_path(out, report), TIDY_COLUMNS, tidy),
        _write(totals_path(out, report), TOTALS_COLUMNS, totals),
    ]


def _write(path: Path, header: Sequence[str], rows: Sequence[Sequence[str | int]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path
