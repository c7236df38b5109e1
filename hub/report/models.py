"""The monthly report as typed values: the month, its measures, dimensions and counted cells."""

from __future__ import annotations

import re
from calendar import monthrange
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Literal, Self

from hub.errors import InvalidInput
from hub.mappings.codelists import load_codelists

Measure = Literal[
    "jobseekers",
    "certificates_issued",
    "certificates_revoked",
    "refusals_justified",
    "refusals_unjustified",
    "suspensions",
    "returnees_referred",
    "returnees_employed",
]
MEASURES: tuple[Measure, ...] = (
    "jobseekers",
    "certificates_issued",
    "certificates_revoked",
    "refusals_justified",
    "refusals_unjustified",
    "suspensions",
    "returnees_referred",
    "returnees_employed",
)
MEASURE_LABELS: dict[Measure, str] = {
    "jobseekers": "Jobseekers active at the month's end",
    "certificates_issued": "Unemployment certificates issued",
    "certificates_revoked": "Unemployment certificates revoked",
    "refusals_justified": "Job-offer refusals, justified",
    "refusals_unjustified": "Job-offer refusals, unjustified",
    "suspensions": "Benefit suspensions starting",
    "returnees_referred": "Returnees referred to the employment agency",
    "returnees_employed": "Returnees who started employment",
}

Dimension = Literal["municipality", "sex", "category"]
DIMENSIONS: tuple[Dimension, ...] = ("municipality", "sex", "category")

UNKNOWN = "unknown"
"""A dimension value the store does not hold (person not identified, attribute missing)."""
NO_CATEGORY = "none"
"""Category of a person in no open social-assistance case."""

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, written ``YYYY-MM``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Self:
        """``2026-10`` → Month(2026, 10); anything else is the caller's mistake."""
        match = _MONTH.fullmatch(text.strip())
        if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
            raise InvalidInput(
                f"the month must be written YYYY-MM (e.g. 2026-10), not {text!r}", field="month"
            )
        return cls(int(match[1]), int(match[2]))

    @property
    def first_day(self) -> date:
        """The month's first day."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """The month's last day, included in the month."""
        return date(self.year, self.month, monthrange(self.year, self.month)[1])

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Cell:
    """How many records of one measure share one municipality, sex and category."""

    measure: Measure
    municipality: str
    sex: str
    category: str
    count: int

    def value(self, dimension: Dimension) -> str:
        """This cell's value in ``dimension``."""
        return {"municipality": self.municipality, "sex": self.sex, "category": self.category}[
            dimension
        ]


def domain(dimension: Dimension) -> tuple[str, ...]:
    """Every value a dimension reports, zero or not, in report order (``unknown`` last)."""
    if dimension == "municipality":
        return (*sorted(load_codelists()["municipalities"].codes), UNKNOWN)
    if dimension == "sex":
        return ("M", "F", UNKNOWN)
    return ("I", "II", NO_CATEGORY, UNKNOWN)


@dataclass(frozen=True)
class MonthlyReport:
    """The counted cells of one month; totals and one-dimension breakdowns derive from them.

    Because every breakdown sums the same cells, each one adds up to its measure's total.
    """

    month: Month
    cells: tuple[Cell, ...]

    def total(self, measure: Measure) -> int:
        """The measure's count over the whole country."""
        return sum(cell.count for cell in self.cells if cell.measure == measure)

    def totals(self) -> dict[Measure, int]:
        """Every measure's total, in report order."""
        return {measure: self.total(measure) for measure in MEASURES}

    def breakdown(self, measure: Measure, dimension: Dimension) -> list[tuple[str, int]]:
        """``(value, count)`` for every value of the dimension, zeros included.

        A value outside the dimension's domain (a code the code list lacks) is kept,
        after the known ones, so no record is lost from the sum.
        """
        counts: Counter[str] = Counter()
        for cell in self.cells:
            if cell.measure == measure:
                counts[cell.value(dimension)] += cell.count
        known = domain(dimension)
        strays = sorted(value for value in counts if value not in known)
        return [(value, counts[value]) for value in (*known, *strays)]

    @property
    def empty(self) -> bool:
        """Whether the month has no record of any measure."""
        return not any(cell.count for cell in self.cells)
