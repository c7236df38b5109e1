"""Running one claimed job under its writer locks, with a heartbeat, to its recorded end."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine

from hub.errors import HubError
from hub.jobs import queue
from hub.jobs.locks import writers_held
from hub.jobs.models import Job, JobKind
from hub.log import get_logger
from hub.settings import RegistryName, Settings

log = get_logger("jobs")

HEARTBEAT_SECONDS = 5.0
"""How often a running job tells it is alive; ``requeue_stale`` waits several times this."""

Progress = Callable[[str, int, int], None]
"""``(what, done, total)``: a job's progress for a terminal or a log line (total 0: unknown)."""


@dataclass
class _Beat:
    progress: float = 0.0


class JobFailed(HubError):
    """A job ended without doing all its work; its counts say how far it came."""

    def __init__(self, message: str, counts: dict[str, Any]) -> None:
        super().__init__(message)
        self.counts = counts


def execute(
    engine: Engine,
    settings: Settings,
    job: Job,
    *,
    worker: str,
    wait_seconds: float = 3600.0,
    on_wait: Callable[[str], None] | None = None,
    on_progress: Progress | None = None,
) -> bool:
    """Run ``job`` (claimed by ``worker``) and record how it ended; True when it succeeded."""
    assert job.id is not None
    beat = _Beat()
    stop = threading.Event()
    pulse = threading.Thread(
        target=_heartbeat, args=(engine, job.id, worker, beat, stop), daemon=True
    )
    pulse.start()

    def progress(what: str, done: int, total: int, fraction: float) -> None:
        beat.progress = fraction
        if on_progress is not None:
            on_progress(what, done, total)

    log.info("job_started", job=job.id, kind=job.kind, target=job.target, worker=worker)
    try:
        with writers_held(engine, job.writers, wait_seconds=wait_seconds, on_wait=on_wait):
            counts = _run(engine, settings, job, progress)
    except JobFailed as failure:
        stop.set()
        queue.fail(engine, job.id, worker=worker, error=failure.message, counts=failure.counts)
        log.warning("job_failed", job=job.id, kind=job.kind, error=failure.message)
        return False
    except Exception as error:
        stop.set()
        message = str(error) if isinstance(error, HubError) else type(error).__name__
        queue.fail(engine, job.id, worker=worker, error=message)
        log.error("job_failed", job=job.id, kind=job.kind, error=type(error).__name__)
        return False
    finally:
        stop.set()
        pulse.join()
    if not queue.finish(engine, job.id, worker=worker, counts=counts):
        log.warning("job_lost", job=job.id, worker=worker)  # requeued meanwhile: not ours
        return False
    log.info("job_done", job=job.id, kind=job.kind, target=job.target, **_flat(counts))
    return True


def _run(
    engine: Engine, settings: Settings, job: Job, progress: Callable[[str, int, int, float], None]
) -> dict[str, Any]:
    kind, params = JobKind(job.kind), job.params
    if kind is JobKind.INGEST:
        return _ingest(engine, settings, tuple(params["sources"]), progress)
    if kind is JobKind.SYNC and not params.get("deliver", True):
        from hub.sync.runner import decide_flow

        day = date.fromisoformat(params["as_of"])
        runs = [decide_flow(engine, settings, flow, as_of=day) for flow in params["flows"]]
        return {
            "runs": [run.id for run in runs],
            "pulled": sum(run.pulled for run in runs),
            "decided": sum(run.decided for run in runs),
            "enqueued": sum(run.enqueued for run in runs),
        }
    if kind is JobKind.SYNC:
        from hub.sync.runner import run_sync  # the flows import the connectors: only when run

        outcome = run_sync(
            engine,
            settings,
            list(params["flows"]),
            as_of=date.fromisoformat(params["as_of"]),
            ingest=bool(params.get("ingest", True)),
        )
        synced: dict[str, Any] = {
            "pulled": sum(run.pulled for run in outcome.runs),
            "decided": sum(run.decided for run in outcome.runs),
            "enqueued": sum(run.enqueued for run in outcome.runs),
            "delivered": outcome.dispatch.delivered,
            "dead": outcome.dispatch.dead,
        }
        failed = _failed_sources(outcome.ingest)
        if failed:
            raise JobFailed(f"could not read {', '.join(failed)}", synced)
        return synced
    from hub.reconcile import service as reconcile

    run = reconcile.run_detectors(
        engine,
        int(params["run_id"]),
        as_of=date.fromisoformat(params["as_of"]),
        on_progress=lambda done, total: progress("reconcile", done, total, done / max(total, 1)),
    )
    counts: dict[str, Any] = {
        "run_id": run.id,
        "status": run.status,
        "findings": sum(run.counts.values()),
    }
    if run.status != "done":
        raise JobFailed(f"reconciliation run {run.id} {run.status}", counts)
    return counts


def _ingest(
    engine: Engine,
    settings: Settings,
    sources: tuple[RegistryName, ...],
    progress: Callable[[str, int, int, float], None],
) -> dict[str, Any]:
    from hub.ingest.pipeline import ingest_all

    done: dict[str, int] = {}

    def on_page(registry: RegistryName, read: int) -> None:
        done[registry] = read
        progress(registry, read, 0, (len(done) - 1) / max(len(sources), 1))

    run = ingest_all(engine, settings, sources=sources, on_progress=on_page)
    counts: dict[str, Any] = {
        name: {
            "read": report.read,
            "mapped": report.mapped,
            "quarantined": report.quarantined,
            "pages": report.pages,
            "seconds": round(report.seconds, 2),
            "error": report.error,
        }
        for name, report in run.reports.items()
    }
    if run.identity is not None:
        identity = run.identity
        counts["identity"] = {
            "candidates": identity.candidates,
            "linked": identity.linked,
            "review": identity.review,
            "none": identity.none,
        }
    failed = _failed_sources(run)
    if failed:
        raise JobFailed(f"could not read {', '.join(failed)}", counts)
    return counts


def _failed_sources(run: Any) -> list[str]:
    if run is None:
        return []
    return sorted(name for name, report in run.reports.items() if not report.ok)


def _heartbeat(
    engine: Engine, job_id: int, worker: str, beat: _Beat, stop: threading.Event
) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            if not queue.heartbeat(engine, job_id, worker=worker, progress=beat.progress):
                log.warning("job_lost", job=job_id, worker=worker)
                return
        except Exception as error:  # a missed beat is retried at the next one
            log.warning("job_heartbeat_failed", job=job_id, error=type(error).__name__)


def _flat(counts: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in counts.items() if not isinstance(value, dict)}
