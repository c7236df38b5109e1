"""suspensions, policy -> CSW decision -> SAS and EMIS: the activation policy proposes, the
social work centre decides, the registries are told of what was decided.

Each run:
1. applies the configured profile to every person's refusals (jobs, ALMP placements,
   training) and records a *proposal* with its evidence for each eligible person (a
   beneficiary of a category the profile targets, in an open SAS case) whose refusals reach
   the count; other persons' refusals are recorded and reported, never proposed;
2. lifts every confirmed suspension whose end date has passed;
3. queues, for every confirmed or lifted suspension, the deliveries its state calls for
   (:mod:`hub.decisions.deliveries`): a proposal never reaches a registry.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select, union
from sqlmodel import Session, col

from hub.canonical import BenefitCase, BenefitCaseMember, JobOffer, Refusal, Suspension
from hub.decisions import deliveries, service
from hub.decisions.models import SuspensionEvent
from hub.log import get_logger
from hub.policy import PolicyProfile, RefusalEvent, decide_all, load_profile
from hub.policy.models import OfferDetails
from hub.settings import Settings
from hub.sync.flows.base import CASES, MEMBERS, FlowResult, case_people, chunks, numbers_of
from hub.sync.flows.changes import Changes, Stream, union_of

log = get_logger("sync")

FLOW = "suspensions"
REFUSALS = Stream.of("refusals", Refusal)
OFFERS = Stream.of("offers", JobOffer)
MOVES = Stream.of("moves", SuspensionEvent, stamp="at")
"""Every move of a suspension (the API's decisions, this flow's proposals and lifts)."""


@dataclass(frozen=True)
class _Case:
    case_key: str
    category: str
    office_code: str | None


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """Propose what the rule finds, lift what has ended, queue what was decided.

    Incremental: the rule runs again for the persons whose refusals, refused offers or SAS
    cases changed since the flow's marks, or who refused on a day that fell due since its
    last ``as_of`` (all under the same profile: another profile re-reads everyone). Lifts
    come from an indexed query of the confirmed suspensions ended before ``as_of``. The
    deliveries are derived again for the suspensions that moved since the mark.
    """
    profile = load_profile(settings.policy_profile)
    changes = Changes(
        session,
        FLOW,
        [REFUSALS, OFFERS, CASES, MEMBERS, MOVES],
        as_of=as_of,
        basis=_basis(profile),
        defer=[MOVES.name],
    )
    refusals = _refusals(session, None if changes.full else _touched(changes))
    decisions = decide_all(profile=profile, refusals_by_person=refusals, as_of=as_of)
    cases = _open_cases(session, set(decisions))
    proposed = ineligible = 0
    for person_id, decision in decisions.items():
        case = cases.get(person_id)
        if case is None or not profile.is_eligible(case.category):
            ineligible += 1
            continue
        made = service.propose(
            session,
            service.Proposal(person_id, case.case_key, case.office_code, decision),
        )
        proposed += made is not None
    lifted = service.lift_due(session, as_of=as_of)
    result = FlowResult(pulled=sum(len(events) for events in refusals.values()))
    changes.take(MOVES.name)  # after this run's own moves: they queued their deliveries
    statement = select(Suspension).where(col(Suspension.status).in_(deliveries.DELIVERED_STATES))
    if not changes.full:
        moved = select(col(SuspensionEvent.suspension_id)).where(changes.after(MOVES.name))
        statement = statement.where(col(Suspension.id).in_(moved))
    decided = list(session.execute(statement).scalars())
    result.pulled += len(decided)
    numbers = numbers_of(session, {suspension.person_id for suspension in decided})
    for suspension in decided:
        personal_no = numbers.get(suspension.person_id)
        if personal_no is not None:
            result.drafts += deliveries.suspension_drafts(
                suspension, personal_no=personal_no, in_sas_case=suspension.case_key is not None
            )
    result.marks = changes.marks()
    log.info(
        "suspensions_decided",
        proposed=proposed,
        not_eligible=ineligible,
        lifted=len(lifted),
        profile=profile.code,
        incremental=not changes.full,
    )
    return result


def _basis(profile: PolicyProfile) -> str:
    """The profile the marks were taken under: another one judges every person again (the
    digest of its content, sets sorted: the same profile digests the same in any process)."""
    content = json.dumps(_canonical(profile.model_dump()), sort_keys=True, default=str)
    digest = hashlib.sha256(content.encode()).hexdigest()[:16]
    return f"{profile.code}:{profile.version}:{digest}"[:64]


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(_canonical(item) for item in value)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def _touched(changes: Changes) -> Select[Any]:
    """Persons whose refusals, refused offers or open cases changed, or who refused on a day
    that fell due since the last run."""
    return union_of(
        [
            *changes.keys(REFUSALS.name, "person_id", day="refused_on"),
            *changes.keys(OFFERS.name, "person_id"),
            *case_people(changes),
        ]
    )


def _refusals(session: Session, persons: Select[Any] | None) -> dict[int, list[RefusalEvent]]:
    """The refusals of ``persons`` (None: everyone's), each with the offer it refused where
    EMIS sent it."""
    statement = select(
        col(Refusal.person_id),
        col(Refusal.offer_key),
        col(Refusal.refused_on),
        col(Refusal.reason_code),
        col(JobOffer.kind),
        col(JobOffer.employer_name),
        col(JobOffer.occupation_code),
        col(JobOffer.offered_on),
    ).outerjoin(JobOffer, col(JobOffer.offer_key) == col(Refusal.offer_key))
    if persons is not None:
        statement = statement.where(col(Refusal.person_id).in_(persons))
    rows = session.execute(statement).all()
    refusals: dict[int, list[RefusalEvent]] = defaultdict(list)
    for person_id, offer_key, refused_on, reason, kind, employer, occupation, offered_on in rows:
        offer = (
            OfferDetails(kind or "job_offer", employer, occupation, offered_on)
            if offered_on is not None
            else None
        )
        refusals[person_id].append(RefusalEvent(offer_key, refused_on, reason, offer))
    return refusals


def _open_cases(session: Session, person_ids: set[int]) -> dict[int, _Case]:
    """The open (active or suspended) SAS case of each person, applicant or member."""
    found: dict[int, _Case] = {}
    for chunk in chunks(person_ids):
        open_states = ("active", "suspended")
        applicants: Select[int, str] = select(
            col(BenefitCase.applicant_person_id).label("person_id"), col(BenefitCase.case_key)
        ).where(
            col(BenefitCase.status).in_(open_states),
            col(BenefitCase.applicant_person_id).in_(chunk),
        )
        members = (
            select(col(BenefitCaseMember.person_id), col(BenefitCaseMember.case_key))
            .join(BenefitCase, col(BenefitCase.case_key) == col(BenefitCaseMember.case_key))
            .where(
                col(BenefitCase.status).in_(open_states),
                col(BenefitCaseMember.person_id).in_(chunk),
            )
        )
        covered = union(applicants, members).subquery("covered")
        rows = session.execute(
            select(
                covered.c.person_id,
                col(BenefitCase.case_key),
                col(BenefitCase.category),
                col(BenefitCase.office_code),
            )
            .join(BenefitCase, col(BenefitCase.case_key) == covered.c.case_key)
            .order_by(col(BenefitCase.case_key))
        ).all()
        for person_id, case_key, category, office_code in rows:
            found.setdefault(person_id, _Case(case_key, category, office_code))
    return found
