"""The job queue in the database: submit, claim (``FOR UPDATE SKIP LOCKED`` on PostgreSQL),
report progress, settle; and requeue the jobs of a worker that died.

A job's claim is fenced by its worker's name: progress and settlement change the row only
while ``claimed_by`` is still that worker and the job still runs, so a worker presumed dead
(its heartbeat too old, its job requeued) cannot overwrite what another worker does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlmodel import Session, col

from hub.errors import NotFound
from hub.jobs.models import ACTIVE_STATES, Job, JobKind, JobState
from hub.store.engine import unit_of_work
from hub.store.types import utc_now

MAX_ATTEMPTS = 3
"""A job whose workers died this many times fails instead of being queued again."""


def writers_of(kind: JobKind, params: dict[str, Any]) -> list[str]:
    """The writer locks a job runs under: one per registry it ingests and flow it decides."""
    if kind is JobKind.INGEST:
        return [f"ingest:{source}" for source in params["sources"]]
    if kind is JobKind.SYNC:
        sources = list(params.get("sources", [])) if params.get("ingest", True) else []
        return [
            *(f"ingest:{source}" for source in sources),
            *(f"flow:{flow}" for flow in params["flows"]),
        ]
    return [f"reconcile:{params['run_id']}"]


def submit(
    session: Session,
    kind: JobKind,
    *,
    target: str,
    params: dict[str, Any],
    requested_by: str,
) -> Job:
    """Queue a job (flushed: it has its id)."""
    job = Job(
        kind=kind.value,
        target=target,
        params=params,
        writers=writers_of(kind, params),
        requested_by=requested_by,
    )
    session.add(job)
    session.flush()
    return job


def active(session: Session, kind: JobKind, target: str) -> Job | None:
    """The queued or running job of this kind and target, if any (oldest first)."""
    return session.execute(
        select(Job)
        .where(
            col(Job.kind) == kind.value,
            col(Job.target) == target,
            col(Job.state).in_(ACTIVE_STATES),
        )
        .order_by(col(Job.id))
        .limit(1)
    ).scalar()


def claim(engine: Engine, *, worker: str, job_id: int | None = None) -> Job | None:
    """Take the oldest queued job (or ``job_id``) for ``worker``; None when there is none."""
    with unit_of_work(engine) as session:
        statement = select(Job).where(col(Job.state) == JobState.QUEUED.value)
        if job_id is not None:
            statement = statement.where(col(Job.id) == job_id)
        statement = statement.order_by(col(Job.id)).limit(1)
        if engine.dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        job: Job | None = session.execute(statement).scalar()
        if job is None:
            return None
        now = utc_now()
        job.state, job.claimed_by = JobState.RUNNING.value, worker
        job.started_at = job.heartbeat_at = now
        job.attempts += 1
        session.add(job)
        session.flush()
        session.expunge(job)
        return job


def heartbeat(engine: Engine, job_id: int, *, worker: str, progress: float | None = None) -> bool:
    """Tell that the job still runs (and how far it is); False if it is no longer ours."""
    values: dict[str, Any] = {"heartbeat_at": utc_now()}
    if progress is not None:
        values["progress"] = max(0.0, min(1.0, progress))
    return _fenced(engine, job_id, worker, values)


def finish(engine: Engine, job_id: int, *, worker: str, counts: dict[str, Any]) -> bool:
    """The job ended well; False (and nothing written) if it is no longer ours."""
    values = {"state": JobState.DONE.value, "progress": 1.0, "counts": counts}
    return _fenced(engine, job_id, worker, values | {"finished_at": utc_now()})


def fail(
    engine: Engine, job_id: int, *, worker: str, error: str, counts: dict[str, Any] | None = None
) -> bool:
    """The job failed with ``error`` (no personal data); False if it is no longer ours."""
    values: dict[str, Any] = {"state": JobState.FAILED.value, "error": error[:500]}
    if counts is not None:
        values["counts"] = counts
    return _fenced(engine, job_id, worker, values | {"finished_at": utc_now()})


def requeue_stale(engine: Engine, *, older_than: timedelta) -> list[int]:
    """Jobs whose worker stopped beating: queued again, or failed after ``MAX_ATTEMPTS``."""
    cutoff = utc_now() - older_than
    with unit_of_work(engine) as session:
        stale = list(
            session.execute(
                select(Job).where(
                    col(Job.state) == JobState.RUNNING.value, col(Job.heartbeat_at) < cutoff
                )
            ).scalars()
        )
        for job in stale:
            if job.attempts >= MAX_ATTEMPTS:
                job.state, job.finished_at = JobState.FAILED.value, utc_now()
                job.error = f"its worker stopped {job.attempts} times; run it again by hand"
            else:
                job.state, job.claimed_by = JobState.QUEUED.value, None
            session.add(job)
        return [job.id or 0 for job in stale]


def get(session: Session, job_id: int) -> Job:
    """A job by id, or :class:`NotFound`."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}", hint="list the jobs with GET /v1/jobs or hub jobs list")
    return job


def recent(session: Session, *, limit: int = 20, states: Sequence[str] | None = None) -> list[Job]:
    """The latest jobs, newest first, optionally only those in ``states``."""
    statement = select(Job).order_by(col(Job.id).desc()).limit(limit)
    if states:
        statement = statement.where(col(Job.state).in_(list(states)))
    return list(session.execute(statement).scalars())


def counts_by_state(session: Session) -> dict[str, int]:
    """How many jobs are in each state."""
    rows = session.execute(select(col(Job.state), func.count()).group_by(col(Job.state))).all()
    return {state: int(n) for state, n in rows}


def _fenced(engine: Engine, job_id: int, worker: str, values: dict[str, Any]) -> bool:
    with unit_of_work(engine) as session:
        result = session.execute(
            update(Job)
            .where(
                col(Job.id) == job_id,
                col(Job.claimed_by) == worker,
                col(Job.state) == JobState.RUNNING.value,
            )
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
