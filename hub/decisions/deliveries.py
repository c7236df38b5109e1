"""What the registries must be told of a suspension's state: each move, once, in order.

SAS suspends the case and lifts it again; EMIS flags the jobseeker, applies the profile's
certificate consequence (``refuse``: no new certificate while it runs; ``revoke``: the valid
one is revoked) and clears both when the suspension is lifted. Every key names the suspension
and the move it carries, so a lift after an overturned appeal is a delivery of its own.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from hub.canonical import Suspension
from hub.sync.flows.base import OutboxDraft, compact, iso, person_key
from hub.sync.models import OutboxMessage
from hub.sync.outbox import enqueue_many

DELIVERED_STATES = ("confirmed", "lifted")
"""States whose suspension was confirmed: it reaches the registries. A proposal never does."""

RULE_DECIDER = "RULE"


def decision_ref(suspension: Suspension) -> str:
    """The reference the registries keep: rule and the hub's suspension id."""
    return f"{suspension.rule}/{suspension.id}"


def decided_by(suspension: Suspension) -> str:
    """Who decided, as SAS records it: the CSW office, or ``RULE`` for automatic decisions."""
    if suspension.decision_mode == "automatic":
        return RULE_DECIDER
    return suspension.office_code or RULE_DECIDER


def suspension_drafts(
    suspension: Suspension, *, personal_no: str, in_sas_case: bool
) -> list[OutboxDraft]:
    """Every delivery a suspension in its current state calls for, oldest move first."""
    if suspension.status not in DELIVERED_STATES or suspension.suspended_until is None:
        return []
    order = person_key(suspension.person_id)
    base = f"suspension:{suspension.id}"
    reference = decision_ref(suspension)
    certificate_action = str(
        suspension.evidence.get("policy", {}).get("certificate_action", "refuse")
    )
    window = {
        "personalNo": personal_no,
        "suspendedFrom": iso(suspension.suspended_from),
        "suspendedUntil": iso(suspension.suspended_until),
        "rule": suspension.rule,
        "decisionRef": reference,
    }
    drafts = [
        OutboxDraft(
            "emis",
            "SetBenefitSuspensionFlag",
            order,
            f"{base}:set:emis",
            {**window, "certificateAction": certificate_action},
        )
    ]
    if in_sas_case:
        offers = [event["offer_key"] for event in suspension.evidence.get("counted", [])]
        drafts.append(
            OutboxDraft(
                "sas",
                "SetBenefitSuspension",
                order,
                f"{base}:set:sas",
                {**window, "decidedBy": decided_by(suspension), "offerId": offers},
            )
        )
    if suspension.status == "lifted" and suspension.lifted_on is not None:
        reason = suspension.lift_reason or "ended"
        drafts.append(
            OutboxDraft(
                "emis",
                "ClearBenefitSuspensionFlag",
                order,
                f"{base}:lift:{reason}:emis",
                {
                    "personalNo": personal_no,
                    "decisionRef": reference,
                    "clearedOn": iso(suspension.lifted_on),
                    "reason": reason,
                },
            )
        )
        if in_sas_case:
            drafts.append(
                OutboxDraft(
                    "sas",
                    "LiftBenefitSuspension",
                    order,
                    f"{base}:lift:{reason}:sas",
                    compact(
                        {
                            "personalNo": personal_no,
                            "decisionRef": reference,
                            "liftedOn": iso(suspension.lifted_on),
                            "reason": reason,
                            "arrearsFrom": iso(suspension.arrears_from),
                            "arrearsUntil": iso(suspension.arrears_until),
                        }
                    ),
                )
            )
    return drafts


def queue_new(session: Session, drafts: list[OutboxDraft], *, flow: str = "suspensions") -> int:
    """Put the drafts not queued yet into the outbox, in this transaction; how many were new."""
    if not drafts:
        return 0
    keys = [draft.idempotency_key for draft in drafts]
    queued = set(
        session.execute(
            select(col(OutboxMessage.idempotency_key)).where(
                col(OutboxMessage.idempotency_key).in_(keys)
            )
        ).scalars()
    )
    new = [draft.row(flow) for draft in drafts if draft.idempotency_key not in queued]
    enqueue_many(session, new)
    return len(new)
