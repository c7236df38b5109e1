"""A person: search by personal number, the canonical record with the source and time of
every value, decisions and appeals, and the audit trail of who saw the person's data.

The look-up is read and audited as ``GET /v1/persons/{pn}`` is (``person:read``, the same
reads on the event loop, the same group-committed audit entry), and only then is the trail
read, so it shows this look-up too. A search that finds nobody is audited as well. The
number travels in a posted form, never in a URL, so it stays out of logs and history.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import BindParameter, Integer, Table, bindparam, func, select
from sqlmodel import SQLModel
from starlette.responses import Response

from hub.api.persons import service as persons
from hub.api.persons.models import PersonRecord
from hub.audit.models import AuditEntry
from hub.audit.recorder import AuditRecorder
from hub.audit.service import AuditEvent
from hub.canonical import Suspension
from hub.console.web import PREFIX, FormData, User, render
from hub.decisions.models import Appeal
from hub.errors import InvalidInput, NotFound
from hub.store.prepared import LoopConnection

router = APIRouter()

PERSON = f"{PREFIX}/person"
TRAIL = 200
FIELDS = (*sorted(PersonRecord.model_fields), "decisions", "appeals", "audit_trail")


def _table(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


_SUSPENSION, _APPEAL, _AUDIT = _table(Suspension), _table(Appeal), _table(AuditEntry)
_PERSON_ID: BindParameter[int] = bindparam("person_id", type_=Integer)
_SUSPENSIONS = (
    select(
        _SUSPENSION.c.id,
        _SUSPENSION.c.status,
        _SUSPENSION.c.office_code,
        _SUSPENSION.c.rule,
        _SUSPENSION.c.proposed_at,
        _SUSPENSION.c.suspended_from,
        _SUSPENSION.c.suspended_until,
        _SUSPENSION.c.decided_by,
        _SUSPENSION.c.decision_reason,
        _SUSPENSION.c.lifted_on,
        _SUSPENSION.c.lift_reason,
    )
    .where(_SUSPENSION.c.person_id == _PERSON_ID)
    .order_by(_SUSPENSION.c.proposed_at.desc(), _SUSPENSION.c.id.desc())
)
_APPEALS = (
    select(
        _APPEAL.c.id,
        _APPEAL.c.suspension_id,
        _APPEAL.c.degree,
        _APPEAL.c.state,
        _APPEAL.c.lodged_on,
        _APPEAL.c.lodged_by,
        _APPEAL.c.decided_by,
        _APPEAL.c.decision_reason,
    )
    .join(_SUSPENSION, _SUSPENSION.c.id == _APPEAL.c.suspension_id)
    .where(_SUSPENSION.c.person_id == _PERSON_ID)
    .order_by(_APPEAL.c.id)
)
_TRAIL = (
    select(
        _AUDIT.c.id,
        _AUDIT.c.occurred_at,
        _AUDIT.c.action,
        _AUDIT.c.actor,
        _AUDIT.c.purpose,
        _AUDIT.c.fields,
        _AUDIT.c.target,
        _AUDIT.c.request_id,
    )
    .where(_AUDIT.c.person_id == _PERSON_ID)
    .order_by(_AUDIT.c.id.desc())
    .limit(TRAIL)
)
_TRAIL_COUNT = select(func.count()).select_from(_AUDIT).where(_AUDIT.c.person_id == _PERSON_ID)


@router.get(PERSON)
async def search_page(request: Request, user: User) -> Response:
    """The search form."""
    user.require("person:read")
    return render(request, "person.html", user=user, found=None, error=None, searched="")


@router.post(PERSON)
async def look_up(request: Request, user: User, form: FormData) -> Response:
    """Find the person of a personal number, audit the look-up, show the record and trail."""
    caller = user.caller("person:read")
    typed = form.get("personal_no")
    try:
        number = persons.checked_personal_no(typed)
    except InvalidInput:
        return render(
            request, "person.html", user=user, found=None, error="invalid", searched="", status=422
        )
    reads: LoopConnection = request.app.state.reads
    audit: AuditRecorder = request.app.state.audit
    try:
        with reads.reading() as reader:  # one synchronous section, before any await
            person_id = persons.get_person_id(reader, personal_no=number)
            view = persons.get_person_record(reader, person_id=person_id, personal_no=number)
            decisions = reader.all(_SUSPENSIONS, person_id=person_id)
            appeals = reader.all(_APPEALS, person_id=person_id)
    except NotFound:
        await audit.record_async(
            [
                AuditEvent(
                    "read",
                    caller.client,
                    caller.purpose,
                    None,
                    ("search",),
                    PERSON,
                    caller.request_id,
                )
            ]
        )
        return render(
            request, "person.html", user=user, found=None, error="unknown", searched="", status=404
        )
    await audit.record_async(caller.reads([person_id], fields=FIELDS, target=PERSON))
    with reads.reading() as reader:
        trail = reader.all(_TRAIL, person_id=person_id)
        trail_total = int(reader.scalar(_TRAIL_COUNT, person_id=person_id) or 0)
    return render(
        request,
        "person.html",
        user=user,
        found=view,
        decisions=decisions,
        appeals=_by_suspension(appeals),
        trail=trail,
        trail_total=trail_total,
        error=None,
        searched=number,
    )


def _by_suspension(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(int(row["suspension_id"]), []).append(row)
    return grouped
