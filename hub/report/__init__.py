"""Statistical reports over the canonical store: aggregates only, never a person."""

from hub.report.models import (
    DIMENSIONS,
    MEASURE_LABELS,
    MEASURES,
    Cell,
    Dimension,
    Measure,
    Month,
    MonthlyReport,
)
from hub.report.monthly import build_monthly_report

__all__ = [
    "DIMENSIONS",
    "MEASURES",
    "MEASURE_LABELS",
    "Cell",
    "Dimension",
    "Measure",
    "Month",
    "MonthlyReport",
    "build_monthly_report",
]
