"""``/v1/suspension-proposals``, ``/v1/suspensions/{id}``, ``/v1/appeals``: decisions about people.

A social work centre (``suspension:decide``, bound to its office codes) lists the open
proposals of its municipalities, reads one with its evidence, confirms, rejects or holds it,
reads a person's refusal history, and lodges an appeal on a person's behalf. An appeal body
(``appeal:decide``) lists pending appeals and decides them at first or second degree.
Another office's suspension is 404, as if it did not exist. Every read of a suspension and
every decision is audited in the transaction that makes it, naming the client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlmodel import Session, col

from hub.api.decisions.models import (
    AppealDecisionRequest,
    AppealPage,
    AppealPublic,
    AppealRequest,
    ConfirmRequest,
    HoldRequest,
    RefusalHistory,
    RefusalPublic,
    RejectRequest,
    SuspensionEventPublic,
    SuspensionPage,
    SuspensionPublic,
)
from hub.api.deps import SessionDep, SettingsDep
from hub.api.params import id_path, limit_query, offset_query, personal_no_path
from hub.api.problems import error_responses
from hub.api.security import Caller, require, require_one_of
from hub.audit import service as audit
from hub.audit.service import AuditAction, AuditEvent
from hub.canonical import (
    BenefitCase,
    BenefitCaseMember,
    JobOffer,
    PersonIdentifier,
    Refusal,
    Suspension,
)
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.decisions import service
from hub.decisions.models import Appeal
from hub.errors import InvalidInput, NotFound
from hub.mappings.transforms import TransformFailure, personal_no
from hub.policy import load_profile
from hub.store.types import utc_now

router = APIRouter(prefix="/v1", tags=["decisions"])

Csw = Annotated[Caller, Depends(require("suspension:decide"))]
AppealBody = Annotated[Caller, Depends(require("appeal:decide"))]
Appellant = Annotated[Caller, Depends(require_one_of("suspension:decide", "appeal:decide"))]
SuspensionId = Annotated[int, id_path("the suspension's id, from GET /v1/suspension-proposals")]
AppealId = Annotated[int, id_path("the appeal's id")]
_READ = error_responses(401, 403, 404, 422, 429, 503)
_WRITE = error_responses(401, 403, 404, 409, 413, 422, 429, 503)
_FIELDS = ("suspension", "evidence", "refusals", "appeals")


@router.get("/suspension-proposals", response_model=SuspensionPage, responses=_READ)
def list_proposals(
    session: SessionDep,
    caller: Csw,
    limit: Annotated[int, limit_query(le=200)] = 50,
    offset: Annotated[int, offset_query()] = 0,
) -> SuspensionPage:
    """Open proposals (proposed or on hold) of my offices, oldest first, with their evidence."""
    rows, total = service.open_proposals(session, caller.offices, limit=limit, offset=offset)
    items = _public(session, rows)
    _audit(session, caller, "read", rows, "/v1/suspension-proposals")
    return SuspensionPage(total=total, items=items)


@router.get("/suspensions/{suspension_id}", response_model=SuspensionPublic, responses=_READ)
def get_suspension(
    suspension_id: SuspensionId, session: SessionDep, caller: Csw
) -> SuspensionPublic:
    """One suspension of my offices: evidence, state, dates, appeals and its whole history."""
    suspension = service.for_offices(session, suspension_id, caller.offices)
    _audit(session, caller, "read", [suspension], "/v1/suspensions/{suspension_id}")
    return _public(session, [suspension])[0]


@router.post(
    "/suspensions/{suspension_id}/confirm", response_model=SuspensionPublic, responses=_WRITE
)
def confirm(
    suspension_id: SuspensionId, body: ConfirmRequest, session: SessionDep, caller: Csw
) -> SuspensionPublic:
    """Confirm a proposal with its dates; only now does it reach SAS and EMIS."""
    suspension = service.for_offices(session, suspension_id, caller.offices)
    service.confirm(
        session,
        suspension,
        actor=caller.client,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        reason=body.reason,
    )
    _audit(session, caller, "decision", [suspension], "/v1/suspensions/{suspension_id}/confirm")
    return _public(session, [suspension])[0]


@router.post(
    "/suspensions/{suspension_id}/reject", response_model=SuspensionPublic, responses=_WRITE
)
def reject(
    suspension_id: SuspensionId, body: RejectRequest, session: SessionDep, caller: Csw
) -> SuspensionPublic:
    """Reject a proposal: nothing reaches the registries."""
    suspension = service.for_offices(session, suspension_id, caller.offices)
    service.reject(session, suspension, actor=caller.client, reason=body.reason)
    _audit(session, caller, "decision", [suspension], "/v1/suspensions/{suspension_id}/reject")
    return _public(session, [suspension])[0]


@router.post("/suspensions/{suspension_id}/hold", response_model=SuspensionPublic, responses=_WRITE)
def hold(
    suspension_id: SuspensionId, body: HoldRequest, session: SessionDep, caller: Csw
) -> SuspensionPublic:
    """Hold a proposal awaiting information; it stays open."""
    suspension = service.for_offices(session, suspension_id, caller.offices)
    service.hold(session, suspension, actor=caller.client, note=body.note)
    _audit(session, caller, "decision", [suspension], "/v1/suspensions/{suspension_id}/hold")
    return _public(session, [suspension])[0]


@router.post(
    "/suspensions/{suspension_id}/appeals",
    status_code=201,
    response_model=AppealPublic,
    responses=_WRITE,
)
def lodge_appeal(
    suspension_id: SuspensionId, body: AppealRequest, session: SessionDep, caller: Appellant
) -> AppealPublic:
    """Lodge an appeal: by the CSW on the person's behalf, or by the appeal body."""
    if caller.purpose == "suspension:decide":
        suspension = service.for_offices(session, suspension_id, caller.offices)
    else:
        found = session.get(Suspension, suspension_id)
        if found is None:
            raise NotFound(f"no suspension {suspension_id}")
        suspension = found
    appeal = service.lodge_appeal(
        session, suspension, actor=caller.client, grounds=body.grounds, lodged_on=body.lodged_on
    )
    _audit(session, caller, "decision", [suspension], "/v1/suspensions/{suspension_id}/appeals")
    return AppealPublic.model_validate(appeal, from_attributes=True)


@router.get("/appeals", response_model=AppealPage, responses=_READ)
def pending_appeals(
    session: SessionDep,
    caller: AppealBody,
    limit: Annotated[int, limit_query(le=200)] = 50,
) -> AppealPage:
    """Suspensions with a pending appeal, oldest appeal first."""
    rows = list(
        session.execute(
            select(Suspension)
            .join(Appeal, col(Appeal.suspension_id) == col(Suspension.id))
            .where(col(Appeal.state) == "pending")
            .order_by(col(Appeal.id))
            .limit(limit)
        ).scalars()
    )
    _audit(session, caller, "read", rows, "/v1/appeals")
    return AppealPage(items=_public(session, rows))


@router.post("/appeals/{appeal_id}/decision", response_model=SuspensionPublic, responses=_WRITE)
def decide_appeal(
    appeal_id: AppealId,
    body: AppealDecisionRequest,
    session: SessionDep,
    caller: AppealBody,
) -> SuspensionPublic:
    """Uphold or overturn; overturned lifts the suspension at once and records arrears owed."""
    _appeal, suspension = service.decide_appeal(
        session,
        appeal_id,
        actor=caller.client,
        outcome=body.outcome,
        reason=body.reason,
        today=utc_now().date(),
    )
    _audit(session, caller, "decision", [suspension], "/v1/appeals/{appeal_id}/decision")
    return _public(session, [suspension])[0]


@router.get(
    "/persons/{personal_no}/refusals",
    response_model=RefusalHistory,
    responses=_READ,
    tags=["persons"],
)
def refusal_history(
    number_in_path: Annotated[str, personal_no_path(alias="personal_no")],
    session: SessionDep,
    settings: SettingsDep,
    caller: Csw,
) -> RefusalHistory:
    """A person of my municipalities: every refused offer, its reason and whether justified."""
    number = _checked(number_in_path)
    person_id = _person_of_offices(session, number, caller.offices)
    profile = load_profile(settings.policy_profile)
    rows = session.execute(
        select(Refusal, JobOffer)
        .outerjoin(JobOffer, col(JobOffer.offer_key) == col(Refusal.offer_key))
        .where(col(Refusal.person_id) == person_id)
        .order_by(col(Refusal.refused_on), col(Refusal.offer_key))
    ).all()
    audit.append_many(
        session,
        events=[
            AuditEvent(
                "read",
                caller.client,
                caller.purpose,
                person_id,
                ("refusals",),
                "/v1/persons/{personal_no}/refusals",
                caller.request_id,
            )
        ],
    )
    return RefusalHistory(
        personal_no=number,
        profile=profile.code,
        items=[
            RefusalPublic(
                offer_id=refusal.offer_key,
                refused_on=refusal.refused_on,
                reason_code=refusal.reason_code,
                justified=profile.is_justified(refusal.reason_code),
                offer_kind=offer.kind if offer else None,
                employer_name=offer.employer_name if offer else None,
                occupation_code=offer.occupation_code if offer else None,
                offered_on=offer.offered_on if offer else None,
            )
            for refusal, offer in rows
        ],
    )


def _checked(value: str) -> str:
    try:
        return personal_no(value)
    except TransformFailure as error:
        raise InvalidInput(str(error), field="personal_no") from None


def _person_of_offices(session: Session, number: str, offices: frozenset[str]) -> int:
    """The person, if a case or a suspension of theirs belongs to one of ``offices``."""
    person_id = session.execute(
        select(col(PersonIdentifier.person_id)).where(
            col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
            col(PersonIdentifier.value) == number,
        )
    ).scalar()
    office_list = list(offices)
    known = person_id is not None and (
        session.execute(
            select(col(Suspension.id)).where(
                col(Suspension.person_id) == person_id, col(Suspension.office_code).in_(office_list)
            )
        ).first()
        or session.execute(
            select(col(BenefitCase.id))
            .outerjoin(
                BenefitCaseMember, col(BenefitCaseMember.case_key) == col(BenefitCase.case_key)
            )
            .where(
                col(BenefitCase.office_code).in_(office_list),
                (col(BenefitCase.applicant_person_id) == person_id)
                | (col(BenefitCaseMember.person_id) == person_id),
            )
        ).first()
    )
    if not known or person_id is None:
        raise NotFound(
            "no person with this personal number among your offices' cases",
            hint="check the number; a person of another municipality is that CSW's to see",
        )
    return int(person_id)


def _audit(
    session: Session,
    caller: Caller,
    action: AuditAction,
    suspensions: Sequence[Suspension],
    target: str,
) -> None:
    if not suspensions:
        return
    audit.append_many(
        session,
        events=[
            AuditEvent(
                action,
                caller.client,
                caller.purpose,
                suspension.person_id,
                _FIELDS,
                target,
                caller.request_id,
            )
            for suspension in suspensions
        ],
    )


def _public(session: Session, rows: Sequence[Suspension]) -> list[SuspensionPublic]:
    ids = [row.id or 0 for row in rows]
    numbers = dict(
        session.execute(
            select(col(PersonIdentifier.person_id), col(PersonIdentifier.value)).where(
                col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
                col(PersonIdentifier.person_id).in_([row.person_id for row in rows]),
            )
        ).all()
    )
    appeals: dict[int, list[Appeal]] = {}
    for appeal in service.appeals_of(session, ids):
        appeals.setdefault(appeal.suspension_id, []).append(appeal)
    history: dict[int, list[SuspensionEventPublic]] = {}
    for event in service.events_of(session, ids):
        history.setdefault(event.suspension_id, []).append(
            SuspensionEventPublic.model_validate(event, from_attributes=True)
        )
    today = utc_now().date()
    items = []
    for row in rows:
        mine = appeals.get(row.id or 0, [])
        items.append(
            SuspensionPublic(
                id=row.id or 0,
                personal_no=numbers.get(row.person_id, ""),
                office_code=row.office_code,
                case_no=row.case_key,
                state=row.status,
                decision_mode=row.decision_mode,
                profile=row.policy_profile,
                profile_version=row.profile_version,
                rule=row.rule,
                proposed_at=row.proposed_at,
                age_days=(today - row.proposed_at.date()).days,
                suspended_from=row.suspended_from,
                suspended_until=row.suspended_until,
                decided_by=row.decided_by,
                decided_at=row.decided_at,
                decision_reason=row.decision_reason,
                hold_note=row.hold_note,
                lifted_on=row.lifted_on,
                lift_reason=row.lift_reason,
                arrears_from=row.arrears_from,
                arrears_until=row.arrears_until,
                appeal_pending=any(appeal.state == "pending" for appeal in mine),
                evidence=row.evidence,
                appeals=[AppealPublic.model_validate(a, from_attributes=True) for a in mine],
                history=history.get(row.id or 0, []),
            )
        )
    return items
