"""``/v1/reconciliations``: start a run, follow its progress, read and apply its findings.

A run's detectors work after the 202 is sent; the caller polls the run at its
``Location``. Findings carry personal data in their evidence, so every page read (and every
finding applied, which answers with it) is audited per person before it is answered.
Writes own their unit of work, committed before the answer says they happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from sqlmodel import Session

from hub.api.deps import AuditDep, EngineDep, SessionDep
from hub.api.params import id_path, limit_query, offset_query
from hub.api.problems import error_responses
from hub.api.reconciliations.models import (
    FindingPublic,
    FindingsPage,
    ReconciliationRequest,
    ReconciliationRunPublic,
)
from hub.api.security import Caller, require
from hub.audit.service import AuditEvent, persons_shown
from hub.jobs import queue as jobs
from hub.jobs.models import JobKind
from hub.log import get_logger
from hub.reconcile import service
from hub.reconcile.detectors import KINDS
from hub.reconcile.models import Finding, ReconciliationRun
from hub.store.engine import unit_of_work
from hub.store.types import utc_now

router = APIRouter(prefix="/v1/reconciliations", tags=["reconciliations"])
log = get_logger("api")

RunId = Annotated[int, id_path("the run's id, from POST /v1/reconciliations")]
FindingId = Annotated[int, id_path("the finding's id, from the findings list")]
Reconciler = Annotated[Caller, Depends(require("reconcile:run"))]

RUN_ROUTE = "/{run_id}"
FINDINGS_ROUTE = "/{run_id}/findings"
APPLY_ROUTE = "/{run_id}/findings/{finding_id}/apply"
_FINDING_FIELDS = sorted(FindingPublic.model_fields)
_STARTED: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Accepted: the run is started, its detectors work after this answer",
        "headers": {"Location": {"description": "the run, to poll", "schema": {"type": "string"}}},
    }
}


@router.post(
    "",
    status_code=202,
    response_model=ReconciliationRunPublic,
    responses={**_STARTED, **error_responses(401, 403, 413, 422, 429, 503)},
)
def start_reconciliation(
    engine: EngineDep,
    response: Response,
    caller: Reconciler,
    body: Annotated[ReconciliationRequest | None, Body()] = None,
) -> ReconciliationRunPublic:
    """Start a run: a job runs its detectors after this answer (a ``hub worker``); follow the
    run at its Location."""
    request = body or ReconciliationRequest()
    as_of = request.as_of or utc_now().date()
    with unit_of_work(engine) as session:  # committed: the worker reads the run itself
        run = service.start_run(session, dry_run=request.dry_run)
        assert run.id is not None
        job = jobs.submit(
            session,
            JobKind.RECONCILE,
            target=f"run:{run.id}",
            params={"run_id": run.id, "as_of": as_of.isoformat()},
            requested_by=caller.client,
        )
    log.info(
        "reconciliation_queued",
        run_id=run.id,
        job=job.id,
        dry_run=run.dry_run,
        client=caller.client,
    )
    response.headers["Location"] = f"{router.prefix}/{run.id}"
    return _run(run)


@router.get(
    RUN_ROUTE,
    response_model=ReconciliationRunPublic,
    responses=error_responses(401, 403, 404, 422, 429, 503),
)
def get_run(run_id: RunId, session: SessionDep, _caller: Reconciler) -> ReconciliationRunPublic:
    """One run: its status, progress in percent and findings counted per kind."""
    return _run(service.get_run(session, run_id=run_id))


@router.get(
    FINDINGS_ROUTE,
    response_model=FindingsPage,
    responses=error_responses(401, 403, 404, 422, 429, 503),
)
def list_findings(
    run_id: RunId,
    session: SessionDep,
    audit: AuditDep,
    caller: Reconciler,
    kind: Annotated[
        str | None,
        Query(description="only findings of this kind", json_schema_extra={"enum": list(KINDS)}),
    ] = None,
    limit: Annotated[int, limit_query()] = 50,
    offset: Annotated[int, offset_query()] = 0,
) -> FindingsPage:
    """A page of a run's findings in the order found, and the total; each person is audited."""
    found = service.list_findings(session, run_id=run_id, kind=kind, limit=limit, offset=offset)
    page = FindingsPage(
        total=service.count_findings(session, run_id=run_id, kind=kind),
        items=[_finding(finding) for finding in found],
    )
    audit.record(_reads(caller, _persons(session, page.items), FINDINGS_ROUTE))
    return page


@router.post(
    APPLY_ROUTE,
    response_model=FindingPublic,
    responses=error_responses(401, 403, 404, 409, 413, 422, 429, 503),
)
def apply_finding(
    run_id: RunId, finding_id: FindingId, engine: EngineDep, audit: AuditDep, caller: Reconciler
) -> FindingPublic:
    """Queue an open finding's proposed fix in the outbox; the dispatcher delivers it (409 if
    the finding is no longer open, 422 if it proposes nothing)."""
    with unit_of_work(engine) as session:  # committed before the answer says it is queued
        finding = _finding(service.apply_finding(session, run_id=run_id, finding_id=finding_id))
        persons = _persons(session, [finding])
    # after the commit: on SQLite the audit writer waits for the write lock this unit held
    audit.record(_reads(caller, persons, APPLY_ROUTE))
    return finding


def _run(run: ReconciliationRun) -> ReconciliationRunPublic:
    return ReconciliationRunPublic.model_validate(run, from_attributes=True)


def _finding(finding: Finding) -> FindingPublic:
    return FindingPublic.model_validate(finding, from_attributes=True)


def _persons(session: Session, findings: Sequence[FindingPublic]) -> list[int]:
    """Every person the findings show, in the order first shown: each finding's own, and
    those its evidence and proposal name by personal number (a duplicate's second person)."""
    shown = [(f.person_id, [f.evidence, f.proposed_action]) for f in findings]
    return persons_shown(session, shown)


def _reads(caller: Caller, persons: Sequence[int], route: str) -> list[AuditEvent]:
    """One read entry per person shown."""
    return caller.reads(persons, fields=_FINDING_FIELDS, target=router.prefix + route)
