"""The scheduler of ``hub serve`` and ``hub worker``: ingestion, flows and dispatch on intervals.

Jobs, each on its own interval from :class:`~hub.settings.ScheduleSettings`
(an interval of 0 disables a job):

- ``ingest`` queues a job that reads every registry from its watermark;
- ``flow:<name>`` queues a job that decides one flow and queues its messages in the outbox;
- ``dispatch`` delivers what is due from the outbox (the fenced outbox lets any number of
  processes dispatch at once).

The scheduler runs no writer itself: ``ingest`` and the flows only insert jobs (one at a
time per kind and target: a job still queued or running is not queued again), in the
leader process only (see :mod:`hub.sync.leader`); any number of job workers
(:mod:`hub.jobs.worker`) run them, each under its writer's lock. ``dispatch`` runs in every
process. Every job has
``max_instances=1`` and ``coalesce=True``: a job never runs twice at once, and
runs missed while it was busy collapse into one. A job that fails is logged and
tried again at its next interval; it never stops the scheduler.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol, get_args

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from hub.errors import ConfigurationError, HubError
from hub.ingest.run import INGEST_ORDER
from hub.jobs import queue as jobs
from hub.jobs.models import JobKind
from hub.log import get_logger
from hub.settings import ScheduleSettings, Settings
from hub.store.engine import unit_of_work
from hub.store.types import utc_now
from hub.sync.dispatcher import Dispatcher, DispatchReport
from hub.sync.flows import FlowName
from hub.sync.leader import Leadership, leadership_for

log = get_logger("scheduler")

FLOW_NAMES: tuple[FlowName, ...] = get_args(FlowName)
DISPATCH_BUDGET_SECONDS = 60.0
"""How long one dispatch job keeps claiming batches while full ones keep coming."""

Decide = Callable[[Engine, Settings, FlowName], dict[str, Any]]
"""``decide(engine, settings, flow)`` with the day already bound: the flow job's work
(by default, queuing a job that decides the flow)."""


class DispatchPass(Protocol):
    """What the dispatch job needs of a :class:`~hub.sync.dispatcher.Dispatcher`."""

    def dispatch_once(self) -> DispatchReport:
        """Claim, deliver and settle one batch."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True)
class JobError:
    """Why a job's last run failed: the error type and where it was raised, no data."""

    type: str
    origin: str
    detail: str | None = None


@dataclass
class JobStatus:
    """One job as the health endpoint shows it."""

    id: str
    interval_seconds: float
    leader_only: bool
    next_run_at: datetime | None = None
    running: bool = False
    runs: int = 0
    failures: int = 0
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_outcome: str | None = None
    """``ok``, ``failed``, or ``standby`` (not leader, so not run)."""
    last_result: dict[str, Any] | None = None
    last_error: JobError | None = None


@dataclass
class SchedulerStatus:
    """The scheduler of one process: whether it runs, leads, and how its jobs went."""

    running: bool
    leader: bool
    leadership: str
    jobs: list[JobStatus] = field(default_factory=list)


@dataclass
class _Job:
    status: JobStatus
    work: Callable[[], dict[str, Any]]
    executor: str
    lock: threading.Lock = field(default_factory=threading.Lock)


