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

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select, union
from sqlmodel import Session, col

from hub.canonical import BenefitCase, BenefitCaseMember, JobOffer, Refusal, Suspension
from hub.decisions import deliveries, service
from hub.log import get_logger
from hub.policy import RefusalEvent, decide_all, load_profile
from hub.policy.models import OfferDetails
from hub.settings import Settings
from hub.sync.flows.base import FlowResult, personal_numbers

log = get_logger("sync")


@dataclass(frozen=True)
class _Case:
    case_key: str
    category: str
    office_code: str | None


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """Propose what the rule finds, lift what has ended, queue what was decided."""
    profile = load_profile(settings.policy_profile)
    refusals = _refusals(session)
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
    numbers = dict(session.execute(select(personal_numbers())).all())
    decided = session.execute(
        select(Suspension).where(col(Suspension.status).in_(deliveries.DELIVERED_STATES))
    ).scalars()
    for suspension in decided:
        personal_no = numbers.get(suspension.person_id)
        if personal_no is not None:
            result.drafts += deliveries.suspension_drafts(
                suspension, personal_no=personal_no, in_sas_case=suspension.case_key is not None
            )
    log.info(
        "suspensions_decided",
        proposed=proposed,
        not_eligible=ineligible,
        lifted=len(lifted),
        profile=profile.code,
    )
    return result


def _refusals(session: Session) -> dict[int, list[RefusalEvent]]:
    """Every person's refusals, each with the offer it refused where EMIS sent it."""
    rows = session.execute(
        select(
            col(Refusal.person_id),
            col(Refusal.offer_key),
            col(Refusal.refused_on),
            col(Refusal.reason_code),
            col(JobOffer.kind),
            col(JobOffer.employer_name),
            col(JobOffer.occupation_code),
            col(JobOffer.offered_on),
        ).outerjoin(JobOffer, col(JobOffer.offer_key) == col(Refusal.offer_key))
    ).all()
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
    open_states = ("active", "suspended")
    applicants: Select[int, str] = select(
        col(BenefitCase.applicant_person_id).label("person_id"), col(BenefitCase.case_key)
    ).where(col(BenefitCase.status).in_(open_states))
    members = (
        select(col(BenefitCaseMember.person_id), col(BenefitCaseMember.case_key))
        .join(BenefitCase, col(BenefitCase.case_key) == col(BenefitCaseMember.case_key))
        .where(col(BenefitCase.status).in_(open_states))
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
    found: dict[int, _Case] = {}
    for person_id, case_key, category, office_code in rows:
        if person_id in person_ids:
            found.setdefault(person_id, _Case(case_key, category, office_code))
    return found
