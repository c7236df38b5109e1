"""suspensions, policy -> SAS and EMIS: benefit-suspension flags the activation policy decides.

Every decision is also kept as a Suspension row with its rule and evidence.
EMIS flags every suspended jobseeker; SAS is told for persons in one of its cases.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from hub.canonical import Refusal, Suspension
from hub.policy import RefusalEvent, SuspensionDecision, decide_all, load_profile
from hub.settings import Settings
from hub.sync.flows.base import (
    FlowResult,
    OutboxDraft,
    iso,
    open_benefit_cases,
    person_key,
    personal_numbers,
)


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """Apply the configured profile to every person's refusals."""
    profile = load_profile(settings.policy_profile)
    refusals: dict[int, list[RefusalEvent]] = defaultdict(list)
    rows = session.execute(
        select(
            col(Refusal.person_id),
            col(Refusal.offer_key),
            col(Refusal.refused_on),
            col(Refusal.reason_code),
        )
    ).all()
    for person_id, offer_key, refused_on, reason_code in rows:
        refusals[person_id].append(RefusalEvent(offer_key, refused_on, reason_code))
    decisions = decide_all(profile=profile, refusals_by_person=refusals, as_of=as_of)
    result = FlowResult(pulled=len(rows))
    if not decisions:
        return result
    numbers = dict(session.execute(select(personal_numbers())).all())
    cases = open_benefit_cases(session, set(decisions))
    recorded = _record(session, decisions, cases)
    for person_id, decision in decisions.items():
        personal_no = numbers.get(person_id)
        if personal_no is None:
            continue
        reference = f"{decision.rule}/{recorded[person_id]}"
        flag = {
            "personalNo": personal_no,
            "suspendedFrom": iso(decision.suspended_from),
            "rule": decision.rule,
            "decisionRef": reference,
        }
        key = f"suspension:{decision.profile}:{person_id}:{decision.suspended_from.isoformat()}"
        result.drafts.append(
            OutboxDraft(
                "emis", "SetBenefitSuspensionFlag", person_key(person_id), f"{key}:emis", flag
            )
        )
        if person_id in cases:
            offers = [event.offer_key for event in decision.counted]
            result.drafts.append(
                OutboxDraft(
                    "sas",
                    "SetBenefitSuspension",
                    person_key(person_id),
                    f"{key}:sas",
                    {**flag, "offerId": offers},
                )
            )
    return result


def _record(
    session: Session, decisions: dict[int, SuspensionDecision], cases: dict[int, str]
) -> dict[int, int]:
    """Keep each decision once (person, rule, start); the id of each person's row."""
    existing = {
        (s.person_id, s.rule, s.suspended_from): s.id
        for s in session.execute(select(Suspension)).scalars()
    }
    ids: dict[int, int] = {}
    for person_id, decision in decisions.items():
        key = (person_id, decision.rule, decision.suspended_from)
        if key not in existing:
            row = Suspension(
                person_id=person_id,
                case_key=cases.get(person_id),
                policy_profile=decision.profile,
                rule=decision.rule,
                evidence=decision.to_evidence(),
                suspended_from=decision.suspended_from,
            )
            session.add(row)
            session.flush()
            existing[key] = row.id
        ids[person_id] = existing[key] or 0
    return ids
