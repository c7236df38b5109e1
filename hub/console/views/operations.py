"""The operator's pages: the overview (registries, flows, jobs, outbox) and the dead letters.

``sync:operate`` needs no personal data: a dead letter shows its person by the last three
digits of the personal number only, and no payload is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlmodel import col
from starlette.responses import Response

from hub.api.health.service import get_breakers
from hub.console.records import engine_of
from hub.console.web import (
    PREFIX,
    FormData,
    User,
    back_with,
    failed,
    log,
    mask_personal_no,
    render,
)
from hub.errors import HubError, InvalidInput
from hub.ingest.models import Watermark
from hub.jobs import queue as jobs
from hub.jobs.models import ACTIVE_STATES, JobKind
from hub.settings import REGISTRY_NAMES
from hub.store.engine import unit_of_work
from hub.store.types import utc_now
from hub.sync import outbox
from hub.sync.flows import FLOWS
from hub.sync.models import MessageState, OutboxMessage, SyncRun
from hub.sync.scheduler import HubScheduler

router = APIRouter()

SPARK_RUNS = 30
DEAD_LIMIT = 200
DEAD_LETTERS = f"{PREFIX}/dead-letters"


@dataclass(frozen=True)
class Sparkline:
    """A small line of one count over a flow's last runs, oldest first."""

    values: list[int]
    width: int = 120
    height: int = 28

    @property
    def points(self) -> str:
        """The SVG polyline's points."""
        if not self.values:
            return ""
        top = max(max(self.values), 1)
        step = self.width / max(len(self.values) - 1, 1)
        pad = 2
        usable = self.height - 2 * pad
        return " ".join(
            f"{round(i * step, 1)},{round(pad + usable - usable * v / top, 1)}"
            for i, v in enumerate(self.values)
        )

    @property
    def last_point(self) -> tuple[float, float] | None:
        """Where the newest run's dot goes."""
        if not self.values:
            return None
        x, y = self.points.split()[-1].split(",")
        return float(x), float(y)


@dataclass(frozen=True)
class RegistryLine:
    """A registry as the operator watches it."""

    name: str
    breaker: str
    last_read: datetime | None
    changes_read: int


@dataclass(frozen=True)
class FlowLine:
    """A flow with its last run and the trend of its last runs."""

    name: str
    last: SyncRun | None
    runs: int
    delivered: Sparkline
    failed: Sparkline
    running: bool


@dataclass(frozen=True)
class SchedulerJob:
    """A job of this process's scheduler."""

    id: str
    running: bool
    last_outcome: str | None
    next_run_at: datetime | None


@dataclass(frozen=True)
class DeadLetter:
    """A message that failed for good, its person masked."""

    message: OutboxMessage
    masked: str
    last_three: str


@router.get(f"{PREFIX}/overview")
def overview(request: Request, user: User) -> Response:
    """Registries with their breakers and last reads; flows; jobs; the outbox by state."""
    user.require("sync:operate")
    with unit_of_work(engine_of(request)) as session:
        active = list(reversed(jobs.recent(session, limit=50, states=ACTIVE_STATES)))
        syncing = {
            flow
            for job in active
            if job.kind == JobKind.SYNC.value
            for flow in job.params.get("flows", [job.target])
        }
        marks = {
            str(registry): (last, int(read or 0))
            for registry, last, read in session.execute(
                select(
                    col(Watermark.source_registry),
                    func.max(col(Watermark.updated_at)),
                    func.sum(col(Watermark.changes_read)),
                ).group_by(col(Watermark.source_registry))
            ).all()
        }
        flows = []
        for name in FLOWS:
            runs = list(
                session.execute(
                    select(SyncRun)
                    .where(col(SyncRun.flow) == name)
                    .order_by(col(SyncRun.id).desc())
                    .limit(SPARK_RUNS)
                ).scalars()
            )
            oldest_first = list(reversed(runs))
            flows.append(
                FlowLine(
                    name=name,
                    last=runs[0] if runs else None,
                    runs=len(runs),
                    delivered=Sparkline([run.delivered for run in oldest_first]),
                    failed=Sparkline([run.failed for run in oldest_first]),
                    running=name in syncing,
                )
            )
        counts = outbox.counts(session)
    breakers = get_breakers()
    registries = [
        RegistryLine(
            name=name,
            breaker=breakers.get(name, "closed"),
            last_read=marks.get(name, (None, 0))[0],
            changes_read=marks.get(name, (None, 0))[1],
        )
        for name in REGISTRY_NAMES
    ]
    return render(
        request,
        "overview.html",
        user=user,
        registries=registries,
        flows=flows,
        jobs=active,
        scheduler_jobs=_scheduler_jobs(request),
        counts=[(state.value, counts.get(state.value, 0)) for state in MessageState],
        now=utc_now(),
    )


