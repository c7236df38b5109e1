"""Running a writer from the command line as a job: queued like any other, then run here
(so that a lone operator needs no worker), under the same writer locks as every worker."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from sqlalchemy import Engine

from hub.cli.progress import progress_board
from hub.errors import HubError
from hub.jobs import queue
from hub.jobs.execute import execute
from hub.jobs.models import Job, JobKind
from hub.jobs.worker import worker_name
from hub.settings import Settings
from hub.store.engine import unit_of_work


def submit(engine: Engine, kind: JobKind, *, target: str, params: dict[str, Any]) -> Job:
    """Queue the job (committed); a worker, or :func:`run_here`, runs it."""
    with unit_of_work(engine) as session:
        job = queue.submit(session, kind, target=target, params=params, requested_by="cli")
        session.expunge(job)
    return job


def run_here(engine: Engine, settings: Settings, job: Job, *, wait_seconds: float) -> Job:
    """Claim ``job`` and run it in this process with progress on the terminal; the ended job.

    If a worker claimed it first, this waits for that worker instead.
    """
    assert job.id is not None
    console = Console(stderr=True)
    me = worker_name("cli")
    claimed = queue.claim(engine, worker=me, job_id=job.id)
    if claimed is None:
        console.print(f"job {job.id} was taken by a worker; `hub jobs show {job.id}` follows it")
        return _reload(engine, job.id)

    def waiting(writer: str) -> None:
        console.print(f"waiting: {writer} is being written by another run (hub jobs list)")

    with progress_board(console) as board:
        tasks: dict[str, Any] = {}

        def on_progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = board.task(what)
            tasks[what](done, total)

        execute(
            engine,
            settings,
            claimed,
            worker=me,
            wait_seconds=wait_seconds,
            on_wait=waiting,
            on_progress=on_progress,
        )
    return _reload(engine, job.id)


def _reload(engine: Engine, job_id: int) -> Job:
    with unit_of_work(engine) as session:
        job = queue.get(session, job_id)
        session.expunge(job)
    if job.state not in ("done", "failed", "queued", "running"):
        raise HubError(f"job {job_id} is in an unknown state {job.state!r}")
    return job
