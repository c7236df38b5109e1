"""Decisions: a social work centre's open proposals and running suspensions, an appeal body's
pending appeals. The same services, checks and audit entries as ``/v1/suspensions``: a CSW
sees and decides only its offices' cases (another office's is "not found"), and every page
that shows a person, and every decision, is audited naming the client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlmodel import Session, col
from starlette.responses import Response

from hub.api.security import Caller
from hub.canonical import Suspension
from hub.console.records import engine_of, personal_numbers, record
from hub.console.web import (
    PREFIX,
    ConsoleUser,
    Form,
    FormData,
    User,
    back_with,
    failed,
    form_date,
    render,
)
from hub.decisions import service
from hub.decisions.lifecycle import OPEN_STATES
from hub.decisions.models import Appeal, SuspensionEvent
from hub.errors import HubError, InvalidInput, NotFound
from hub.store.engine import unit_of_work
from hub.store.types import utc_now

router = APIRouter()

FIELDS = ("suspension", "evidence", "refusals", "appeals")
"""What a page of a suspension shows, as ``/v1/suspensions`` audits it."""
RUNNING_LIMIT = 200
POLICY_NUMBERS = (
    "max_unjustified_refusals",
    "window_days",
    "suspension_months",
    "suspension_months_bounds",
    "certificate_action",
    "eligible_categories",
    "reason_test",
)


@dataclass(frozen=True)
class Row:
    """A suspension as a list shows it."""

    suspension: Suspension
    personal_no: str
    age_days: int
    appeal_pending: bool


@dataclass(frozen=True)
class Detail:
    """A suspension with everything the decider must see."""

    row: Row
    counted: list[dict[str, Any]]
    ignored: list[dict[str, Any]]
    policy: dict[str, Any]
    unconfirmed: frozenset[str]
    evidence: dict[str, Any]
    history: list[SuspensionEvent]
    appeals: list[Appeal]

    @property
    def open(self) -> bool:
        """Still waiting for the CSW."""
        return self.row.suspension.status in OPEN_STATES

    @property
    def appealable(self) -> bool:
        """A confirmed suspension without a pending appeal and with a degree left."""
        suspension = self.row.suspension
        decided = [a for a in self.appeals if a.state != "pending"]
        return (
            suspension.status in ("confirmed", "lifted")
            and suspension.lift_reason in (None, "ended")
            and not self.row.appeal_pending
            and len(decided) < 2
            and not any(a.state == "overturned" for a in decided)
        )


@router.get(f"{PREFIX}/decisions")
def decisions(request: Request, user: User) -> Response:
    """Open proposals of my offices, oldest first; running suspensions with their end."""
    caller = user.caller("suspension:decide")
    with unit_of_work(engine_of(request)) as session:
        proposals, total = service.open_proposals(
            session, caller.offices, limit=RUNNING_LIMIT, offset=0
        )
        running = list(
            session.execute(
                select(Suspension)
                .where(
                    col(Suspension.office_code).in_(sorted(caller.offices)),
                    col(Suspension.status) == "confirmed",
                )
                .order_by(col(Suspension.suspended_until), col(Suspension.id))
                .limit(RUNNING_LIMIT)
            ).scalars()
        )
        open_rows, running_rows = _rows(session, proposals), _rows(session, running)
        record(
            session,
            caller,
            "read",
            [row.suspension.person_id for row in (*open_rows, *running_rows)],
            fields=FIELDS,
            target=f"{PREFIX}/decisions",
        )
    return render(
        request,
        "decisions.html",
        user=user,
        proposals=open_rows,
        total=total,
        running=running_rows,
        offices=sorted(caller.offices),
    )


@router.get(f"{PREFIX}/decisions/{{suspension_id}}")
def proposal(request: Request, user: User, suspension_id: int) -> Response:
    """One suspension of my offices: its evidence side by side, the rule, the forms."""
    caller = user.caller("suspension:decide")
    try:
        with unit_of_work(engine_of(request)) as session:
            suspension = service.for_offices(session, suspension_id, caller.offices)
            detail = _detail(session, suspension)
            record(
                session,
                caller,
                "read",
                [suspension.person_id],
                fields=FIELDS,
                target=f"{PREFIX}/decisions/{{suspension_id}}",
            )
    except NotFound:
        return render(request, "not_found.html", user=user, status=404)
    today = utc_now().date()
    return render(
        request,
        "proposal.html",
        user=user,
        detail=detail,
        suspension=detail.row.suspension,
        today=today,
        earliest_start=_earliest_start(detail),
    )


@router.post(f"{PREFIX}/decisions/{{suspension_id}}/confirm")
def confirm(request: Request, user: User, form: FormData, suspension_id: int) -> Response:
    """Confirm with dates and a reason; only now does it go to SAS and EMIS."""
    caller = user.caller("suspension:decide")
    try:
        starts_on = form_date(form, "starts_on")
        if starts_on is None:
            raise _missing("starts_on")
        with unit_of_work(engine_of(request)) as session:
            suspension = service.for_offices(session, suspension_id, caller.offices)
            service.confirm(
                session,
                suspension,
                actor=caller.client,
                starts_on=starts_on,
                ends_on=form_date(form, "ends_on"),
                reason=_reason(form, "reason"),
            )
            _decided(session, caller, suspension, "confirm")
            until = suspension.suspended_until
    except HubError as error:
        return failed(user, _detail_path(suspension_id), error)
    return back_with(
        user,
        f"{PREFIX}/decisions",
        "ok",
        "decisions.confirmed",
        id=suspension_id,
        start=_fmt_date(user, starts_on),
        end=_fmt_date(user, until),
    )


@router.post(f"{PREFIX}/decisions/{{suspension_id}}/reject")
def reject(request: Request, user: User, form: FormData, suspension_id: int) -> Response:
    """Reject with a reason: nothing reaches the registries."""
    caller = user.caller("suspension:decide")
    try:
        with unit_of_work(engine_of(request)) as session:
            suspension = service.for_offices(session, suspension_id, caller.offices)
            service.reject(session, suspension, actor=caller.client, reason=_reason(form, "reason"))
            _decided(session, caller, suspension, "reject")
    except HubError as error:
        return failed(user, _detail_path(suspension_id), error)
    return back_with(user, f"{PREFIX}/decisions", "ok", "decisions.rejected", id=suspension_id)


@router.post(f"{PREFIX}/decisions/{{suspension_id}}/hold")
def hold(request: Request, user: User, form: FormData, suspension_id: int) -> Response:
    """Ask for information: the proposal waits, and keeps ageing."""
    caller = user.caller("suspension:decide")
    try:
        with unit_of_work(engine_of(request)) as session:
            suspension = service.for_offices(session, suspension_id, caller.offices)
            service.hold(session, suspension, actor=caller.client, note=_reason(form, "note"))
            _decided(session, caller, suspension, "hold")
    except HubError as error:
        return failed(user, _detail_path(suspension_id), error)
    return back_with(user, f"{PREFIX}/decisions", "ok", "decisions.held", id=suspension_id)


@router.post(f"{PREFIX}/decisions/{{suspension_id}}/appeals")
def lodge_appeal(request: Request, user: User, form: FormData, suspension_id: int) -> Response:
    """Record an appeal the person lodged against a confirmed suspension."""
    caller = user.caller("suspension:decide")
    try:
        lodged_on = form_date(form, "lodged_on") or utc_now().date()
        with unit_of_work(engine_of(request)) as session:
            suspension = service.for_offices(session, suspension_id, caller.offices)
            appeal = service.lodge_appeal(
                session,
                suspension,
                actor=caller.client,
                grounds=_reason(form, "grounds"),
                lodged_on=lodged_on,
            )
            _decided(session, caller, suspension, "appeals")
            degree = appeal.degree
    except HubError as error:
        return failed(user, _detail_path(suspension_id), error)
    return back_with(
        user, _detail_path(suspension_id), "ok", "decisions.appeal_recorded", degree=degree
    )


@router.get(f"{PREFIX}/appeals")
def appeals(request: Request, user: User) -> Response:
    """Pending appeals, oldest first, each with the suspension it is about."""
    caller = user.caller("appeal:decide")
    with unit_of_work(engine_of(request)) as session:
        pending = list(
            session.execute(
                select(Appeal, Suspension)
                .join(Suspension, col(Suspension.id) == col(Appeal.suspension_id))
                .where(col(Appeal.state) == "pending")
                .order_by(col(Appeal.id))
                .limit(RUNNING_LIMIT)
            ).all()
        )
        numbers = personal_numbers(session, [s.person_id for _a, s in pending])
        record(
            session,
            caller,
            "read",
            [s.person_id for _a, s in pending],
            fields=FIELDS,
            target=f"{PREFIX}/appeals",
        )
        items = [(a, s, numbers.get(s.person_id, "")) for a, s in pending]
    return render(request, "appeals.html", user=user, items=items)


@router.post(f"{PREFIX}/appeals/{{appeal_id}}/decision")
def decide_appeal(request: Request, user: User, form: FormData, appeal_id: int) -> Response:
    """Uphold, or overturn (lifted at once, the suspended days owed)."""
    caller = user.caller("appeal:decide")
    outcome = form.get("outcome")
    try:
        if outcome not in ("upheld", "overturned"):
            raise _missing("outcome")
        with unit_of_work(engine_of(request)) as session:
            _appeal, suspension = service.decide_appeal(
                session,
                appeal_id,
                actor=caller.client,
                outcome="upheld" if outcome == "upheld" else "overturned",
                reason=_reason(form, "reason"),
                today=utc_now().date(),
            )
            record(
                session,
                caller,
                "decision",
                [suspension.person_id],
                fields=FIELDS,
                target=f"{PREFIX}/appeals/{{appeal_id}}/decision",
            )
    except HubError as error:
        return failed(user, f"{PREFIX}/appeals", error)
    return back_with(user, f"{PREFIX}/appeals", "ok", f"appeals.decided_{outcome}", id=appeal_id)


def _rows(session: Session, suspensions: list[Suspension]) -> list[Row]:
    numbers = personal_numbers(session, [s.person_id for s in suspensions])
    pending = {
        appeal.suspension_id
        for appeal in service.appeals_of(session, [s.id or 0 for s in suspensions])
        if appeal.state == "pending"
    }
    today = utc_now().date()
    return [
        Row(
            suspension=s,
            personal_no=numbers.get(s.person_id, ""),
            age_days=(today - s.proposed_at.date()).days,
            appeal_pending=(s.id or 0) in pending,
        )
        for s in suspensions
    ]


def _detail(session: Session, suspension: Suspension) -> Detail:
    evidence = dict(suspension.evidence or {})
    policy = dict(evidence.get("policy", {}))
    return Detail(
        row=_rows(session, [suspension])[0],
        counted=list(evidence.get("counted", [])),
        ignored=list(evidence.get("ignored", [])),
        policy={name: policy[name] for name in POLICY_NUMBERS if name in policy},
        unconfirmed=frozenset(str(name) for name in evidence.get("unconfirmed", [])),
        evidence=evidence,
        history=service.events_of(session, [suspension.id or 0]),
        appeals=service.appeals_of(session, [suspension.id or 0]),
    )


def _earliest_start(detail: Detail) -> str:
    if not detail.counted:
        return ""
    last = str(detail.counted[-1].get("refused_on", ""))[:10]
    try:
        return (date.fromisoformat(last) + timedelta(days=1)).isoformat()
    except ValueError:
        return ""


def _decided(session: Session, caller: Caller, suspension: Suspension, action: str) -> None:
    record(
        session,
        caller,
        "decision",
        [suspension.person_id],
        fields=FIELDS,
        target=f"{PREFIX}/decisions/{{suspension_id}}/{action}",
    )


def _reason(form: Form, name: str) -> str:
    text = str(form.get(name))
    if not 3 <= len(text) <= 500:
        raise InvalidInput(f"{name} must be 3 to 500 characters", field=name)
    return text


def _missing(name: str) -> HubError:
    return InvalidInput(f"{name} is required", field=name)


def _detail_path(suspension_id: int) -> str:
    return f"{PREFIX}/decisions/{suspension_id}"


def _fmt_date(user: ConsoleUser, value: date | None) -> str:
    return user.catalogue.locale.format_date(value)
