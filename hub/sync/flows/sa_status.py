"""sa-status, SAS -> EMIS: which jobseekers are category II beneficiaries, since when."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select, union
from sqlmodel import Session, col

from hub.canonical import BenefitCase, BenefitCaseMember, JobseekerRegistration
from hub.settings import Settings
from hub.sync.flows.base import FlowResult, OutboxDraft, iso, person_key, personal_numbers


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """One status per active jobseeker in an active category II case (applicant or member)."""
    category_two = (
        col(BenefitCase.status) == "active",
        col(BenefitCase.category) == "II",
        col(BenefitCase.since) <= as_of,
    )
    applicants: Select[int, str, date] = select(
        col(BenefitCase.applicant_person_id).label("person_id"),
        col(BenefitCase.case_key).label("case_key"),
        col(BenefitCase.since).label("since"),
    ).where(*category_two)
    members: Select[int, str, date] = (
        select(
            col(BenefitCaseMember.person_id).label("person_id"),
            col(BenefitCase.case_key).label("case_key"),
            col(BenefitCase.since).label("since"),
        )
        .join(BenefitCase, col(BenefitCase.case_key) == col(BenefitCaseMember.case_key))
        .where(*category_two)
    )
    beneficiaries = union(applicants, members).subquery("beneficiaries")
    pn = personal_numbers()
    rows = session.execute(
        select(
            col(JobseekerRegistration.person_id),
            col(JobseekerRegistration.jobseeker_key),
            beneficiaries.c.case_key,
            beneficiaries.c.since,
            pn.c.personal_no,
        )
        .join(beneficiaries, beneficiaries.c.person_id == col(JobseekerRegistration.person_id))
        .join(pn, pn.c.person_id == col(JobseekerRegistration.person_id))
        .where(col(JobseekerRegistration.status) == "active")
        .order_by(col(JobseekerRegistration.jobseeker_key), beneficiaries.c.case_key)
    ).all()
    result = FlowResult(pulled=len(rows))
    seen: set[str] = set()
    for person_id, jobseeker_key, case_key, since, personal_no in rows:
        if jobseeker_key in seen:
            continue
        seen.add(jobseeker_key)
        result.drafts.append(
            OutboxDraft(
                "emis",
                "SetSocialAssistanceStatus",
                person_key(person_id),
                f"sa-status:{jobseeker_key}:{case_key}:II",
                {
                    "personalNo": personal_no,
                    "category": "II",
                    "since": iso(since),
                    "caseNo": case_key,
                },
            )
        )
    return result
