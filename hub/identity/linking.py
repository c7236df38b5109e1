"""Linking an external list (CSV) against the canonical persons."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from hub.identity.external import (
    ExternalRow,
    RowResult,
    check_output,
    read_external,
    write_results,
)
from hub.identity.matching import Match, Matcher, reasons_text
from hub.identity.records import KnownPerson
from hub.identity.store import load_persons
from hub.identity.thresholds import Thresholds
from hub.identity.weights import describe
from hub.log import get_logger
from hub.settings import Settings

log = get_logger("identity")

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class LinkReport:
    """Counts of one linked list, the thresholds the model chose and its weights."""

    rows: int
    linked: int
    review: int
    none: int
    errors: int
    warnings: list[str] = field(default_factory=list)
    thresholds: Thresholds | None = None
    weights: Mapping[str, dict[str, float]] = field(default_factory=dict)
    persons_written: tuple[int, ...] = ()
    """The persons whose personal number the output file names (link and review rows)."""


def link_file(
    session: Session,
    *,
    source: Path,
    out: Path,
    settings: Settings,
    on_progress: Progress | None = None,
) -> LinkReport:
    """Link every row of ``source`` and write ``out``; reads the store, writes nothing to it.

    A row whose personal number is known links with score 1.0; the others are matched on
    names, birth date and municipality by the match model. Malformed rows are written with
    their error, rows with an unknown municipality are matched without it and warned about.
    """
    check_output(out)
    external = read_external(source)
    persons = load_persons(session)
    by_number = {p.personal_no: p for p in persons if p.personal_no}
    matcher = Matcher(persons, settings.identity)
    to_match = [
        row
        for row in external.rows
        if row.candidate is not None and row.personal_no not in by_number
    ]
    matches = matcher.match([row.candidate for row in to_match if row.candidate], on_progress)
    matched = {row.line: match for row, match in zip(to_match, matches, strict=True)}
    results = [_result(row, by_number, matched.get(row.line)) for row in external.rows]
    write_results(out, external, results)
    decisions = [r.decision for r in results if r.error is None]
    report = LinkReport(
        rows=len(results),
        linked=decisions.count("link"),
        review=decisions.count("review"),
        none=decisions.count("none"),
        errors=len(results) - len(decisions),
        warnings=[row.warning for row in external.rows if row.warning],
        thresholds=matcher.thresholds,
        weights=describe(matcher.model),
        persons_written=tuple(
            by_number[r.personal_no].person_id
            for r in results
            if r.personal_no is not None and r.personal_no in by_number
        ),
    )
    log.info(
        "external list linked",
        rows=report.rows,
        linked=report.linked,
        review=report.review,
        none=report.none,
        errors=report.errors,
        warnings=len(report.warnings),
    )
    return report


def _result(row: ExternalRow, by_number: dict[str, KnownPerson], match: Match | None) -> RowResult:
    if row.error is not None:
        return RowResult(None, None, "none", row.error)
    if row.personal_no in by_number:
        return RowResult(row.personal_no, 1.0, "link", None, "personal_no", row.warning)
    assert match is not None  # every valid row without a known number was matched
    best = match.options[0] if match.options and match.decision != "none" else None
    return RowResult(
        best.person.personal_no if best else None,
        match.score,
        match.decision,
        None,
        reasons_text(best.components) if best else "",
        row.warning,
    )
