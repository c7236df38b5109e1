"""The scheduler runs each job on its interval, never twice at once, in one leader only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from hub.jobs import queue as jobs
from hub.jobs.models import Job
from hub.jobs.worker import JobWorker
from hub.settings import REGISTRY_NAMES, ScheduleSettings, Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.sync.dispatcher import DispatchReport
from hub.sync.flows import FlowName
from hub.sync.leader import LEADER_APPLICATION_NAME, FileLeadership, PostgresLeadership
from hub.sync.runner import recent_runs
from hub.sync.scheduler import FLOW_NAMES, HubScheduler

NO_FLOWS = {name: 0.0 for name in FLOW_NAMES}


def _settings(
    url: str, *, ingest: float = 0, flows: dict[str, float] | None = None, dispatch: float = 0
) -> Settings:
    schedule = ScheduleSettings(
        ingest_seconds=ingest, flow_seconds=NO_FLOWS | (flows or {}), dispatch_seconds=dispatch
    )
    return Settings(environment="test", database_url=url, schedule=schedule)


def _wait_for(condition: Callable[[], bool], *, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        time.sleep(0.02)


@contextmanager
def _running(scheduler: HubScheduler) -> Iterator[HubScheduler]:
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=True)


class Work:
    """A stand-in for a flow's decisions or a dispatch pass: counts, overlaps, may be slow."""

    def __init__(self, *, seconds: float = 0.0, fail_first: int = 0) -> None:
        self.seconds = seconds
        self.fail_first = fail_first
        self.calls = 0
        self.active = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def _enter(self) -> int:
        with self._lock:
            self.calls += 1
            self.active += 1
            self.most_at_once = max(self.most_at_once, self.active)
            return self.calls

    def _leave(self) -> None:
        with self._lock:
            self.active -= 1

    def decide(self, _engine: Engine, _settings: Settings, flow: FlowName) -> dict[str, object]:
        call = self._enter()
        try:
            time.sleep(self.seconds)
            if call <= self.fail_first:
                raise RuntimeError("decision failed for person 1234567890")
            return {"flow": flow, "call": call}
        finally:
            self._leave()

    def dispatch_once(self) -> DispatchReport:
        self._enter()
        try:
            time.sleep(self.seconds)
            return DispatchReport()
        finally:
            self._leave()

    def close(self) -> None:
        pass


@pytest.fixture
def engine(sqlite_url: str) -> Engine:
    return make_engine(sqlite_url)


def test_jobs_are_registered_from_the_schedule_settings(sqlite_url: str, engine: Engine) -> None:
    settings = _settings(sqlite_url, ingest=30, flows={"certificates": 60}, dispatch=5)
    with _running(HubScheduler(engine, settings, dispatcher=Work())) as scheduler:
        status = scheduler.status()
    assert {job.id: job.interval_seconds for job in status.jobs} == {
        "ingest": 30,
        "flow:certificates": 60,
        "dispatch": 5,
    }
    assert all(job.next_run_at is not None for job in status.jobs)
    assert {job.id for job in status.jobs if job.leader_only} == {"ingest", "flow:certificates"}


def test_an_interval_of_zero_disables_the_job(sqlite_url: str, engine: Engine) -> None:
    settings = _settings(sqlite_url, ingest=0, flows={"refusals": 60}, dispatch=0)
    scheduler = HubScheduler(engine, settings)
    assert [job.id for job in scheduler.status().jobs] == ["flow:refusals"]


def test_a_process_without_decision_jobs_does_not_take_leadership(
    sqlite_url: str, engine: Engine
) -> None:
    with _running(HubScheduler(engine, _settings(sqlite_url, dispatch=60))) as scheduler:
        assert not scheduler.status().leader
        other = FileLeadership(Path(str(engine.url.database) + ".leader.lock"))
        assert other.hold(), "a dispatch-only process must leave leadership to the others"
        other.release()


def test_a_flow_left_out_of_the_schedule_keeps_its_default_interval(
    sqlite_url: str, engine: Engine
) -> None:
    schedule = ScheduleSettings(ingest_seconds=0, flow_seconds={"certificates": 7})
    settings = Settings(environment="test", database_url=sqlite_url, schedule=schedule)
    intervals = {
        job.id: job.interval_seconds for job in HubScheduler(engine, settings).status().jobs
    }
    assert intervals["flow:certificates"] == 7
    assert intervals["flow:employment"] == ScheduleSettings().flow_seconds["employment"]


def test_an_unknown_flow_in_the_schedule_is_refused(sqlite_url: str, engine: Engine) -> None:
    from hub.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="HUB_SCHEDULE__FLOW_SECONDS"):
        HubScheduler(engine, _settings(sqlite_url, flows={"certifcates": 60}))


