"""The closed vocabulary of transforms a mapping file may name.

Each transform takes the source value and returns the canonical one, or raises
:class:`TransformFailure` with a reason that never repeats the value (it may be
personal data).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any


class TransformFailure(ValueError):
    """The value cannot be transformed; the message says why, without the value."""


Transform = Callable[[Any], Any]

_DIGITS10 = re.compile(r"[1-9][0-9]{9}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def luhn_valid(number: str) -> bool:
    """Whether the last digit is the Luhn check digit of the others."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def personal_no(value: Any) -> str:
    """A 10-digit personal number with a valid check digit."""
    return _checked_personal_no(str(value).strip())


@lru_cache(maxsize=1 << 18)
def _checked_personal_no(text: str) -> str:
    # the same person appears in many records (e.g. twelve payroll months): check once
    if not _DIGITS10.fullmatch(text):
        raise TransformFailure("personal number is not 10 digits starting 1-9")
    if not luhn_valid(text):
        raise TransformFailure("personal number fails its check digit")
    return text


def text(value: Any) -> str:
    """Trimmed text."""
    result = str(value).strip()
    if not result:
        raise TransformFailure("empty text")
    return result


def name(value: Any) -> str:
    """A personal name: Unicode NFC, spacing collapsed, script kept as the source wrote it."""
    result = " ".join(unicodedata.normalize("NFC", str(value)).split())
    if not result:
        raise TransformFailure("empty name")
    if any(char.isdigit() for char in result):
        raise TransformFailure("name contains digits")
    return result


def to_date(value: Any) -> date:
    """An ISO date (``YYYY-MM-DD``) or a date; impossible dates fail."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise TransformFailure("not a possible calendar date (YYYY-MM-DD)") from exc


def past_date(value: Any) -> date:
    """A date that is not in the future (births, deaths, events)."""
    result = to_date(value)
    if result > datetime.now(UTC).date():
        raise TransformFailure("date lies in the future")
    return result


def to_datetime(value: Any) -> datetime:
    """A timezone-aware timestamp, converted to UTC."""
    if isinstance(value, datetime):
        stamp = value
    else:
        try:
            stamp = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise TransformFailure("not an ISO 8601 timestamp") from exc
    if stamp.tzinfo is None:
        raise TransformFailure("timestamp has no time zone")
    return stamp.astimezone(UTC)


def month(value: Any) -> str:
    """A calendar month ``YYYY-MM``."""
    match = _MONTH.fullmatch(str(value).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise TransformFailure("not a month (YYYY-MM)")
    return match.group(0)


def money(value: Any) -> Decimal:
    """A non-negative amount with at most two decimals."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise TransformFailure("not a decimal amount") from exc
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise TransformFailure("amount must be non-negative with at most two decimals")
    return amount.quantize(Decimal("0.01"))


def boolean(value: Any) -> bool:
    """A boolean (``true``/``false`` or a bool)."""
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise TransformFailure("not a boolean")


def passthrough(value: Any) -> Any:
    """Structured data kept as it came (JSON columns)."""
    return value


NAMED_TRANSFORMS: dict[str, Transform] = {
    "text": text,
    "name": name,
    "personal_no": personal_no,
    "date": to_date,
    "past_date": past_date,
    "datetime": to_datetime,
    "month": month,
    "money": money,
    "boolean": boolean,
    "json": passthrough,
}
"""Every transform a mapping may name, besides ``codelist`` lookups."""