class HubScheduler:
    """An APScheduler ``BackgroundScheduler`` running the hub's jobs in this process."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Callable[[], date] = date.today,
        decide: Decide | None = None,
        ingest: Callable[[Engine, Settings], dict[str, Any]] | None = None,
        dispatcher: DispatchPass | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self._decide = decide or self._queue_flow
        self._ingest = ingest or _queue_ingest
        self._dispatcher = dispatcher
        self.leadership = leadership or leadership_for(engine)
        self._stopping = threading.Event()
        self._jobs: dict[str, _Job] = {}
        self._scheduler = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(2),
                "decisions": ThreadPoolExecutor(1),
            },
            timezone="UTC",
        )
        self._scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        # APScheduler logs every run at INFO in plain text; our own structured lines replace it.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        self._register(settings.schedule)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the jobs on their intervals (the first run of each comes one interval on)."""
        self._stopping.clear()
        if any(job.status.leader_only for job in self._jobs.values()):
            self.leadership.hold()
        self._scheduler.start()
        log.info(
            "scheduler_started",
            leader=self.leadership.held,
            leadership=self.leadership.kind,
            jobs={job_id: job.status.interval_seconds for job_id, job in self._jobs.items()},
        )

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop scheduling; with ``wait``, let running jobs finish. Releases leadership."""
        self._stopping.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)
        self.leadership.release()
        if self._dispatcher is not None:
            self._dispatcher.close()
        log.info("scheduler_stopped")

    @property
    def running(self) -> bool:
        """Whether the scheduler is started and not shut down."""
        return bool(self._scheduler.running)

    def status(self) -> SchedulerStatus:
        """Leadership, and each job's next run time and last result or error."""
        jobs: list[JobStatus] = []
        for job_id, job in self._jobs.items():
            scheduled = self._scheduler.get_job(job_id) if self.running else None
            next_run: datetime | None = getattr(scheduled, "next_run_time", None)
            with job.lock:
                jobs.append(_copy(job.status, next_run_at=next_run))
        return SchedulerStatus(
            running=self.running,
            leader=self.leadership.held,
            leadership=self.leadership.kind,
            jobs=jobs,
        )

    # -- jobs --------------------------------------------------------------------------------------

    def _register(self, schedule: ScheduleSettings) -> None:
        unknown = sorted(set(schedule.flow_seconds) - set(FLOW_NAMES))
        if unknown:
            raise ConfigurationError(
                f"the schedule names unknown flows: {', '.join(unknown)}",
                hint=f"HUB_SCHEDULE__FLOW_SECONDS keys must be among {', '.join(FLOW_NAMES)}",
            )
        defaults = ScheduleSettings().flow_seconds
        self._add("ingest", schedule.ingest_seconds, self._run_ingest, leader_only=True)
        for flow in FLOW_NAMES:
            # a flow left out of a partial HUB_SCHEDULE__FLOW_SECONDS keeps its default
            seconds = schedule.flow_seconds.get(flow, defaults.get(flow, 0.0))
            self._add(f"flow:{flow}", seconds, self._flow_work(flow), leader_only=True)
        self._add("dispatch", schedule.dispatch_seconds, self._run_dispatch, leader_only=False)

    def _add(
        self, job_id: str, seconds: float, work: Callable[[], dict[str, Any]], *, leader_only: bool
    ) -> None:
        if seconds <= 0:
            return
        job = _Job(
            JobStatus(id=job_id, interval_seconds=seconds, leader_only=leader_only),
            work,
            "decisions" if leader_only else "default",
        )
        self._jobs[job_id] = job
        self._scheduler.add_job(
            self._run,
            IntervalTrigger(seconds=seconds),
            args=(job_id,),
            id=job_id,
            name=job_id,
            executor=job.executor,
            max_instances=1,
            coalesce=True,
            # a run later than a whole interval is dropped: the next one is due anyway
            misfire_grace_time=max(1, int(seconds)),
        )

    def _run(self, job_id: str) -> None:
        """Run one job, never letting an error escape into APScheduler."""
        job = self._jobs[job_id]
        if job.status.leader_only and not self.leadership.hold():
            with job.lock:
                job.status.last_outcome = "standby"
            return
        started, began = utc_now(), time.monotonic()
        with job.lock:
            job.status.running, job.status.last_started_at = True, started
        try:
            result = job.work()
        except Exception as error:
            self._failed(job, error, seconds=time.monotonic() - began)
            return
        with job.lock:
            job.status.running = False
            job.status.runs += 1
            job.status.last_finished_at = utc_now()
            job.status.last_outcome, job.status.last_result = "ok", result
            job.status.last_error = None

    def _failed(self, job: _Job, error: Exception, *, seconds: float) -> None:
        described = describe_error(error)
        with job.lock:
            job.status.running = False
            job.status.runs += 1
            job.status.failures += 1
            job.status.last_finished_at = utc_now()
            job.status.last_outcome, job.status.last_error = "failed", described
        log.error(
            "job_failed",
            job=job.status.id,
            error=described.type,
            origin=described.origin,
            detail=described.detail,
            seconds=round(seconds, 3),
            next_try_in=job.status.interval_seconds,
        )

    def _on_skipped(self, event: JobEvent) -> None:
        reason = "still running" if event.code == EVENT_JOB_MAX_INSTANCES else "missed"
        log.info("job_skipped", job=event.job_id, reason=reason)

    # -- the work of each job ----------------------------------------------------------------------

    def _queue_flow(self, engine: Engine, _settings: Settings, flow: FlowName) -> dict[str, Any]:
        # decisions only: the dispatch job delivers what the flow queues
        params = {"flows": [flow], "as_of": self.clock().isoformat(), "ingest": False}
        return _queue(engine, JobKind.SYNC, flow, params | {"deliver": False})

    def _flow_work(self, flow: FlowName) -> Callable[[], dict[str, Any]]:
        def work() -> dict[str, Any]:
            return self._decide(self.engine, self.settings, flow)

        return work

    def _run_ingest(self) -> dict[str, Any]:
        return self._ingest(self.engine, self.settings)

    def _run_dispatch(self) -> dict[str, Any]:
        dispatcher = self._dispatcher
        if dispatcher is None:
            dispatcher = self._dispatcher = Dispatcher(self.engine, self.settings)
        total = DispatchReport()
        deadline = time.monotonic() + DISPATCH_BUDGET_SECONDS
        # keep going while batches come back full: more is due right now
        while not self._stopping.is_set() and time.monotonic() < deadline:
            report = dispatcher.dispatch_once()
            total.add(report)
            if report.claimed < self.settings.outbox.batch_size:
                break
        if total.claimed:
            log.info(
                "dispatched",
                claimed=total.claimed,
                delivered=total.delivered,
                retried=total.retried,
                dead=total.dead,
            )
        return {
            "claimed": total.claimed,
            "delivered": total.delivered,
            "duplicates": total.duplicates,
            "retried": total.retried,
            "dead": total.dead,
        }


