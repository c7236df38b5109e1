"""Reports: the monthly report as charts and CSV, and how long returnees waited for referral.

Aggregates only (:mod:`hub.report`): no person is shown, so nothing here is audited.
Charts are SVG drawn on the server, each followed by its numbers in a table.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlmodel import Session, col
from starlette.responses import Response

from hub.canonical import JobseekerRegistration, Refusal, ReturneeCase
from hub.console.records import engine_of
from hub.console.web import PREFIX, REPORT_SCOPES, ConsoleUser, User, render, secured
from hub.errors import InvalidInput
from hub.mappings.codelists import load_codelists
from hub.report import DIMENSIONS, MEASURES, Measure, Month, MonthlyReport, build_monthly_report
from hub.report.csv_out import TIDY_COLUMNS, TOTALS_COLUMNS
from hub.store.engine import unit_of_work
from hub.store.types import utc_now

router = APIRouter()

REPORTS = f"{PREFIX}/reports"
REFERRAL_BUCKETS = ((0, 7), (8, 30), (31, 90), (91, None))
"""Days from return to EMIS registration, as the referral chart groups them."""


@dataclass(frozen=True)
class Bar:
    """One bar of a chart."""

    label: str
    value: int
    y: int
    width: float


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart, label left, value right of its bar."""

    bars: list[Bar]
    height: int
    label_width: int = 300
    bar_area: int = 360
    row: int = 22

    @property
    def width(self) -> int:
        """The drawing's width."""
        return self.label_width + self.bar_area + 70


def bar_chart(pairs: list[tuple[str, int]]) -> BarChart:
    """Bars of ``(label, value)``, the longest as wide as the chart allows."""
    top = max([value for _label, value in pairs] or [1]) or 1
    chart = BarChart(bars=[], height=0)
    bars = [
        Bar(label, value, 6 + i * chart.row, round(chart.bar_area * value / top, 1))
        for i, (label, value) in enumerate(pairs)
    ]
    return BarChart(bars=bars, height=12 + len(bars) * chart.row)


@dataclass(frozen=True)
class Referrals:
    """Returnees registered with EMIS in a month, and the days from return to registration."""

    count: int
    median: float | None
    p90: float | None
    longest: int | None
    buckets: list[tuple[int, int | None, int]]


@router.get(REPORTS)
def reports(request: Request, user: User, month: str = "", measure: str = "") -> Response:
    """The month's totals and one measure's breakdowns as charts; returnees' referral times."""
    user.require(*REPORT_SCOPES)
    with unit_of_work(engine_of(request)) as session:
        chosen = _month(session, month)
        report = build_monthly_report(session, month=chosen)
        referrals = _referrals(session, chosen)
    shown: Measure = next((m for m in MEASURES if m == measure), MEASURES[0])
    label = _labeller(user)
    breakdowns = [
        (
            dimension,
            bar_chart(
                [(label(dimension, value), n) for value, n in report.breakdown(shown, dimension)]
            ),
        )
        for dimension in DIMENSIONS
    ]
    totals = report.totals()
    return render(
        request,
        "reports.html",
        user=user,
        month=str(chosen),
        measures=MEASURES,
        measure=shown,
        totals=[(m, totals[m]) for m in MEASURES],
        totals_chart=bar_chart([(user.t(f"measure.{m}"), totals[m]) for m in MEASURES]),
        breakdowns=breakdowns,
        empty=report.empty,
        referrals=referrals,
        referral_chart=bar_chart(
            [(_bucket_label(user, lo, hi), n) for lo, hi, n in referrals.buckets]
        ),
    )


@router.get(f"{REPORTS}/monthly.csv")
def monthly_csv(request: Request, user: User, month: str = "", part: str = "tidy") -> Response:
    """The month as CSV, as ``hub report monthly`` writes it: breakdowns, or totals."""
    user.require(*REPORT_SCOPES)
    with unit_of_work(engine_of(request)) as session:
        chosen = _month(session, month)
        report = build_monthly_report(session, month=chosen)
    totals = part == "totals"
    text = _csv(report, totals=totals)
    name = f"monthly-{chosen}{'-totals' if totals else ''}.csv"
    return secured(
        Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    )


def _month(session: Session, text: str) -> Month:
    """The month asked for; by default the latest month with refusals, or last month."""
    if text:
        try:
            return Month.parse(text)
        except InvalidInput:
            pass
    latest: date | None = session.execute(select(func.max(col(Refusal.refused_on)))).scalar()
    if latest is None:
        first = utc_now().date().replace(day=1)
        latest = date.fromordinal(first.toordinal() - 1)
    return Month(latest.year, latest.month)


def _referrals(session: Session, month: Month) -> Referrals:
    rows = session.execute(
        select(col(JobseekerRegistration.registered_on), col(ReturneeCase.returned_on))
        .join(
            ReturneeCase,
            col(ReturneeCase.returnee_key) == col(JobseekerRegistration.returnee_key),
        )
        .where(col(JobseekerRegistration.registered_on).between(month.first_day, month.last_day))
    ).all()
    days = sorted(max(0, (registered - returned).days) for registered, returned in rows)
    buckets = [
        (low, high, sum(1 for d in days if d >= low and (high is None or d <= high)))
        for low, high in REFERRAL_BUCKETS
    ]
    if not days:
        return Referrals(0, None, None, None, buckets)
    p90 = days[min(len(days) - 1, max(0, round(0.9 * len(days)) - 1))]
    return Referrals(len(days), statistics.median(days), p90, days[-1], buckets)


def _bucket_label(user: ConsoleUser, low: int, high: int | None) -> str:
    if high is None:
        return user.t("reports.bucket_open", low=low)
    return user.t("reports.bucket", low=low, high=high)


def _labeller(user: ConsoleUser) -> Callable[[str, str], str]:
    names = {code: entry.label for code, entry in load_codelists()["municipalities"].codes.items()}

    def label(dimension: str, value: str) -> str:
        if dimension == "municipality":
            return names.get(value) or user.t("reports.unknown")
        key = f"reports.{dimension}_{value}"
        return user.t(key) if user.catalogue.has(key) else value

    return label


def _csv(report: MonthlyReport, *, totals: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    month = str(report.month)
    if totals:
        writer.writerow(TOTALS_COLUMNS)
        writer.writerows((month, m, n) for m, n in report.totals().items())
    else:
        writer.writerow(TIDY_COLUMNS)
        writer.writerows(
            (month, m, dimension, value, n)
            for m in MEASURES
            for dimension in DIMENSIONS
            for value, n in report.breakdown(m, dimension)
        )
    return out.getvalue()
