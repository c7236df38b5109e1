"""The monthly counts on a store filled from the mocks agree with counts made without the hub."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from hub.canonical import JobseekerRegistration, ReturneeCase
from hub.report import (
    DIMENSIONS,
    MEASURES,
    Measure,
    Month,
    MonthlyReport,
    build_monthly_report,
)
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from mocks.core.server import RunningRegistries
from tests.report.truth import GeneratedFiles
from tests.support.store import fill_store

MONTHS = [Month.parse(m) for m in ("2026-10", "2026-09", "2026-07", "2026-03", "2025-06")]
FROM_FILES: tuple[Measure, ...] = (
    "jobseekers",
    "certificates_issued",
    "certificates_revoked",
    "refusals_justified",
    "refusals_unjustified",
    "returnees_employed",
)
"""The measures the generated files answer alone (suspensions are the hub's own decisions)."""


def _report(url: str, month: Month) -> MonthlyReport:
    with unit_of_work(make_engine(url)) as session:
        return build_monthly_report(session, month=month)


def _assert_breakdowns_add_up(report: MonthlyReport) -> None:
    for measure in MEASURES:
        for dimension in DIMENSIONS:
            counts = [count for _, count in report.breakdown(measure, dimension)]
            assert sum(counts) == report.total(measure), (measure, dimension)


def _a_month_with_returnees_employed(files: GeneratedFiles) -> Month:
    """The latest month of the two years before the data's end in which a returnee started
    work (the fixed months may have none, depending on the population drawn)."""
    for year, month in ((y, m) for y in (2026, 2025) for m in range(12, 0, -1)):
        candidate = Month.parse(f"{year}-{month:02d}")
        if files.returnees_employed(candidate):
            return candidate
    raise AssertionError("no returnee found work in two years of generated data")


def test_totals_agree_with_the_generated_files(
    database_url: str,
    registries: RunningRegistries,
    files: GeneratedFiles,
    reference_day: date,
) -> None:
    engine = fill_store(database_url, registries, reference_day)
    seen: dict[Measure, int] = dict.fromkeys(MEASURES, 0)
    for month in [*MONTHS, _a_month_with_returnees_employed(files)]:
        report = _report(database_url, month)
        totals = report.totals()
        assert {m: totals[m] for m in FROM_FILES} == files.totals(month), month
        with engine.connect() as connection:
            suspensions = connection.execute(
                text(
                    "SELECT count(*) FROM suspension WHERE suspended_from BETWEEN :a AND :b"
                    " AND status IN ('confirmed', 'lifted')"
                ),
                {"a": month.first_day, "b": month.last_day},
            ).scalar_one()
        assert totals["suspensions"] == suspensions
        assert totals["returnees_referred"] == 0  # nothing was dispatched to EMIS
        _assert_breakdowns_add_up(report)
        for measure, count in totals.items():
            seen[measure] += count
    engine.dispose()
    # the months chosen exercise every measure the mocks' data holds
    assert [m for m in MEASURES if m != "returnees_referred" and not seen[m]] == [], seen


def test_jobseeker_breakdowns_agree_with_the_generated_files(
    filled_url: str, files: GeneratedFiles
) -> None:
    month = Month.parse("2026-10")
    report = _report(filled_url, month)
    for dimension in DIMENSIONS:
        reported = {v: n for v, n in report.breakdown("jobseekers", dimension) if n}
        assert reported == dict(files.jobseekers_by(month, dimension)), dimension


def test_a_referral_emis_registered_counts_in_its_month(private_url: str, filled_url: str) -> None:
    engine = make_engine(private_url)
    with unit_of_work(engine) as session:
        case = session.exec(select(ReturneeCase).order_by(col(ReturneeCase.returnee_key))).first()
        assert case is not None
        session.add(
            JobseekerRegistration(
                jobseeker_key="JS-9000001",
                person_id=None,  # EMIS's referral record is not linked yet
                status="active",
                registered_on=date(2026, 10, 15),
                returnee_key=case.returnee_key,
                source_registry="emis",
                as_of=datetime(2026, 10, 15, 9, tzinfo=UTC),
            )
        )
        municipality, sex = case.municipality_code, case.sex
    before = _report(private_url, Month.parse("2026-09"))
    after = _report(private_url, Month.parse("2026-10"))
    assert before.total("returnees_referred") == 0
    assert after.total("returnees_referred") == 1
    assert dict(after.breakdown("returnees_referred", "municipality"))[str(municipality)] == 1
    assert dict(after.breakdown("returnees_referred", "sex"))[str(sex)] == 1
    # the case's identified person stands in for EMIS's unlinked record
    assert dict(after.breakdown("returnees_referred", "category"))["unknown"] == 0
    untouched = _report(filled_url, Month(2026, 10))
    assert after.total("jobseekers") == untouched.total("jobseekers") + 1
    _assert_breakdowns_add_up(after)


def test_a_month_without_records_counts_zero(sqlite_url: str) -> None:
    upgrade(make_engine(sqlite_url))
    report = _report(sqlite_url, Month.parse("2026-10"))
    assert report.empty
    assert report.totals() == dict.fromkeys(MEASURES, 0)


@pytest.mark.parametrize("month", ["1999-01", "2040-12"])
def test_months_outside_the_data_count_nothing_but_old_registrations(
    filled_url: str, files: GeneratedFiles, month: str
) -> None:
    report = _report(filled_url, Month.parse(month))
    totals = report.totals()
    assert totals["jobseekers"] == len(files.jobseekers_active(Month.parse(month)))
    assert all(count == 0 for measure, count in totals.items() if measure != "jobseekers")
