"""The report's pure parts: parsing a month, zero-filled breakdowns that add up."""

from __future__ import annotations

from datetime import date

import pytest

from hub.errors import InvalidInput
from hub.report import DIMENSIONS, MEASURES, Cell, Month, MonthlyReport
from hub.report.models import domain


def test_a_month_knows_its_first_and_last_day() -> None:
    month = Month.parse("2028-02")
    assert (month.first_day, month.last_day) == (date(2028, 2, 1), date(2028, 2, 29))
    assert str(month) == "2028-02"
    assert Month.parse(" 2026-10 ") == Month(2026, 10)


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-1", "26-10", "2026/10", "2026-10-01", "October", ""]
)
def test_a_malformed_month_is_the_callers_mistake(text: str) -> None:
    with pytest.raises(InvalidInput, match="YYYY-MM") as caught:
        Month.parse(text)
    assert caught.value.field == "month"


def test_breakdowns_list_every_value_and_add_up_to_the_total() -> None:
    cells = (
        Cell("jobseekers", "01", "F", "II", 3),
        Cell("jobseekers", "01", "M", "none", 2),
        Cell("jobseekers", "99", "M", "unknown", 1),  # a code the code list lacks
        Cell("refusals_justified", "02", "F", "I", 4),
    )
    report = MonthlyReport(month=Month(2026, 10), cells=cells)
    assert report.total("jobseekers") == 6
    for dimension in DIMENSIONS:
        pairs = report.breakdown("jobseekers", dimension)
        assert sum(count for _, count in pairs) == 6
        assert [value for value, _ in pairs][: len(domain(dimension))] == list(domain(dimension))
    municipalities = dict(report.breakdown("jobseekers", "municipality"))
    assert (municipalities["01"], municipalities["38"], municipalities["99"]) == (5, 0, 1)
    assert dict(report.breakdown("jobseekers", "sex")) == {"M": 3, "F": 3, "unknown": 0}
    assert not report.empty


def test_a_report_without_cells_is_empty_and_all_zero() -> None:
    report = MonthlyReport(month=Month(1999, 1), cells=())
    assert report.empty
    assert report.totals() == dict.fromkeys(MEASURES, 0)
    assert len(report.breakdown("suspensions", "municipality")) == 39  # 38 and unknown