@router.get(DEAD_LETTERS)
def dead_letters(request: Request, user: User) -> Response:
    """Dead messages, newest first, and the ones I sent again with how they went."""
    user.require("sync:operate")
    with unit_of_work(engine_of(request)) as session:
        dead = [
            _dead_letter(message)
            for message in outbox.list_messages(session, state=MessageState.DEAD, limit=DEAD_LIMIT)
        ]
        counts = outbox.counts(session)
        watched = _watched(session, user.session.watched)
    return render(
        request,
        "dead_letters.html",
        user=user,
        dead=dead,
        dead_total=counts.get(MessageState.DEAD.value, 0),
        counts=[(state.value, counts.get(state.value, 0)) for state in MessageState],
        watched=watched,
        watching=_moving(watched),
    )


@router.get(f"{DEAD_LETTERS}/watched")
def watched_fragment(request: Request, user: User) -> Response:
    """The messages I sent again, for the page's polling."""
    user.require("sync:operate")
    with unit_of_work(engine_of(request)) as session:
        watched = _watched(session, user.session.watched)
    return render(request, "_watched.html", user=user, watched=watched, watching=_moving(watched))


@router.post(f"{DEAD_LETTERS}/{{message_id}}/retry")
def retry(request: Request, user: User, _form: FormData, message_id: int) -> Response:
    """Send one dead message again, with a fresh budget of attempts."""
    user.require("sync:operate")
    try:
        with unit_of_work(engine_of(request)) as session:
            outbox.retry(session, message_id=message_id)
    except HubError as error:
        return failed(user, DEAD_LETTERS, error)
    user.session.watch([message_id])
    log.info("outbox_retried", message_id=message_id, client=user.name, via="console")
    return back_with(user, DEAD_LETTERS, "ok", "dead.retried", id=message_id)


@router.post(f"{DEAD_LETTERS}/retry-all")
def retry_all(request: Request, user: User, _form: FormData) -> Response:
    """Send every dead message again."""
    user.require("sync:operate")
    with unit_of_work(engine_of(request)) as session:
        ids = [
            int(message.id or 0)
            for message in outbox.list_messages(session, state=MessageState.DEAD, limit=20)
        ]
        count = outbox.retry_all_dead(session)
    user.session.watch(ids)
    log.info("outbox_retried_all", messages=count, client=user.name, via="console")
    return back_with(user, DEAD_LETTERS, "ok", "dead.retried_all", n=count)


@router.post(f"{DEAD_LETTERS}/{{message_id}}/discard")
def discard(request: Request, user: User, form: FormData, message_id: int) -> Response:
    """Decide a dead message must never be delivered; it is kept, with the reason."""
    user.require("sync:operate")
    reason = form.get("reason")
    try:
        if len(reason) < 3:
            raise InvalidInput("a discard needs a reason", field="reason")
        with unit_of_work(engine_of(request)) as session:
            outbox.discard(session, message_id=message_id, reason=f"{reason} ({user.name})")
    except HubError as error:
        return failed(user, DEAD_LETTERS, error)
    log.info("outbox_discarded", message_id=message_id, client=user.name, via="console")
    return back_with(user, DEAD_LETTERS, "ok", "dead.discarded", id=message_id)


def _dead_letter(message: OutboxMessage) -> DeadLetter:
    payload: dict[str, Any] = dict(message.payload or {})
    number = str(payload.get("personalNo") or payload.get("personal_no") or "")
    return DeadLetter(message=message, masked=mask_personal_no(number), last_three=number[-3:])


def _watched(session: Any, ids: list[int]) -> list[OutboxMessage]:
    if not ids:
        return []
    rows = {
        int(message.id or 0): message
        for message in session.execute(
            select(OutboxMessage).where(col(OutboxMessage.id).in_(ids))
        ).scalars()
    }
    return [rows[i] for i in ids if i in rows]


def _moving(messages: list[OutboxMessage]) -> bool:
    """Whether any of these may still change by itself (so the page keeps polling)."""
    return any(
        message.state in (MessageState.PENDING.value, MessageState.DELIVERING.value)
        for message in messages
    )


def _scheduler_jobs(request: Request) -> list[SchedulerJob] | None:
    scheduler: HubScheduler | None = getattr(request.app.state, "scheduler", None)
    if scheduler is None:
        return None
    status = scheduler.status()
    return [
        SchedulerJob(
            id=job.id,
            running=bool(job.running),
            last_outcome=job.last_outcome,
            next_run_at=job.next_run_at,
        )
        for job in status.jobs
    ]
