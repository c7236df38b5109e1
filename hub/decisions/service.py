"""Deciding suspensions: the hub proposes, a social work centre decides, an appeal body reviews.

Every function works inside the caller's transaction and never commits: the state change, its
event, the outbox messages it calls for and (in the API) the audit entry land together or not
at all. A CSW sees and decides only suspensions of its offices: anything else is "not found",
so that a client cannot learn that a person elsewhere has a proposal.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlmodel import Session, col

from hub.canonical import PersonIdentifier, Suspension
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.decisions import deliveries
from hub.decisions.lifecycle import APPEALABLE_STATES, OPEN_STATES, move
from hub.decisions.models import Appeal, SuspensionEvent
from hub.errors import Conflict, InvalidInput, NotFound
from hub.policy import SuspensionDecision
from hub.policy.activation import add_months
from hub.store.types import utc_now

AppealOutcome = Literal["upheld", "overturned"]
SCHEDULER = "scheduler"


@dataclass(frozen=True)
class Proposal:
    """Where a person stands when the rule fires: the case and the CSW that decides."""

    person_id: int
    case_key: str | None
    office_code: str | None
    decision: SuspensionDecision


def propose(session: Session, proposal: Proposal) -> Suspension | None:
    """Record a proposal once per triggering refusal; None when it exists already.

    Under ``decision: automatic`` the rule confirms it at once with the proposed dates.
    """
    decision = proposal.decision
    trigger = decision.counted[-1].offer_key
    exists = session.execute(
        select(col(Suspension.id)).where(
            col(Suspension.person_id) == proposal.person_id,
            col(Suspension.rule) == decision.rule,
            col(Suspension.trigger_offer_key) == trigger,
        )
    ).first()
    if exists is not None:
        return None
    suspension = Suspension(
        person_id=proposal.person_id,
        case_key=proposal.case_key,
        office_code=proposal.office_code,
        policy_profile=decision.profile,
        profile_version=decision.policy.version,
        rule=decision.rule,
        trigger_offer_key=trigger,
        decision_mode=decision.policy.decision,
        evidence=decision.to_evidence(),
        suspended_from=decision.suspended_from,
        suspended_until=decision.suspended_until,
    )
    session.add(suspension)
    session.flush()
    rule_actor = f"rule:{decision.rule}"
    _record(session, move(suspension, "propose", actor=rule_actor))
    if decision.policy.decision == "automatic":
        _decide(
            session,
            suspension,
            "confirm",
            actor=rule_actor,
            reason=f"confirmed by {decision.rule}: the profile decides automatically",
        )
    return suspension


def for_offices(session: Session, suspension_id: int, offices: Collection[str]) -> Suspension:
    """The suspension, if it belongs to one of ``offices``; :class:`NotFound` otherwise."""
    suspension = session.get(Suspension, suspension_id)
    if suspension is None or suspension.office_code not in offices:
        raise NotFound(
            f"no suspension {suspension_id} among your offices' cases",
            hint="list your open proposals with GET /v1/suspension-proposals",
        )
    return suspension


def open_proposals(
    session: Session, offices: Collection[str], *, limit: int, offset: int
) -> tuple[list[Suspension], int]:
    """Open proposals of ``offices``, oldest first, and how many there are in all."""
    where = (
        col(Suspension.office_code).in_(list(offices)),
        col(Suspension.status).in_(OPEN_STATES),
    )
    total = session.execute(select(func.count()).select_from(Suspension).where(*where)).scalar()
    rows = session.execute(
        select(Suspension)
        .where(*where)
        .order_by(col(Suspension.proposed_at), col(Suspension.id))
        .limit(limit)
        .offset(offset)
    ).scalars()
    return list(rows), int(total or 0)


def confirm(
    session: Session,
    suspension: Suspension,
    *,
    actor: str,
    starts_on: date,
    ends_on: date | None,
    reason: str,
) -> Suspension:
    """The CSW confirms: the suspension runs ``starts_on``..``ends_on`` (both included).

    Where the profile fixes the length, ``ends_on`` follows from it; otherwise it must lie
    within the profile's bounds (default: the proposed length).
    """
    trigger_day = date.fromisoformat(suspension.evidence["counted"][-1]["refused_on"])
    if starts_on <= trigger_day:
        raise InvalidInput(
            "a suspension starts after the refusal that led to it",
            field="starts_on",
            hint=f"give a day after {trigger_day.isoformat()}",
        )
    policy = suspension.evidence["policy"]
    low, high = policy["suspension_months_bounds"]
    if ends_on is None:
        ends_on = add_months(starts_on, policy["suspension_months"]) - timedelta(days=1)
    elif low == high and ends_on != add_months(starts_on, low) - timedelta(days=1):
        raise InvalidInput(
            f"the law sets the length at {low} months: leave ends_on out",
            field="ends_on",
        )
    shortest = add_months(starts_on, low) - timedelta(days=1)
    longest = add_months(starts_on, high) - timedelta(days=1)
    if not shortest <= ends_on <= longest:
        raise InvalidInput(
            f"ends_on must lie between {shortest.isoformat()} and {longest.isoformat()}",
            field="ends_on",
            hint=f"the profile {suspension.policy_profile} allows {low} to {high} months",
        )
    suspension.suspended_from, suspension.suspended_until = starts_on, ends_on
    _decide(session, suspension, "confirm", actor=actor, reason=reason)
    return suspension


def reject(session: Session, suspension: Suspension, *, actor: str, reason: str) -> Suspension:
    """The CSW rejects: the reason for refusing was strong enough; nothing reaches SAS."""
    _decide(session, suspension, "reject", actor=actor, reason=reason)
    return suspension


def hold(session: Session, suspension: Suspension, *, actor: str, note: str) -> Suspension:
    """The CSW waits for information: the proposal stays open and keeps ageing."""
    suspension.hold_note = note
    _record(session, move(suspension, "hold", actor=actor, reason=note))
    return suspension


def lift_due(session: Session, *, as_of: date) -> list[Suspension]:
    """Lift every confirmed suspension whose last day is before ``as_of``, and queue the lifts."""
    due = list(
        session.execute(
            select(Suspension).where(
                col(Suspension.status) == "confirmed",
                col(Suspension.suspended_until) < as_of,
            )
        ).scalars()
    )
    for suspension in due:
        assert suspension.suspended_until is not None
        _lift(
            session,
            suspension,
            actor=SCHEDULER,
            on=suspension.suspended_until + timedelta(days=1),
            reason="ended",
        )
    return due


def lodge_appeal(
    session: Session, suspension: Suspension, *, actor: str, grounds: str, lodged_on: date
) -> Appeal:
    """An appeal against a decision: first degree, or second after an upheld first one."""
    if suspension.status not in APPEALABLE_STATES or suspension.lift_reason not in (None, "ended"):
        raise Conflict(
            f"suspension {suspension.id} is {suspension.status}: only a confirmed suspension"
            " (running or ended) can be appealed"
        )
    appeals = appeals_of(session, [suspension.id or 0])
    if any(appeal.state == "pending" for appeal in appeals):
        raise Conflict(
            f"suspension {suspension.id} has a pending appeal",
            hint="wait for its decision; an upheld first-degree appeal may go to second degree",
        )
    decided = [appeal for appeal in appeals if appeal.state != "pending"]
    if len(decided) >= 2 or any(appeal.state == "overturned" for appeal in decided):
        raise Conflict(
            f"suspension {suspension.id} was appealed at every degree already",
            hint="the second-degree decision is final",
        )
    appeal = Appeal(
        suspension_id=suspension.id or 0,
        degree=len(decided) + 1,
        lodged_on=lodged_on,
        lodged_by=actor,
        grounds=grounds,
    )
    session.add(appeal)
    session.flush()
    _record(
        session,
        SuspensionEvent(
            suspension_id=suspension.id or 0,
            actor=actor,
            action="appeal_lodged",
            from_state=suspension.status,
            to_state=suspension.status,
            reason=grounds,
            details={"appeal_id": appeal.id, "degree": appeal.degree},
        ),
    )
    return appeal


def decide_appeal(
    session: Session,
    appeal_id: int,
    *,
    actor: str,
    outcome: AppealOutcome,
    reason: str,
    today: date,
) -> tuple[Appeal, Suspension]:
    """Uphold (the suspension stays) or overturn (lifted at once, the suspended days owed)."""
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"no appeal {appeal_id}", hint="list a suspension's appeals with its GET")
    if appeal.state != "pending":
        raise Conflict(f"appeal {appeal_id} was decided already: {appeal.state}")
    suspension = session.get(Suspension, appeal.suspension_id)
    assert suspension is not None
    appeal.state, appeal.decided_by, appeal.decided_at = outcome, actor, utc_now()
    appeal.decision_reason = reason
    session.add(appeal)
    _record(
        session,
        SuspensionEvent(
            suspension_id=suspension.id or 0,
            actor=actor,
            action=f"appeal_{outcome}",
            from_state=suspension.status,
            to_state="lifted" if outcome == "overturned" else suspension.status,
            reason=reason,
            details={"appeal_id": appeal.id, "degree": appeal.degree},
        ),
    )
    if outcome == "overturned":
        _overturn(session, suspension, actor=actor, today=today)
    return appeal, suspension


def appeals_of(session: Session, suspension_ids: Sequence[int]) -> list[Appeal]:
    """The appeals of these suspensions, oldest first."""
    return list(
        session.execute(
            select(Appeal)
            .where(col(Appeal.suspension_id).in_(list(suspension_ids)))
            .order_by(col(Appeal.id))
        ).scalars()
    )


def events_of(session: Session, suspension_ids: Sequence[int]) -> list[SuspensionEvent]:
    """These suspensions' histories, oldest move first."""
    return list(
        session.execute(
            select(SuspensionEvent)
            .where(col(SuspensionEvent.suspension_id).in_(list(suspension_ids)))
            .order_by(col(SuspensionEvent.id))
        ).scalars()
    )


