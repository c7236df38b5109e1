"""suspension_not_applied: a CSW confirmed a benefit suspension, SAS still pays the case.

A confirmed suspension (not lifted, running on ``as_of``) whose person is applicant or
member of an *active* SAS case that has no suspension decision on or after the
suspension's first day. A proposal no CSW has confirmed is nobody's to apply.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, exists, select, union
from sqlmodel import Session, col

from hub.canonical import BenefitCase, BenefitCaseMember, BenefitDecision, Suspension
from hub.decisions.deliveries import decided_by, decision_ref
from hub.reconcile.detectors.base import FindingDraft, action, fact
from hub.sync.flows.base import iso, personal_numbers

KIND = "suspension_not_applied"


def detect(session: Session, *, as_of: date) -> list[FindingDraft]:
    """Every (suspension, active case of its person) with no suspension decided in SAS."""
    covered = union(
        select(
            col(BenefitCase.applicant_person_id).label("person_id"),
            col(BenefitCase.case_key).label("case_key"),
        ),
        select(col(BenefitCaseMember.person_id), col(BenefitCaseMember.case_key)),
    ).subquery("covered")
    applied = exists().where(
        col(BenefitDecision.case_key) == covered.c.case_key,
        col(BenefitDecision.kind) == "suspension",
        col(BenefitDecision.decided_on) >= col(Suspension.suspended_from),
    )
    pn = personal_numbers()
    rows = session.execute(
        select(Suspension, col(BenefitCase.case_key), col(BenefitCase.as_of), pn.c.personal_no)
        .join(covered, covered.c.person_id == col(Suspension.person_id))
        .join(
            BenefitCase,
            and_(
                col(BenefitCase.case_key) == covered.c.case_key,
                col(BenefitCase.status) == "active",
            ),
        )
        .join(pn, pn.c.person_id == col(Suspension.person_id))
        .where(
            col(Suspension.status) == "confirmed",
            col(Suspension.suspended_from) <= as_of,
            col(Suspension.suspended_until) >= as_of,
            ~applied,
        )
        .order_by(col(Suspension.id), col(BenefitCase.case_key))
    ).all()
    return [_finding(*row) for row in rows]


def _finding(
    suspension: Suspension, case_key: str, case_as_of: Any, personal_no: str
) -> FindingDraft:
    counted = suspension.evidence.get("counted") or []
    offers = [event["offer_key"] for event in counted if "offer_key" in event]
    payload: dict[str, Any] = {
        "personalNo": personal_no,
        "suspendedFrom": iso(suspension.suspended_from),
        "suspendedUntil": iso(suspension.suspended_until),
        "rule": suspension.rule,
        "decisionRef": decision_ref(suspension),
        "decidedBy": decided_by(suspension),
    }
    if offers:
        payload["offerId"] = offers
    return FindingDraft(
        kind=KIND,
        subject_key=f"{case_key}/{suspension.id}",
        person_id=suspension.person_id,
        evidence={
            "personal_no": personal_no,
            "facts": [
                fact(
                    "hub",
                    suspension.decided_at,
                    suspension_id=suspension.id,
                    policy_profile=suspension.policy_profile,
                    rule=suspension.rule,
                    suspended_from=suspension.suspended_from,
                    suspended_until=suspension.suspended_until,
                    status=suspension.status,
                    decided_by=suspension.decided_by,
                ),
                fact(
                    "sas",
                    case_as_of,
                    case_no=case_key,
                    status="active",
                    suspension_decided=False,
                ),
            ],
        },
        proposed_action=action("sas", "SetBenefitSuspension", payload),
    )
