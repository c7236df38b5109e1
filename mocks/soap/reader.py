"""Typed, validating access to the fields of a request element.

A handler names each field and the parser that checks it; the reader answers
:class:`InvalidRequest` naming the field (never echoing its value), and remembers
every parsed value so that writes can fingerprint exactly what they were asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from lxml import etree

from mocks.soap.faults import InvalidRequest

T = TypeVar("T")
Parser = Callable[[str], T]
"""Turns an element's text into a value, or raises :class:`FieldError`."""


class FieldError(ValueError):
    """A field's text breaks its type; the message says how, without the value."""


class RequestReader:
    """The children of one operation element (or of one complex field), read field by field.

    Faults name a field by its path from the operation element: ``personalNo``, or
    ``almpMeasure/endDate`` for a field of a complex element.
    """

    def __init__(self, element: etree._Element, namespace: str, *, path: str = "") -> None:
        self.operation = etree.QName(element).localname
        self.values: dict[str, Any] = {}
        """Every value parsed so far, by element name (lists for repeated fields)."""
        self._namespace = namespace
        self._path = path
        self._children: dict[str, list[etree._Element]] = {}
        for child in element.iterchildren("*"):
            name = etree.QName(child)
            if name.namespace != namespace:
                raise InvalidRequest(
                    "element outside the contract namespace", field=self._field(_safe(name))
                )
            self._children.setdefault(name.localname, []).append(child)

    def required(self, name: str, parse: Parser[T]) -> T:
        """The value of a mandatory field."""
        value = self.optional(name, parse)
        if value is None:
            raise InvalidRequest(f"{self._field(name)} is required", field=self._field(name))
        return value

    def optional(self, name: str, parse: Parser[T]) -> T | None:
        """The value of an optional field, or None when it is absent."""
        texts = self._texts(name)
        if len(texts) > 1:
            raise InvalidRequest(
                f"{self._field(name)} must appear at most once", field=self._field(name)
            )
        if not texts:
            return None
        value = _parse(self._field(name), texts[0], parse)
        self.values[name] = value
        return value

    def repeated(self, name: str, parse: Parser[T], *, max_count: int = 100) -> list[T]:
        """The values of a field that may appear several times (in document order)."""
        texts = self._texts(name)
        self._check_count(name, len(texts), max_count)
        values = [_parse(self._field(name), text, parse) for text in texts]
        self.values[name] = values
        return values

    def repeated_records(
        self, name: str, read: Callable[[RequestReader], T], *, max_count: int = 100
    ) -> list[T]:
        """A complex field that may appear several times, each read by ``read`` (in order).

        ``read`` gets a reader over one occurrence's children; fields it leaves
        unread are refused, and what it parsed joins :attr:`values` as a list.
        """
        elements = self._children.get(name, [])
        self._check_count(name, len(elements), max_count)
        results: list[T] = []
        parsed: list[dict[str, Any]] = []
        for element in elements:
            if element.text is not None and element.text.strip():
                raise InvalidRequest(
                    f"{self._field(name)} must hold elements, not text", field=self._field(name)
                )
            nested = RequestReader(element, self._namespace, path=f"{self._field(name)}/")
            results.append(read(nested))
            nested.done()
            parsed.append(nested.values)
        self.values[name] = parsed
        return results

    def done(self) -> None:
        """Refuse fields the operation does not define (call after reading all fields)."""
        unknown = sorted(set(self._children) - set(self.values))
        if unknown:
            raise InvalidRequest(
                "element not defined for this operation", field=self._field(unknown[0][:64])
            )

    def _texts(self, name: str) -> list[str]:
        elements = self._children.get(name, [])
        if any(len(element) for element in elements):
            raise InvalidRequest("element must hold a simple value", field=self._field(name))
        return [element.text or "" for element in elements]

    def _check_count(self, name: str, count: int, max_count: int) -> None:
        if count > max_count:
            field = self._field(name)
            raise InvalidRequest(f"{field} may appear at most {max_count} times", field=field)

    def _field(self, name: str) -> str:
        return f"{self._path}{name}"


def _safe(name: etree.QName) -> str:
    return name.localname[:64]


def _parse(field: str, text: str, parse: Parser[T]) -> T:
    try:
        return parse(text)
    except FieldError as exc:
        raise InvalidRequest(f"{field} {exc}", field=field) from None
    except ValueError:
        raise InvalidRequest(f"{field} has an invalid value", field=field) from None


