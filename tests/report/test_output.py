"""The files a ministry receives: tidy CSVs that add up, valid PNG charts, nothing personal."""

from __future__ import annotations

import csv
import struct
from collections import defaultdict
from pathlib import Path

import pytest

from hub.report import DIMENSIONS, MEASURES, Month, MonthlyReport, build_monthly_report
from hub.report.charts import write_charts
from hub.report.csv_out import TIDY_COLUMNS, TOTALS_COLUMNS, write_csv
from hub.report.models import domain
from hub.store.engine import make_engine, unit_of_work

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report(filled_store: Path) -> MonthlyReport:
    """October 2026 of the filled store."""
    with unit_of_work(make_engine(f"sqlite:///{filled_store}")) as session:
        return build_monthly_report(session, month=Month.parse("2026-10"))


@pytest.fixture(scope="module")
def written(report: MonthlyReport, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every file of the report, written once for the module."""
    out = tmp_path_factory.mktemp("monthly")
    return write_csv(report, out) + write_charts(report, out)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_file_names_are_stable(written: list[Path]) -> None:
    expected = {"monthly-2026-10.csv", "monthly-2026-10-totals.csv", "monthly-2026-10-totals.png"}
    expected |= {f"monthly-2026-10-{measure}.png" for measure in MEASURES}
    assert {path.name for path in written} == expected
    assert len(written) == len(expected)


def test_the_tidy_csv_parses_and_adds_up_to_the_totals_csv(
    written: list[Path], report: MonthlyReport
) -> None:
    tidy, totals = _rows(written[0]), _rows(written[1])
    assert tuple(tidy[0]) == TIDY_COLUMNS
    assert tuple(totals[0]) == TOTALS_COLUMNS
    assert {row["month"] for row in tidy + totals} == {"2026-10"}
    assert len(tidy) == len(MEASURES) * sum(len(domain(d)) for d in DIMENSIONS)
    national = {row["measure"]: int(row["count"]) for row in totals}
    assert national == report.totals()
    sums: dict[tuple[str, str], int] = defaultdict(int)
    for row in tidy:
        assert int(row["count"]) >= 0
        sums[row["measure"], row["dimension"]] += int(row["count"])
    assert sums == {(m, d): national[m] for m in MEASURES for d in DIMENSIONS}


def test_the_csv_holds_aggregates_only(written: list[Path]) -> None:
    for row in _rows(written[0]):
        assert row["dimension"] in DIMENSIONS
        assert row["value"] in domain(row["dimension"])  # narrowed by the line above
        assert row["measure"] in MEASURES


def test_the_charts_are_png_images(written: list[Path]) -> None:
    charts = [path for path in written if path.suffix == ".png"]
    assert len(charts) == len(MEASURES) + 1
    for path in charts:
        data = path.read_bytes()
        assert data[:8] == PNG_SIGNATURE, path.name
        assert data[12:16] == b"IHDR"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 800, path.name
        assert height >= 400, path.name
        assert len(data) > 10_000, path.name  # drawn bars and labels, not a blank canvas
