"""Helpers shared by the policy tests: refusal events written as day offsets."""

from __future__ import annotations

from datetime import date, timedelta

from hub.policy import RefusalEvent

DAY_ZERO = date(2025, 1, 1)
AS_OF = date(2026, 10, 31)


def day(offset: int) -> date:
    """The date ``offset`` days after DAY_ZERO."""
    return DAY_ZERO + timedelta(days=offset)


def refusals(*events: tuple[int, str]) -> list[RefusalEvent]:
    """Refusal events from ``(day offset, reason code)`` pairs, offer keys in input order."""
    return [
        RefusalEvent(offer_key=f"JO-{n:07d}", refused_on=day(offset), reason_code=code)
        for n, (offset, code) in enumerate(events, start=1)
    ]
