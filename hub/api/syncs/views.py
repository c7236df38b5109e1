"""``/v1/syncs`` (flow runs), ``/v1/jobs`` and ``/v1/outbox`` (deliveries): what an
operator runs and sees.

A flow started here is queued as a job, which a ``hub worker`` (or ``hub serve``'s own
worker) runs: the API process ingests, decides and dispatches nothing itself. A second
start while the flow's job is queued or running is 409. Writes own their unit of work,
committed before the answer says they happened.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query
from starlette.responses import JSONResponse

from hub.api.deps import EngineDep, SessionDep
from hub.api.params import id_path, limit_query
from hub.api.problems import error_responses, problem_response
from hub.api.security import Caller, require
from hub.api.syncs.models import (
    JobPage,
    JobPublic,
    OutboxMessagePublic,
    OutboxPage,
    SyncRunPublic,
    SyncRunRequest,
    SyncRuns,
    SyncStarted,
)
from hub.errors import NotFound
from hub.jobs import queue as jobs
from hub.jobs.models import ACTIVE_STATES, Job, JobKind
from hub.log import get_logger
from hub.store.engine import unit_of_work
from hub.store.types import utc_now
from hub.sync import outbox
from hub.sync.flows import FLOWS, FlowName
from hub.sync.models import MessageState, OutboxMessage, SyncRun
from hub.sync.runner import recent_runs, sources_of

router = APIRouter(prefix="/v1")
log = get_logger("api")

Operator = Annotated[Caller, Depends(require("sync:operate"))]
Flow = Annotated[
    str,
    Path(description="the flow to run", max_length=32, json_schema_extra={"enum": list(FLOWS)}),
]
MessageId = Annotated[int, id_path("the message's id, from GET /v1/outbox")]
JobId = Annotated[int, id_path("the job's id, from GET /v1/jobs or a 202 answer")]


@router.get(
    "/syncs",
    tags=["syncs"],
    response_model=SyncRuns,
    responses=error_responses(401, 403, 422, 429, 503),
)
def list_syncs(
    session: SessionDep,
    _caller: Operator,
    limit: Annotated[int, limit_query()] = 20,
) -> SyncRuns:
    """The latest flow runs with their counts and duration, and the flows queued or running."""
    active = jobs.recent(session, limit=500, states=ACTIVE_STATES)
    running = sorted(
        {flow for job in active if job.kind == JobKind.SYNC for flow in job.params["flows"]}
    )
    return SyncRuns(
        running=[_flow_named(flow) for flow in running],
        items=[_sync_run(r) for r in recent_runs(session, limit=limit)],
    )


@router.post(
    "/syncs/{flow}/runs",
    status_code=202,
    tags=["syncs"],
    response_model=SyncStarted,
    responses=error_responses(401, 403, 404, 409, 413, 422, 429, 503),
)
def start_sync(
    flow: Flow,
    engine: EngineDep,
    caller: Operator,
    body: Annotated[SyncRunRequest | None, Body()] = None,
) -> SyncStarted | JSONResponse:
    """Queue one flow as a job (ingest its sources, decide, dispatch); 409 while one is queued
    or running. A ``hub worker`` runs it; follow it at ``GET /v1/jobs/{id}``."""
    options = body or SyncRunRequest()
    name = _flow_named(flow)
    as_of = options.as_of or utc_now().date()
    with unit_of_work(engine) as session:  # committed before the answer says it is queued
        running = jobs.active(session, JobKind.SYNC, name)
        if running is not None:
            return problem_response(
                409,
                "flow-running",
                f"flow {name} is already running (job {running.id}, {running.state}): follow it at "
                f"GET /v1/jobs/{running.id} and start the flow again once it has ended",
            )
        job = jobs.submit(
            session,
            JobKind.SYNC,
            target=name,
            params={
                "flows": [name],
                "as_of": as_of.isoformat(),
                "ingest": options.ingest,
                "sources": list(sources_of([name])),
            },
            requested_by=caller.client,
        )
        job_id = job.id or 0
    log.info("sync_queued", flow=name, job=job_id, ingest=options.ingest, client=caller.client)
    return SyncStarted(flow=name, as_of=as_of, accepted_at=utc_now(), job_id=job_id)


@router.get(
    "/jobs",
    tags=["jobs"],
    response_model=JobPage,
    responses=error_responses(401, 403, 422, 429, 503),
)
def list_jobs(
    session: SessionDep,
    _caller: Operator,
    limit: Annotated[int, limit_query()] = 50,
) -> JobPage:
    """The latest jobs (ingestions, flow runs, reconciliations), newest first."""
    return JobPage(
        counts=jobs.counts_by_state(session),
        items=[_job(job) for job in jobs.recent(session, limit=limit)],
    )


@router.get(
    "/jobs/{job_id}",
    tags=["jobs"],
    response_model=JobPublic,
    responses=error_responses(401, 403, 404, 422, 429, 503),
)
def get_job(job_id: JobId, session: SessionDep, _caller: Operator) -> JobPublic:
    """One job: its state, progress, counts and error."""
    return _job(jobs.get(session, job_id))


@router.get(
    "/outbox",
    tags=["outbox"],
    response_model=OutboxPage,
    responses=error_responses(401, 403, 422, 429, 503),
)
def list_outbox(
    session: SessionDep,
    _caller: Operator,
    state: Annotated[MessageState | None, Query(description="only messages in this state")] = None,
    limit: Annotated[int, limit_query()] = 50,
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
    responses=error_responses(401, 403, 404, 409, 413, 422, 429, 503),
)
def retry_message(
    message_id: MessageId, engine: EngineDep, caller: Operator
) -> OutboxMessagePublic:
    """Send a dead message again now, with a fresh budget of attempts (409 if not dead)."""
    with unit_of_work(engine) as session:  # committed before the answer says it is pending
        message = _message(outbox.retry(session, message_id=message_id))
    log.info("outbox_retried", message_id=message_id, client=caller.client)
    return message


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


def _job(job: Job) -> JobPublic:
    return JobPublic.model_validate(job, from_attributes=True)


def _message(message: OutboxMessage) -> OutboxMessagePublic:
    return OutboxMessagePublic.model_validate(message, from_attributes=True)
