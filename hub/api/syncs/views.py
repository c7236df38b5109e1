"""``/v1/syncs`` (flow runs) and ``/v1/outbox`` (deliveries): what an operator runs and sees.

A flow started here runs in the background (ingest its sources, decide,
dispatch), at most once at a time per flow in this process: a second start
while it runs is 409. Writes own their unit of work, committed before the
answer says they happened.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Path, Query, Request
from sqlalchemy import Engine
from starlette.responses import JSONResponse

from hub.api.deps import EngineDep, SessionDep, SettingsDep
from hub.api.params import id_path
from hub.api.problems import error_responses, problem_response
from hub.api.security import Caller, require
from hub.api.syncs.models import (
    OutboxMessagePublic,
    OutboxPage,
    SyncRunPublic,
    SyncRunRequest,
    SyncRuns,
    SyncStarted,
)
from hub.errors import NotFound
from hub.log import get_logger
from hub.settings import Settings
from hub.store.engine import unit_of_work
from hub.store.types import utc_now
from hub.sync import outbox
from hub.sync.flows import FLOWS, FlowName
from hub.sync.models import MessageState, OutboxMessage, SyncRun
from hub.sync.runner import recent_runs, run_sync
from hub.sync.scheduler import describe_error

router = APIRouter(prefix="/v1")
log = get_logger("api")

Operator = Annotated[Caller, Depends(require("sync:operate"))]
Flow = Annotated[str, Path(description=f"one of {', '.join(FLOWS)}", max_length=32)]
MessageId = Annotated[int, id_path("the message's id, from GET /v1/outbox")]


def new_flow_locks() -> dict[FlowName, threading.Lock]:
    """One lock per flow, for ``app.state.sync_locks``: held while a flow started here runs."""
    return {name: threading.Lock() for name in FLOWS}


def _flow_locks(request: Request) -> dict[FlowName, threading.Lock]:
    locks: dict[FlowName, threading.Lock] = request.app.state.sync_locks
    return locks


@router.get(
    "/syncs", tags=["syncs"], response_model=SyncRuns, responses=error_responses(401, 403, 422, 429)
)
def list_syncs(
    request: Request,
    session: SessionDep,
    _caller: Operator,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> SyncRuns:
    """The latest flow runs with their counts and duration, and the flows running now."""
    running = [name for name, lock in _flow_locks(request).items() if lock.locked()]
    return SyncRuns(
        running=running, items=[_sync_run(r) for r in recent_runs(session, limit=limit)]
    )


@router.post(
    "/syncs/{flow}/runs",
    status_code=202,
    tags=["syncs"],
    response_model=SyncStarted,
    responses=error_responses(401, 403, 404, 409, 422, 429),
)
def start_sync(
    flow: Flow,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    caller: Operator,
    body: Annotated[SyncRunRequest | None, Body()] = None,
) -> SyncStarted | JSONResponse:
    """Run one flow in the background: ingest its sources, decide, dispatch; 409 if it runs."""
    options = body or SyncRunRequest()
    name = _flow_named(flow)
    started = SyncStarted(flow=name, as_of=options.as_of or utc_now().date(), accepted_at=utc_now())
    lock = _flow_locks(request)[name]
    if not lock.acquire(blocking=False):
        return problem_response(
            409,
            "flow-running",
            f"flow {name} is already running in this process: wait until GET /v1/syncs "
            "no longer lists it as running, then start it again",
        )
    background.add_task(
        _run_flow, engine, settings, name, as_of=started.as_of, ingest=options.ingest, lock=lock
    )
    log.info("sync_started", flow=name, ingest=options.ingest, client=caller.client)
    return started


@router.get(
    "/outbox",
    tags=["outbox"],
    response_model=OutboxPage,
    responses=error_responses(401, 403, 422, 429),
)
def list_outbox(
    session: SessionDep,
    _caller: Operator,
    state: Annotated[MessageState | None, Query(description="only messages in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> OutboxPage:
    """Messages, newest first, without their payload; with the count of every state."""
    totals = outbox.counts(session)
    return OutboxPage(
        counts={s: totals.get(s.value, 0) for s in MessageState},
        items=[_message(m) for m in outbox.list_messages(session, state=state, limit=limit)],
    )


@router.post(
    "/outbox/{message_id}/retry",
    tags=["outbox"],
    response_model=OutboxMessagePublic,
    responses=error_responses(401, 403, 404, 422, 429),
)
def retry_message(
    message_id: MessageId, engine: EngineDep, caller: Operator
) -> OutboxMessagePublic:
    """Send a dead message again now, with a fresh budget of attempts (422 if not dead)."""
    with unit_of_work(engine) as session:  # committed before the answer says it is pending
        message = _message(outbox.retry(session, message_id=message_id))
    log.info("outbox_retried", message_id=message_id, client=caller.client)
    return message


def _run_flow(
    engine: Engine,
    settings: Settings,
    flow: FlowName,
    *,
    as_of: date,
    ingest: bool,
    lock: threading.Lock,
) -> None:
    """Run one flow to its end and free it; a failure is logged, never raised into the server."""
    began = time.monotonic()
    try:
        outcome = run_sync(engine, settings, [flow], as_of=as_of, ingest=ingest)
    except Exception as error:  # the 202 is sent: the log is where a failure goes
        described = describe_error(error)
        log.error(
            "sync_failed",
            flow=flow,
            error=described.type,
            origin=described.origin,
            detail=described.detail,
            seconds=round(time.monotonic() - began, 3),
        )
    else:
        reports = outcome.ingest.reports if outcome.ingest is not None else {}
        log.info(
            "sync_done",
            flow=flow,
            ingest_failed=sorted(name for name, report in reports.items() if not report.ok),
            delivered=outcome.dispatch.delivered,
            dead=outcome.dispatch.dead,
            seconds=round(time.monotonic() - began, 3),
        )
    finally:
        lock.release()


def _flow_named(flow: str) -> FlowName:
    """The flow of this name, or :class:`NotFound` (the flow is the path's resource)."""
    for name in FLOWS:
        if name == flow:
            return name
    raise NotFound(f"no sync flow {flow!r}", hint=f"use one of: {', '.join(FLOWS)}")


def _sync_run(run: SyncRun) -> SyncRunPublic:
    finished = run.finished_at
    assert run.id is not None
    return SyncRunPublic(
        id=run.id,
        flow=run.flow,
        as_of=run.as_of.date(),
        started_at=run.started_at,
        finished_at=finished,
        pulled=run.pulled,
        decided=run.decided,
        enqueued=run.enqueued,
        delivered=run.delivered,
        failed=run.failed,
        duration_seconds=round((finished - run.started_at).total_seconds(), 3)
        if finished
        else None,
        error=run.error,
    )


def _message(message: OutboxMessage) -> OutboxMessagePublic:
    return OutboxMessagePublic.model_validate(message, from_attributes=True)
