"""External lists to link: reading the CSV line by line, and writing the result.

A file is refused as a whole only when it cannot be read or its header lacks a required
column. A bad row (wrong column count, missing value, impossible date, bytes that are not
UTF-8) is kept with its line number and the column and value that are wrong, and every
other row is still linked. A municipality the hub does not know is no reason to give up a
row: the row is matched without it and carries a warning naming the value. A record is
one physical line (names and dates need no embedded line breaks), so line numbers are the
ones an editor shows.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from hub.errors import InvalidInput
from hub.identity.municipalities import municipality_code
from hub.identity.records import Candidate

REQUIRED = ("first_name", "last_name", "birth_date", "municipality")
PERSONAL_NO = "personal_no"
RESULT_COLUMNS = ("personal_no", "score", "decision", "reasons", "warning", "error")
_BOM = b"\xef\xbb\xbf"
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


@dataclass(frozen=True, slots=True)
class ExternalRow:
    """One record of the list: its values as read, and what matching needs or why not."""

    line: int
    values: dict[str, str]
    candidate: Candidate | None
    personal_no: str | None
    error: str | None
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class ExternalList:
    """The header (lower-cased) and every record of a list."""

    columns: list[str]
    rows: list[ExternalRow]


@dataclass(frozen=True, slots=True)
class RowResult:
    """What linking decided for one row: ``score`` is the probability of the person."""

    personal_no: str | None
    score: float | None
    decision: str
    error: str | None = None
    reasons: str = ""
    warning: str | None = None


def read_external(path: Path) -> ExternalList:
    """Read a CSV list (UTF-8, with or without BOM; ``,`` separated, header first)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInput(f"no such file: {path}", field="file") from exc
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", field="file") from exc
    text = data.removeprefix(_BOM).decode("utf-8", errors="surrogateescape")
    lines = io.StringIO(text, newline="")
    header = next(lines, None)
    columns = _header(None if header is None else _cells(header), path)
    rows: list[ExternalRow] = []
    for line, content in enumerate(lines, start=2):
        try:
            raw = _cells(content)
        except csv.Error as exc:
            rows.append(ExternalRow(line, {}, None, None, f"line {line}: not CSV ({exc})"))
            continue
        if any(cell.strip() for cell in raw):
            rows.append(_row(line, columns, raw))
    return ExternalList(columns=columns, rows=rows)


def _cells(line: str) -> list[str]:
    """One physical line's cells: a stray quote spoils its own line, never the rest."""
    return next(csv.reader([line.rstrip("\r\n")], strict=True), [])


def _header(raw: list[str] | None, path: Path) -> list[str]:
    if raw is None:
        raise InvalidInput(f"{path} is empty", field="file", hint=_HEADER_HINT)
    if _UNDECODABLE.search("".join(raw)):
        raise InvalidInput(f"the header of {path} is not UTF-8 text", field="file")
    columns = [name.strip().lower() for name in raw]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise InvalidInput(
            f"the header of {path} lacks {', '.join(missing)}", field="file", hint=_HEADER_HINT
        )
    return columns


_HEADER_HINT = "the first line must name the columns: " + ",".join(REQUIRED) + "[,personal_no]"


def _row(line: int, columns: list[str], raw: list[str]) -> ExternalRow:
    # A short or long row is reported below; keep the cells it has for the output.
    cells = zip(columns, raw, strict=False)
    values = {name: _UNDECODABLE.sub("\ufffd", cell) for name, cell in cells}
    personal_no = values.get(PERSONAL_NO, "").strip() or None
    try:
        undecodable = [i for i, cell in enumerate(raw) if _UNDECODABLE.search(cell)]
        if undecodable:
            where = columns[undecodable[0]] if undecodable[0] < len(columns) else "a cell"
            raise ValueError(f"{where} is not valid UTF-8 text")
        if len(raw) != len(columns):
            raise ValueError(f"expected {len(columns)} columns, found {len(raw)}")
        candidate = _candidate(str(line), values)
    except ValueError as exc:
        return ExternalRow(line, values, None, personal_no, f"line {line}: {exc}")
    warning = None
    municipality = values["municipality"].strip()
    if municipality and candidate.municipality_code is None:
        warning = (
            f"line {line}: municipality {municipality!r} is not known; matched without it"
            " (use a code 01-38 or a municipality name)"
        )
    return ExternalRow(line, values, candidate, personal_no, None, warning)


def _candidate(key: str, values: dict[str, str]) -> Candidate:
    for name in ("first_name", "last_name", "birth_date"):
        if not values[name].strip():
            raise ValueError(f"missing {name}")
    municipality = values["municipality"].strip()
    return Candidate(
        key=key,
        first_name=values["first_name"].strip(),
        last_name=values["last_name"].strip(),
        birth_date=_date(values["birth_date"].strip()),
        municipality_code=municipality_code(municipality) if municipality else None,
    )


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text) if len(text) == 10 else _parsed(text)
    except ValueError:
        return _parsed(text)


def _parsed(text: str) -> date:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"birth_date {text!r} is not a valid date (YYYY-MM-DD or DD.MM.YYYY)")


def check_output(path: Path) -> None:
    """Refuse, before any work, an output path that cannot be written."""
    folder = path.parent
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder; name the result file", field="out")
    if not folder.is_dir():
        raise InvalidInput(f"cannot write {path}: no folder {folder}", field="out")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InvalidInput(f"cannot write {path}: permission denied", field="out")


def write_results(path: Path, external: ExternalList, results: list[RowResult]) -> None:
    """Write ``line``, the input columns and the result columns, one row per input row.

    An input ``personal_no`` column is written as ``input_personal_no``, so that
    ``personal_no`` is always the linked person's number.
    """
    inputs = [c if c != PERSONAL_NO else "input_personal_no" for c in external.columns]
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", *inputs, *RESULT_COLUMNS])
            for row, result in zip(external.rows, results, strict=True):
                writer.writerow(
                    [
                        row.line,
                        *(row.values.get(column, "") for column in external.columns),
                        result.personal_no or "",
                        "" if result.score is None else f"{result.score:.3f}",
                        result.decision,
                        result.reasons,
                        result.warning or "",
                        result.error or "",
                    ]
                )
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}", field="out") from exc
