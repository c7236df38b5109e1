"""The console's words and formats: one catalogue per language, nothing written in templates.

A catalogue is ``messages/<code>.yaml``: a ``locale`` block (month names, date and time
patterns, the decimal and grouping marks, the plural rule) and ``messages``, nested keys
of text with ``{named}`` placeholders. A language is added by adding its file; a key it
lacks falls back to English. Templates call ``t("nav.signed_in_as", client=name)``, ``tn(...)``
for a count, and the ``date``, ``datetime``, ``number`` and ``percent`` filters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

MESSAGES_DIR = Path(__file__).parent / "messages"
DEFAULT_LOCALE = "en"

PluralRule = Callable[[int], str]


def _one_other(n: int) -> str:
    return "one" if n == 1 else "other"


def _slavic(n: int) -> str:
    """CLDR's rule for Serbian (and its neighbours): one, few, other."""
    if n % 10 == 1 and n % 100 != 11:
        return "one"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "few"
    return "other"


PLURAL_RULES: dict[str, PluralRule] = {"one_other": _one_other, "slavic": _slavic}
"""The plural rules a catalogue may name in ``locale.plural``."""


@dataclass(frozen=True)
class Locale:
    """How one language writes dates, times and numbers."""

    code: str
    name: str
    months: tuple[str, ...]
    date_pattern: str
    time_pattern: str
    datetime_pattern: str
    month_pattern: str
    decimal: str
    group: str
    plural: PluralRule

    def format_date(self, value: date | None) -> str:
        """``7 Mar 2026`` (in English); empty for no date."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.date()
        return self.date_pattern.format(
            day=value.day, month=self.months[value.month - 1], year=value.year, mm=value.month
        )

    def format_month(self, year: int, month: int) -> str:
        """``Oct 2026`` (in English)."""
        return self.month_pattern.format(month=self.months[month - 1], year=year, mm=month)

    def format_datetime(self, value: datetime | None, zone: tzinfo) -> str:
        """Date and time in ``zone``; a naive value is taken as UTC (as the store keeps it)."""
        if value is None:
            return ""
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        local = aware.astimezone(zone)
        time_text = self.time_pattern.format(hour=local.hour, minute=local.minute)
        return self.datetime_pattern.format(date=self.format_date(local.date()), time=time_text)

    def format_number(self, value: float | int | Decimal | None, digits: int = 0) -> str:
        """Grouped thousands and the locale's decimal mark: ``12,345.6`` or ``12.345,6``."""
        if value is None:
            return ""
        marks: dict[str, str | int | None] = {",": self.group, ".": self.decimal}
        return f"{value:,.{digits}f}".translate(str.maketrans(marks))


@dataclass(frozen=True)
class Catalogue:
    """One language's messages, with English behind it for keys it lacks."""

    locale: Locale
    messages: Mapping[str, str]
    fallback: Catalogue | None = None

    def has(self, key: str) -> bool:
        """Whether ``key`` is in this catalogue or its fallback."""
        return key in self.messages or (self.fallback is not None and self.fallback.has(key))

    def text(self, key: str, /, **params: Any) -> str:
        """The message of ``key`` with its placeholders filled; a missing key is a bug."""
        template = self.messages.get(key)
        if template is None:
            if self.fallback is None:
                raise KeyError(f"the console catalogue has no message {key!r}")
            return self.fallback.text(key, **params)
        return template.format(**params) if params else template

    def count(self, key: str, n: int, /, **params: Any) -> str:
        """``key.one`` / ``key.few`` / ``key.other`` chosen by the locale's plural rule."""
        form = self.locale.plural(n)
        chosen = f"{key}.{form}"
        if not self.has(chosen):
            chosen = f"{key}.other"
        return self.text(chosen, n=self.locale.format_number(n), **params)


def available() -> tuple[str, ...]:
    """The language codes with a catalogue, English first."""
    codes = sorted(path.stem for path in MESSAGES_DIR.glob("*.yaml"))
    return (DEFAULT_LOCALE, *[code for code in codes if code != DEFAULT_LOCALE])


@cache
def catalogue(code: str = DEFAULT_LOCALE) -> Catalogue:
    """The catalogue of ``code`` (English if there is none), loaded once."""
    if code not in available():
        code = DEFAULT_LOCALE
    raw = yaml.safe_load((MESSAGES_DIR / f"{code}.yaml").read_text(encoding="utf-8"))
    fallback = None if code == DEFAULT_LOCALE else catalogue(DEFAULT_LOCALE)
    return Catalogue(_locale(raw["locale"]), _flatten(raw["messages"]), fallback)


def negotiate(accept_language: str | None, chosen: str | None = None) -> str:
    """The language to answer in: the user's choice, else the browser's best, else English."""
    codes = available()
    if chosen in codes:
        return chosen
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((quality, tag.strip().lower().split("-")[0]))
    for _quality, code in sorted(ranked, key=lambda pair: -pair[0]):
        if code in codes:
            return code
    return DEFAULT_LOCALE


def zone(name: str) -> tzinfo:
    """The time zone the console shows times in; UTC where the system lacks ``name``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _locale(raw: Mapping[str, Any]) -> Locale:
    return Locale(
        code=str(raw["code"]),
        name=str(raw["name"]),
        months=tuple(str(month) for month in raw["months"]),
        date_pattern=str(raw["date"]),
        time_pattern=str(raw["time"]),
        datetime_pattern=str(raw["datetime"]),
        month_pattern=str(raw["month"]),
        decimal=str(raw["decimal"]),
        group=str(raw["group"]),
        plural=PLURAL_RULES[str(raw.get("plural", "one_other"))],
    )


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat
