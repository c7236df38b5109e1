"""profile, EMIS -> SAS: the jobseeker's profile, once per change.

The source: "For all existing (and new) jobseekers, the SAS form is developed for
transfer of data from EMIS: education level, employment/unemployment statuses,
ALMP measures history and job refusals." Refusals travel on their own (the
refusals flow); this flow sends the rest as ``RecordJobseekerProfile``: education
level, the employment status with the day it began (registered, or terminated
with ``employed`` / ``deceased`` when that is the reason), the profiling segment,
and every placement in an active labour-market measure.

Only persons SAS knows receive a profile: SAS keeps profiles on its cases and
answers ``PersonNotFound`` for anyone in no case, so "all jobseekers" is read as
every jobseeker who is applicant or member of an open (active or suspended) case.
A person the civil registry knows as dead gets none (SAS is told of the death), nor
does a registration EMIS has not yet given an education level (a fresh referral).

The profile is the person's current registration (the active one, else the
latest). Its idempotency key carries a digest of the content: an unchanged
profile is never sent again, a changed one is, and so is a return to an earlier
content (the key also counts the person's profiles sent before).

Incremental: a run profiles again the persons whose registrations, placements, SAS cases or
golden records changed since the flow's marks, or whose registration, placement or case
began on a day that fell due since its last ``as_of``; the profiles sent before are read
for them alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlmodel import Session, col

from hub.canonical import JobseekerRegistration, Person, Placement
from hub.settings import Settings
from hub.sync.flows.base import (
    CASES,
    MEMBERS,
    PERSONS,
    REGISTRATIONS,
    FlowResult,
    OutboxDraft,
    case_people,
    compact,
    iso,
    open_case_people,
    per_person,
    person_key,
    personal_numbers,
)
from hub.sync.flows.changes import Changes, Stream, union_of
from hub.sync.models import OutboxMessage

FLOW = "profile"
PLACEMENTS = Stream.of("placements", Placement)
OPERATION = "RecordJobseekerProfile"
STATUS_REASONS = ("employed", "deceased")
"""Termination reasons the SAS contract takes; other reasons are sent as no reason."""


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """A profile message for each jobseeker in an open SAS case whose profile changed."""
    changes = Changes(
        session, FLOW, [REGISTRATIONS, PLACEMENTS, CASES, MEMBERS, PERSONS], as_of=as_of
    )
    result = FlowResult()
    per_person(
        session,
        result,
        changes,
        lambda: _touched(changes),
        lambda persons: _decide_for(session, result, as_of, persons),
    )
    result.marks = changes.marks()
    return result


def _touched(changes: Changes) -> Select[Any]:
    """Persons whose registrations, placements, cases or records changed, or whose
    registration or placement began, since the last run."""
    return union_of(
        [
            *changes.keys(REGISTRATIONS.name, "person_id", day="registered_on"),
            *changes.keys(PLACEMENTS.name, "person_id", day="start_date"),
            *case_people(changes),
            *changes.keys(PERSONS.name, "id"),
        ]
    )


def _decide_for(
    session: Session, result: FlowResult, as_of: date, persons: list[int] | None
) -> None:
    """Profile ``persons`` (None: every jobseeker in an open case)."""
    in_case = select(open_case_people(as_of, persons).subquery("cases").c.person_id).distinct()
    in_case_ids = in_case.subquery("in_case")
    pn = personal_numbers()
    rows = session.execute(
        select(JobseekerRegistration, pn.c.personal_no)
        .join(in_case_ids, in_case_ids.c.person_id == col(JobseekerRegistration.person_id))
        .join(pn, pn.c.person_id == col(JobseekerRegistration.person_id))
        .join(Person, col(Person.id) == col(JobseekerRegistration.person_id))
        .where(
            col(JobseekerRegistration.registered_on) <= as_of,
            or_(col(Person.death_date).is_(None), col(Person.death_date) > as_of),
        )
    ).all()
    current: dict[int, tuple[JobseekerRegistration, str]] = {}
    for registration, personal_no in rows:
        person_id = registration.person_id or 0
        held = current.get(person_id)
        if held is None or _currency(registration) > _currency(held[0]):
            current[person_id] = (registration, personal_no)
    result.pulled += len(current)
    if not current:
        return
    measures = _placements(session, in_case, as_of)
    sent = _latest_sent(session, None if persons is None else list(current))
    for person_id, (registration, personal_no) in sorted(current.items()):
        if registration.education_level is None:
            continue
        content = profile_content(registration, measures.get(person_id, []))
        digest = content_digest(content)
        count, last_digest = sent.get(person_key(person_id), (0, None))
        if digest == last_digest:
            continue
        result.drafts.append(
            OutboxDraft(
                "sas",
                OPERATION,
                person_key(person_id),
                f"profile:{person_id}:{count + 1}:{digest}",
                {"personalNo": personal_no, **content},
            )
        )


def profile_content(
    registration: JobseekerRegistration, placements: Iterable[Placement]
) -> dict[str, Any]:
    """The profile's fields as the SAS contract names them (all but the personal number)."""
    active = registration.status == "active"
    since = registration.registered_on if active else registration.terminated_on
    reason = registration.termination_reason
    almp = [
        compact(
            {
                "measureCode": placement.measure_code,
                "startDate": iso(placement.start_date),
                "endDate": iso(placement.end_date),
            }
        )
        for placement in placements
    ]
    return compact(
        {
            "educationLevel": registration.education_level,
            "employmentStatus": "registered" if active else "terminated",
            "statusSince": iso(since or registration.registered_on),
            "terminationReason": reason if not active and reason in STATUS_REASONS else None,
            "profilingSegment": registration.profiling_segment,
            "almpMeasure": almp or None,
        }
    )


def content_digest(content: dict[str, Any]) -> str:
    """16 hex digits of the SHA-256 of the content (the personal number is not part of it)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _currency(registration: JobseekerRegistration) -> tuple[bool, date, str]:
    """The active registration first, then the latest (as EMIS itself orders them)."""
    return (
        registration.status == "active",
        registration.registered_on,
        registration.jobseeker_key,
    )


def _placements(session: Session, people: Select[Any], as_of: date) -> dict[int, list[Placement]]:
    """The placements of the persons ``people`` selects, oldest first."""
    found: dict[int, list[Placement]] = {}
    rows = session.execute(
        select(Placement)
        .where(col(Placement.person_id).in_(people), col(Placement.start_date) <= as_of)
        .order_by(col(Placement.start_date), col(Placement.placement_key))
    ).scalars()
    for placement in rows:
        found.setdefault(placement.person_id, []).append(placement)
    return found


def _latest_sent(session: Session, persons: list[int] | None) -> dict[str, tuple[int, str]]:
    """Order key -> (profiles queued so far, digest of the latest) from the outbox keys (of
    ``persons``; None: of everyone)."""
    sent: Select[Any, int | None, int] = select(
        col(OutboxMessage.order_key).label("order_key"),
        func.max(col(OutboxMessage.id)).label("id"),
        func.count().label("count"),
    ).where(col(OutboxMessage.operation) == OPERATION)
    if persons is not None:  # the chain index: (order key, target, id)
        sent = sent.where(
            col(OutboxMessage.order_key).in_([person_key(p) for p in persons]),
            col(OutboxMessage.target_registry) == "sas",
        )
    latest = sent.group_by(col(OutboxMessage.order_key)).subquery("latest")
    rows = session.execute(
        select(latest.c.order_key, latest.c.count, col(OutboxMessage.idempotency_key)).join(
            OutboxMessage, col(OutboxMessage.id) == latest.c.id
        )
    ).all()
    return {order_key: (count, key.rsplit(":", 1)[-1]) for order_key, count, key in rows}
