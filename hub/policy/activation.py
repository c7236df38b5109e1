"""The activation rule: unjustified job-offer refusals inside a window suspend benefits.

Semantics, for one person under one profile:

- Refusals after ``as_of`` are not known yet and are ignored; refusals are read in
  ``(refused_on, offer_key)`` order, so the result never depends on the input order.
- With ``reason_test: every_refusal`` only refusals whose reason code the profile lists as
  unjustified count. Justified codes never count, however many; a code outside the code list
  never counts either. With ``last_refusal`` every refusal with a known code counts, but only
  an unjustified one can reach the count (the source tests the reason at the last refusal).
- The Nth counted refusal (N = ``max_unjustified_refusals``) suspends when all N fall inside
  ``window_days`` consecutive days: ``last.refused_on - first.refused_on < window_days``. The
  window slides: an older unjustified refusal drops out once it is too far back.
- The suspension runs from the day after the Nth refusal for ``suspension_months`` calendar
  months (the last day included is the day before the same date that many months later).
- Refusals that led to a suspension are spent: counting starts again after them. A decision
  is returned even when its suspension has already ended; ``is_active`` tells.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from hub.errors import InvalidInput
from hub.policy.models import IgnoredRefusal, IgnoredWhy, RefusalEvent, SuspensionDecision
from hub.policy.profile import PolicyProfile


def decide_suspension(
    *, profile: PolicyProfile, refusals: Sequence[RefusalEvent], as_of: date
) -> SuspensionDecision | None:
    """The latest suspension one person's refusals up to ``as_of`` lead to, if any."""
    decisions = decide_suspensions(profile=profile, refusals=refusals, as_of=as_of)
    return decisions[-1] if decisions else None


def decide_suspensions(
    *, profile: PolicyProfile, refusals: Sequence[RefusalEvent], as_of: date
) -> list[SuspensionDecision]:
    """Every suspension one person's refusals up to ``as_of`` lead to, oldest first."""
    history = _history(refusals, as_of)
    decisions: list[SuspensionDecision] = []
    pending: list[RefusalEvent] = []
    start = 0  # where the refusals the next decision considers begin
    needed = profile.max_unjustified_refusals
    for index, event in enumerate(history):
        if not _counts(profile, event):
            continue
        pending = [p for p in pending if _days(p, event) < profile.window_days]
        pending.append(event)
        if len(pending) >= needed and event.reason_code in profile.unjustified_reason_codes:
            considered = history[start : index + 1]
            counted = pending[-needed:]
            decisions.append(_decision(profile, counted=counted, considered=considered))
            pending, start = [], index + 1
        elif len(pending) >= needed:
            pending = pending[-(needed - 1) :] if needed > 1 else []
    return decisions


def decide_all(
    *,
    profile: PolicyProfile,
    refusals_by_person: Mapping[int, Sequence[RefusalEvent]],
    as_of: date,
) -> dict[int, SuspensionDecision]:
    """The latest suspension of every person who has one, by person id in ascending order."""
    decisions: dict[int, SuspensionDecision] = {}
    for person_id in sorted(refusals_by_person):
        decision = decide_suspension(
            profile=profile, refusals=refusals_by_person[person_id], as_of=as_of
        )
        if decision is not None:
            decisions[person_id] = decision
    return decisions


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later, clamped to the end of a shorter month."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def _history(refusals: Sequence[RefusalEvent], as_of: date) -> list[RefusalEvent]:
    """Known refusals in a fixed order; one offer refused twice is the caller's mistake."""
    by_offer: dict[str, RefusalEvent] = {}
    for event in refusals:
        if by_offer.setdefault(event.offer_key, event) != event:
            raise InvalidInput(
                "two different refusals share one offer key",
                field="refusals",
                hint="pass one refusal event per job offer",
            )
    known = (event for event in by_offer.values() if event.refused_on <= as_of)
    return sorted(known, key=lambda event: (event.refused_on, event.offer_key))


def _decision(
    profile: PolicyProfile, *, counted: list[RefusalEvent], considered: list[RefusalEvent]
) -> SuspensionDecision:
    suspended_from = counted[-1].refused_on + timedelta(days=1)
    ends = add_months(suspended_from, profile.suspension_months)
    ignored = tuple(
        IgnoredRefusal(refusal=event, why=_why_ignored(profile, event))
        for event in considered
        if event not in counted
    )
    return SuspensionDecision(
        policy=profile,
        counted=tuple(counted),
        ignored=ignored,
        suspended_from=suspended_from,
        suspended_until=ends - timedelta(days=1),
    )


def _counts(profile: PolicyProfile, event: RefusalEvent) -> bool:
    if event.reason_code in profile.unjustified_reason_codes:
        return True
    return profile.reason_test == "last_refusal" and profile.is_justified(event.reason_code)


def _why_ignored(profile: PolicyProfile, event: RefusalEvent) -> IgnoredWhy:
    if profile.is_justified(event.reason_code):
        return "justified"
    if event.reason_code in profile.unjustified_reason_codes:
        return "outside_window"
    return "unknown_reason_code"


def _days(earlier: RefusalEvent, later: RefusalEvent) -> int:
    return (later.refused_on - earlier.refused_on).days
