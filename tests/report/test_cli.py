"""``hub report monthly`` as an operator runs it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.main import app as root
from hub.report import MEASURE_LABELS, MEASURES, Month, build_monthly_report
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade

runner = CliRunner()


def _env(url: str) -> dict[str, str]:
    return {"HUB_DATABASE_URL": url, "HUB_LOG_FORMAT": "json"}


def test_monthly_writes_the_files_and_prints_the_totals(filled_url: str, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "2026"  # created on the way
    result = runner.invoke(
        root, ["report", "monthly", "--month", "2026-10", "--out", str(out)], env=_env(filled_url)
    )
    assert result.exit_code == 0, result.output
    names = {path.name for path in out.iterdir()}
    assert {"monthly-2026-10.csv", "monthly-2026-10-totals.csv"} <= names
    assert {f"monthly-2026-10-{m}.png" for m in MEASURES} <= names
    with unit_of_work(make_engine(filled_url)) as session:
        totals = build_monthly_report(session, month=Month(2026, 10)).totals()
    assert "Monthly report 2026-10" in result.output
    for measure in MEASURES:
        line = next(row for row in result.output.splitlines() if MEASURE_LABELS[measure] in row)
        assert f" {totals[measure]:,} " in line
    assert str(out) in result.output.replace("\n", "")
    assert "no records" not in result.output


@pytest.fixture
def empty_url(sqlite_url: str) -> str:
    """A migrated store holding nothing."""
    upgrade(make_engine(sqlite_url))
    return sqlite_url


def test_a_month_without_data_still_writes_zeros(empty_url: str, tmp_path: Path) -> None:
    result = runner.invoke(
        root,
        ["report", "monthly", "--month", "2040-01", "--out", str(tmp_path)],
        env=_env(empty_url),
    )
    assert result.exit_code == 0, result.output
    assert "no records in 2040-01: the files hold zeros" in result.output
    with (tmp_path / "monthly-2040-01-totals.csv").open(encoding="utf-8") as handle:
        assert {row["count"] for row in csv.DictReader(handle)} == {"0"}
    assert (tmp_path / "monthly-2040-01-jobseekers.png").stat().st_size > 10_000


def test_a_store_not_migrated_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    result = runner.invoke(
        root,
        ["report", "monthly", "--month", "2026-10", "--out", str(tmp_path)],
        env=_env(sqlite_url),
    )
    assert result.exit_code == 1
    assert "hub db upgrade" in result.output


def test_an_out_folder_that_is_a_file_is_refused(empty_url: str, tmp_path: Path) -> None:
    occupied = tmp_path / "taken"
    occupied.write_text("not a folder")
    result = runner.invoke(
        root,
        ["report", "monthly", "--month", "2026-10", "--out", str(occupied)],
        env=_env(empty_url),
    )
    assert result.exit_code == 1
    assert "cannot write the report" in result.output


@pytest.mark.parametrize("month", ["2026-13", "10-2026", "2026-10-31", "oct"])
def test_a_malformed_month_exits_2_and_says_the_format(
    filled_url: str, tmp_path: Path, month: str
) -> None:
    out = tmp_path / "never"
    result = runner.invoke(
        root, ["report", "monthly", "--month", month, "--out", str(out)], env=_env(filled_url)
    )
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output
    assert not out.exists()