def test_the_scheduler_only_queues_jobs_and_a_worker_runs_them(
    sqlite_url: str, engine: Engine
) -> None:
    upgrade(engine)
    settings = _settings(sqlite_url, flows={"certificates": 0.05})
    scheduler = HubScheduler(engine, settings, clock=lambda: date(2026, 1, 31))

    def queued() -> list[Job]:
        with unit_of_work(engine) as session:
            found = jobs.recent(session)
            for job in found:
                session.expunge(job)
            return found

    with _running(scheduler):
        _wait_for(lambda: bool(queued()))
        time.sleep(0.3)  # several more intervals: the queued job is not queued again
    [job] = queued()
    assert (job.kind, job.target, job.state) == ("sync", "certificates", "queued")
    assert job.params["as_of"] == "2026-01-31"
    with unit_of_work(engine) as session:
        assert recent_runs(session) == [], "the scheduler decided nothing itself"
    assert JobWorker(engine, settings).run_once()
    with unit_of_work(engine) as session:
        [run] = recent_runs(session)
        assert (run.flow, run.as_of.date()) == ("certificates", date(2026, 1, 31))
        assert jobs.get(session, job.id or 0).state == "done"
    status = next(j for j in scheduler.status().jobs if j.id == "flow:certificates")
    assert status.last_outcome == "ok"
    assert status.last_result == {"job": job.id, "queued": False}


def test_a_slow_job_never_runs_twice_at_once(sqlite_url: str, engine: Engine) -> None:
    flow, dispatch = Work(seconds=0.25), Work(seconds=0.25)
    settings = _settings(sqlite_url, flows={"certificates": 0.05}, dispatch=0.05)
    scheduler = HubScheduler(engine, settings, decide=flow.decide, dispatcher=dispatch)
    with _running(scheduler):
        _wait_for(lambda: flow.calls >= 3 and dispatch.calls >= 3)
    assert (flow.most_at_once, dispatch.most_at_once) == (1, 1)


def test_a_failing_job_is_logged_and_the_scheduler_keeps_going(
    sqlite_url: str, engine: Engine
) -> None:
    flow = Work(fail_first=1)
    settings = _settings(sqlite_url, flows={"refusals": 0.05})
    scheduler = HubScheduler(engine, settings, decide=flow.decide)
    with capture_logs() as logs, _running(scheduler):
        _wait_for(lambda: flow.calls >= 3)
        assert scheduler.running
    failed = [entry for entry in logs if entry["event"] == "job_failed"]
    assert len(failed) == 1
    assert failed[0]["job"] == "flow:refusals"
    assert failed[0]["error"] == "RuntimeError"
    assert failed[0]["log_level"] == "error"
    assert "1234567890" not in repr(logs), "a job's error message may hold personal data"
    job = next(job for job in scheduler.status().jobs if job.id == "flow:refusals")
    assert (job.failures, job.last_outcome, job.last_error) == (1, "ok", None)
    assert job.runs >= 3


def _leadership_hands_over(url: str) -> None:
    engine = make_engine(url)
    settings = _settings(url, flows={"certificates": 0.05})
    first_work, second_work = Work(), Work()
    first = HubScheduler(engine, settings, decide=first_work.decide)
    second = HubScheduler(engine, settings, decide=second_work.decide)

    def standing_by() -> bool:
        job = next(j for j in second.status().jobs if j.id == "flow:certificates")
        return job.last_outcome == "standby"

    with _running(first), _running(second):
        _wait_for(lambda: first_work.calls >= 3 and standing_by())
        assert (first.status().leader, second.status().leader) == (True, False)
        assert second_work.calls == 0
        first.shutdown()
        # the other process takes over at its next cycle
        _wait_for(lambda: second_work.calls >= 1)
        assert second.status().leader
    engine.dispose()


def test_only_one_process_leads_on_sqlite(sqlite_url: str) -> None:
    _leadership_hands_over(sqlite_url)


@pytest.mark.postgres
def test_only_one_process_leads_on_postgresql(postgres_url: str) -> None:
    _leadership_hands_over(postgres_url)


@pytest.mark.postgres
def test_a_leader_that_loses_its_connection_loses_leadership(postgres_url: str) -> None:
    first, second = PostgresLeadership(postgres_url), PostgresLeadership(postgres_url)
    try:
        assert first.hold()
        assert not second.hold()
        dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s AND datname = current_database()",
                (LEADER_APPLICATION_NAME,),
            )
        _wait_for(second.hold)
        assert not first.hold()
        assert not first.held
    finally:
        first.release()
        second.release()


def test_hub_worker_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    stderr = tmp_path / "stderr.log"
    env = {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        "HUB_LOG_FORMAT": "json",
        "HUB_SCHEDULE__INGEST_SECONDS": "0",
        "HUB_SCHEDULE__FLOW_SECONDS": json.dumps(NO_FLOWS),
        "HUB_SCHEDULE__DISPATCH_SECONDS": "0.1",
        **{f"HUB_{name.upper()}__URL": "http://127.0.0.1:9" for name in REGISTRY_NAMES},
    }
    hub = Path(sys.executable).with_name("hub")
    with stderr.open("w") as err:
        process = subprocess.Popen(
            [str(hub), "worker"], stdin=subprocess.DEVNULL, stderr=err, env=env
        )
    try:
        _wait_for(lambda: '"worker_started"' in stderr.read_text(), timeout=60)
        time.sleep(0.3)  # let the dispatch job run a few times
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
    lines = [json.loads(line) for line in stderr.read_text().splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines]
    assert events.index("worker_started") < events.index("worker_stopped")
    assert "scheduler_stopped" in events
    started = next(line for line in lines if line["event"] == "scheduler_started")
    assert started["jobs"] == {"dispatch": 0.1}
