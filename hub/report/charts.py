"""The monthly report as PNG charts: one per measure, and one of the totals.

``monthly-YYYY-MM-<measure>.png`` shows horizontal bars by municipality (named,
left) and by sex and category (right); ``monthly-YYYY-MM-totals.png`` the
national total of every measure. Figures are drawn on the Agg canvas without
pyplot, so no display and no global backend state are involved.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from hub.mappings.codelists import load_codelists
from hub.report.models import MEASURE_LABELS, MEASURES, Dimension, Measure, MonthlyReport

DPI = 100
BAR_COLOUR = "#2b6a99"
CATEGORY_LABELS = {"I": "category I", "II": "category II", "none": "no SA case"}
SEX_LABELS = {"M": "men", "F": "women"}


def measure_path(out: Path, report: MonthlyReport, measure: Measure) -> Path:
    """Where the chart of one measure goes."""
    return out / f"monthly-{report.month}-{measure}.png"


def totals_chart_path(out: Path, report: MonthlyReport) -> Path:
    """Where the chart of the totals goes."""
    return out / f"monthly-{report.month}-totals.png"


def write_charts(report: MonthlyReport, out: Path) -> list[Path]:
    """Draw every chart into ``out`` (which must exist); their paths, totals first."""
    written = [_totals_chart(report, totals_chart_path(out, report))]
    for measure in MEASURES:
        written.append(_measure_chart(report, measure, measure_path(out, report, measure)))
    return written


def _totals_chart(report: MonthlyReport, path: Path) -> Path:
    figure = Figure(figsize=(9, 4.5), dpi=DPI, layout="constrained")
    totals = report.totals()
    labels = [MEASURE_LABELS[measure] for measure in totals]
    _bars(figure.add_subplot(), labels, list(totals.values()))
    figure.suptitle(f"Monthly report {report.month}: national totals")
    return _save(figure, path)


def _measure_chart(report: MonthlyReport, measure: Measure, path: Path) -> Path:
    figure = Figure(figsize=(10, 9), dpi=DPI, layout="constrained")
    grid = figure.add_gridspec(2, 2, width_ratios=(3, 2))
    panels: tuple[tuple[Dimension, Axes], ...] = (
        ("municipality", figure.add_subplot(grid[:, 0])),
        ("sex", figure.add_subplot(grid[0, 1])),
        ("category", figure.add_subplot(grid[1, 1])),
    )
    for dimension, axes in panels:
        pairs = report.breakdown(measure, dimension)
        _bars(axes, [_label(dimension, value) for value, _ in pairs], [n for _, n in pairs])
        axes.set_title(f"by {dimension}")
    total = report.total(measure)
    note = f"total {total:,}" if total else "no records this month"
    figure.suptitle(f"{MEASURE_LABELS[measure]}, {report.month} ({note})")
    return _save(figure, path)


def _bars(axes: Axes, labels: list[str], counts: list[int]) -> None:
    """Horizontal bars, first label on top, each bar with its count."""
    positions = list(range(len(labels)))
    container = axes.barh(positions, counts, color=BAR_COLOUR)
    axes.set_yticks(positions, labels, fontsize=8)
    axes.invert_yaxis()
    axes.bar_label(container, fontsize=7, padding=2)
    axes.set_xlim(0, max([*counts, 1]) * 1.15)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)


def _label(dimension: Dimension, value: str) -> str:
    if dimension == "municipality":
        code = load_codelists()["municipalities"].codes.get(value)
        return code.label if code else value
    if dimension == "sex":
        return SEX_LABELS.get(value, value)
    return CATEGORY_LABELS.get(value, value)


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    figure.savefig(path, format="png", metadata={"Software": None})
    return path