def queue_deliveries(session: Session, suspension: Suspension) -> int:
    """Queue what the registries must be told of the suspension now; how many were new."""
    personal_no = session.execute(
        select(col(PersonIdentifier.value)).where(
            col(PersonIdentifier.person_id) == suspension.person_id,
            col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
        )
    ).scalar()
    if personal_no is None:
        return 0
    drafts = deliveries.suspension_drafts(
        suspension, personal_no=personal_no, in_sas_case=suspension.case_key is not None
    )
    return deliveries.queue_new(session, drafts)


def _overturn(session: Session, suspension: Suspension, *, actor: str, today: date) -> None:
    assert suspension.suspended_until is not None
    started = suspension.suspended_from <= today
    if started:
        suspension.arrears_from = suspension.suspended_from
        suspension.arrears_until = min(today - timedelta(days=1), suspension.suspended_until)
        if suspension.arrears_until < suspension.arrears_from:
            suspension.arrears_from = suspension.arrears_until = None
    if suspension.status == "lifted":  # ended before the appeal was decided
        suspension.lift_reason = "appeal_overturned"
        suspension.decided_at = utc_now()
        session.add(suspension)
        queue_deliveries(session, suspension)
        return
    _lift(session, suspension, actor=actor, on=today, reason="appeal_overturned")


def _lift(session: Session, suspension: Suspension, *, actor: str, on: date, reason: str) -> None:
    suspension.lifted_on, suspension.lift_reason = on, reason
    _record(session, move(suspension, "lift", actor=actor, reason=reason))
    session.add(suspension)
    queue_deliveries(session, suspension)


def _decide(
    session: Session,
    suspension: Suspension,
    action: Literal["confirm", "reject"],
    *,
    actor: str,
    reason: str,
) -> None:
    event = move(
        suspension,
        action,
        actor=actor,
        reason=reason,
        details={
            "suspended_from": suspension.suspended_from.isoformat(),
            "suspended_until": (
                suspension.suspended_until.isoformat() if suspension.suspended_until else None
            ),
        },
    )
    suspension.decided_by, suspension.decided_at = actor, utc_now()
    suspension.decision_reason = reason
    session.add(suspension)
    _record(session, event)
    if action == "confirm":
        queue_deliveries(session, suspension)


def _record(session: Session, event: SuspensionEvent) -> None:
    session.add(event)
    session.flush()