def describe_error(error: BaseException) -> JobError:
    """An error as logs and status may show it, without personal data.

    Its type, the last line of hub code it passed through, and the message only of
    a hub error: those never carry personal data, while others (SQL errors with
    their parameters, say) might.
    """
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if _HUB_MARKER in frame.filename] or frames
    origin = "unknown"
    if ours:
        name = ours[-1].filename
        short = "hub/" + name.rsplit(_HUB_MARKER, 1)[1] if _HUB_MARKER in name else name
        origin = f"{short}:{ours[-1].lineno}"
    detail = str(error) if isinstance(error, HubError) else None
    return JobError(type=type(error).__name__, origin=origin, detail=detail)


_HUB_MARKER = "/hub/"


def _queue(engine: Engine, kind: JobKind, target: str, params: dict[str, Any]) -> dict[str, Any]:
    """Queue a job unless one of the same kind and target is still queued or running."""
    with unit_of_work(engine) as session:
        waiting = jobs.active(session, kind, target)
        if waiting is not None:
            return {"job": waiting.id, "queued": False}
        job = jobs.submit(session, kind, target=target, params=params, requested_by="scheduler")
        return {"job": job.id, "queued": True}


def _queue_ingest(engine: Engine, _settings: Settings) -> dict[str, Any]:
    return _queue(engine, JobKind.INGEST, "all", {"sources": list(INGEST_ORDER)})


def _copy(status: JobStatus, *, next_run_at: datetime | None) -> JobStatus:
    result = dict(status.last_result) if status.last_result is not None else None
    return replace(status, next_run_at=next_run_at, last_result=result)
