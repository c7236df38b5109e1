"""Named transforms: what passes, what fails, and failures never repeat the value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from hub.mappings.transforms import NAMED_TRANSFORMS, TransformFailure, luhn_valid

VALID_PN = "1234567897"  # Luhn check digit 7


@pytest.mark.parametrize(
    ("transform", "raw", "expected"),
    [
        ("personal_no", VALID_PN, VALID_PN),
        ("personal_no", f" {VALID_PN} ", VALID_PN),
        ("text", "  EO-01 ", "EO-01"),
        ("name", "  Arbër   Krasniqi ", "Arbër Krasniqi"),
        ("name", "Jelena \u0110or\u0111evi\u0107", "Jelena Đorđević"),
        ("name", "E\u0308rza", "Ërza"),  # decomposed input comes out composed (NFC)
        ("date", "2026-02-28", date(2026, 2, 28)),
        ("date", date(2020, 1, 1), date(2020, 1, 1)),
        ("date", datetime(2020, 1, 1, 5, tzinfo=UTC), date(2020, 1, 1)),
        ("past_date", "1990-05-17", date(1990, 5, 17)),
        ("datetime", "2026-10-31T12:00:00Z", datetime(2026, 10, 31, 12, tzinfo=UTC)),
        ("month", "2026-09", "2026-09"),
        ("money", "85.5", Decimal("85.50")),
        ("money", Decimal("120.00"), Decimal("120.00")),
        ("boolean", "true", True),
        ("boolean", False, False),
        ("json", {"a": [1]}, {"a": [1]}),
    ],
)
def test_valid_values_map(transform: str, raw: Any, expected: Any) -> None:
    assert NAMED_TRANSFORMS[transform](raw) == expected


@pytest.mark.parametrize(
    ("transform", "raw", "reason"),
    [
        ("personal_no", "1234567890", "check digit"),
        ("personal_no", "123456789", "10 digits"),
        ("personal_no", "0234567897", "10 digits"),
        ("personal_no", "12345678AB", "10 digits"),
        ("text", "   ", "empty"),
        ("name", "Arbër 2", "digits"),
        ("date", "2001-02-30", "not a possible calendar date"),
        ("date", "31.12.2001", "not a possible calendar date"),
        ("past_date", (datetime.now(UTC) + timedelta(days=400)).date().isoformat(), "future"),
        ("datetime", "2026-10-31T12:00:00", "no time zone"),
        ("month", "2026-13", "not a month"),
        ("money", "-1.00", "non-negative"),
        ("money", "1.005", "two decimals"),
        ("money", "abc", "not a decimal"),
        ("boolean", "maybe", "not a boolean"),
    ],
)
def test_invalid_values_fail_with_a_reason_but_not_the_value(
    transform: str, raw: Any, reason: str
) -> None:
    with pytest.raises(TransformFailure, match=reason) as failure:
        NAMED_TRANSFORMS[transform](raw)
    if str(raw).strip():
        assert str(raw).strip() not in str(failure.value)


def test_luhn() -> None:
    assert luhn_valid(VALID_PN)
    assert not luhn_valid("1234567891")
