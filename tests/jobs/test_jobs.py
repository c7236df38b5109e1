"""Jobs: writer locks across processes, claims, orphaned jobs, and two `hub ingest` at once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlmodel import col

from hub.canonical import Person, PersonIdentifier
from hub.errors import Conflict
from hub.jobs import queue
from hub.jobs.locks import writers_held
from hub.jobs.models import Job, JobKind
from hub.settings import REGISTRY_NAMES, Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.store.types import utc_now
from mocks.core.server import RunningRegistries
from tests.support.postgres import temporary_database


def test_a_writer_held_elsewhere_is_waited_for_then_refused(engine: Engine) -> None:
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with writers_held(engine, ["ingest:cra"], wait_seconds=1):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(10)
    told: list[str] = []
    began = time.monotonic()
    refused = pytest.raises(Conflict, match="ingest:cra is being written by another run")
    with refused, writers_held(engine, ["ingest:cra"], wait_seconds=0.6, on_wait=told.append):
        pass
    assert time.monotonic() - began >= 0.6
    assert told == ["ingest:cra"]
    # another writer is not held back
    with writers_held(engine, ["ingest:emis", "flow:refusals"], wait_seconds=0.1):
        pass
    release.set()
    thread.join()
    with writers_held(engine, ["ingest:cra"], wait_seconds=0.1):
        pass


def test_a_job_is_claimed_once_and_a_stale_workers_settlement_changes_nothing(
    engine: Engine,
) -> None:
    with unit_of_work(engine) as session:
        job_id = queue.submit(
            session, JobKind.INGEST, target="cra", params={"sources": ["cra"]}, requested_by="t"
        ).id
    assert job_id is not None
    first = queue.claim(engine, worker="w1")
    assert first is not None
    assert first.writers == ["ingest:cra"]
    assert queue.claim(engine, worker="w2") is None
    # w1 stops beating: its job is queued again and w2 takes it
    with unit_of_work(engine) as session:
        session.execute(
            update(Job)
            .where(col(Job.id) == job_id)
            .values(heartbeat_at=utc_now() - timedelta(minutes=5))
        )
    assert queue.requeue_stale(engine, older_than=timedelta(seconds=30)) == [job_id]
    second = queue.claim(engine, worker="w2")
    assert second is not None
    assert second.attempts == 2
    assert not queue.finish(engine, job_id, worker="w1", counts={"stale": True})
    assert not queue.heartbeat(engine, job_id, worker="w1")
    assert queue.finish(engine, job_id, worker="w2", counts={"read": 1})
    with unit_of_work(engine) as session:
        ended = queue.get(session, job_id)
        assert (ended.state, ended.claimed_by, ended.counts) == ("done", "w2", {"read": 1})


def _hub_ingest(env: dict[str, str]) -> subprocess.Popen[str]:
    hub = Path(sys.executable).with_name("hub")
    return subprocess.Popen(
        [str(hub), "ingest", "--source", "cra"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "HUB_LOG_FORMAT": "json", **env},
    )


@pytest.mark.postgres
def test_two_hub_ingest_of_one_registry_run_one_after_the_other_without_orphans(
    registries: RunningRegistries,
) -> None:
    with temporary_database() as url:
        upgrade(make_engine(url))
        env = {f"HUB_{name.upper()}__URL": registries.url(name) for name in REGISTRY_NAMES}
        env["HUB_DATABASE_URL"] = url
        first, second = _hub_ingest(env), _hub_ingest(env)
        outputs = [process.communicate(timeout=300) for process in (first, second)]
        assert [first.returncode, second.returncode] == [0, 0], outputs
        engine = make_engine(url)
        with unit_of_work(engine) as session:
            runs = sorted(
                session.execute(select(Job).where(col(Job.kind) == "ingest")).scalars(),
                key=lambda job: job.finished_at or utc_now(),
            )
            assert [job.state for job in runs] == ["done", "done"]
            # the later one waited for the first, then found nothing new after its watermark
            assert runs[0].counts["cra"]["read"] > 0
            assert runs[1].counts["cra"]["read"] == 0
            orphans = session.execute(
                select(func.count())
                .select_from(Person)
                .where(
                    ~select(PersonIdentifier.id)
                    .where(col(PersonIdentifier.person_id) == col(Person.id))
                    .exists()
                )
            ).scalar_one()
            assert orphans == 0
        waited = "".join(err for _out, err in outputs)
        assert "waiting: ingest:cra is being written by another run" in waited
        engine.dispose()


def test_a_worker_runs_queued_jobs_and_records_failures_without_personal_data(
    engine: Engine, hub_settings: Settings
) -> None:
    from hub.jobs.worker import JobWorker

    upgrade(engine)
    settings = hub_settings.model_copy(update={"database_url": str(engine.url)})
    with unit_of_work(engine) as session:
        bad = queue.submit(
            session,
            JobKind.RECONCILE,
            target="run:999999",
            params={"run_id": 999999, "as_of": "2026-10-31"},
            requested_by="t",
        ).id
    worker = JobWorker(engine, settings)
    assert worker.run_once()
    assert not worker.run_once()
    with unit_of_work(engine) as session:
        job = queue.get(session, bad or 0)
        assert job.state == "failed"
        assert job.error
        assert job.finished_at is not None