# ---------------------------------------------------------------- parsers


def pattern(regex: str, description: str) -> Parser[str]:
    """Whole-value regular expression match (whitespace around the value is ignored)."""
    compiled = re.compile(regex)

    def parse(text: str) -> str:
        value = text.strip()
        if compiled.fullmatch(value) is None:
            raise FieldError(f"must be {description}")
        return value

    return parse


def one_of(values: Iterable[str]) -> Parser[str]:
    """A value from a closed code list."""
    allowed = frozenset(values)
    listing = ", ".join(sorted(allowed))

    def parse(text: str) -> str:
        value = text.strip()
        if value not in allowed:
            raise FieldError(f"must be one of {listing}")
        return value

    return parse


def text(*, min_length: int = 1, max_length: int = 200) -> Parser[str]:
    """Free text within length bounds (surrounding whitespace removed)."""

    def parse(raw: str) -> str:
        value = raw.strip()
        if not min_length <= len(value) <= max_length:
            raise FieldError(f"must be {min_length} to {max_length} characters long")
        return value

    return parse


def integer(*, minimum: int, maximum: int) -> Parser[int]:
    """A whole number within bounds."""

    def parse(raw: str) -> int:
        value = raw.strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,12}", value):
            raise FieldError("must be a whole number")
        number = int(value)
        if not minimum <= number <= maximum:
            raise FieldError(f"must be between {minimum} and {maximum}")
        return number

    return parse


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_MONEY = re.compile(r"[0-9]{1,10}(\.[0-9]{1,2})?")


def iso_date(raw: str) -> str:
    """An ``xs:date`` without time zone, returned as ``YYYY-MM-DD``."""
    value = raw.strip()
    if _DATE.fullmatch(value) is None:
        raise FieldError("must be a date YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise FieldError("must be a calendar date") from None
    return value


def month(raw: str) -> str:
    """A calendar month ``YYYY-MM``."""
    value = raw.strip()
    if _MONTH.fullmatch(value) is None:
        raise FieldError("must be a month YYYY-MM")
    return value


def money(raw: str) -> str:
    """A non-negative amount in euros with at most two decimals, returned as ``"85.00"``."""
    value = raw.strip()
    if _MONEY.fullmatch(value) is None:
        raise FieldError("must be a non-negative amount with at most two decimals")
    try:
        return f"{Decimal(value):.2f}"
    except InvalidOperation:
        raise FieldError("must be an amount") from None


PERSONAL_NO = pattern(r"[1-9][0-9]{9}", "10 digits, the first not 0")
IDEMPOTENCY_KEY = text(min_length=8, max_length=128)
EMPLOYER_TIN = pattern(r"[0-9]{9}", "9 digits")
OFFER_ID = pattern(r"JO-[0-9]{7}", "an offer id JO-nnnnnnn")
CERTIFICATE_NO = pattern(r"UC-[0-9]{4}-[0-9]{7}", "a certificate number UC-yyyy-nnnnnnn")
MUNICIPALITY_CODE = pattern(r"0[1-9]|[12][0-9]|3[0-8]", "a municipality code 01..38")
DECISION_REF = text(min_length=1, max_length=64)
SUSPENSION_RULE = text(min_length=1, max_length=64)
DECIDED_BY = text(min_length=1, max_length=64)
SUSPENSION_END_REASON = one_of(("ended", "appeal_overturned", "decision_withdrawn"))
OFFER_KIND = one_of(("job_offer", "almp", "training"))
EMPLOYER_NAME = text(min_length=1, max_length=200)
OCCUPATION_CODE = pattern(r"[0-9]{4}", "an ISCO-08 unit group of 4 digits")
EDUCATION_LEVEL = one_of(("none", "primary", "secondary", "tertiary"))
PROFILING_SEGMENT = one_of(("low", "average", "high"))
MEASURE_CODE = one_of(("OJT", "WAGE_SUBSIDY", "VOC_TRAINING", "INTERNSHIP", "SELF_EMPLOYMENT"))
ADDRESS = text(min_length=1, max_length=200)
PERSON_NAME = text(min_length=1, max_length=100)
SEX = one_of(("M", "F"))
"""Parsers of the field types both SOAP contracts define alike."""
