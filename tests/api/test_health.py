"""/healthz and /readyz as a load balancer or an operator sees them, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from hub.api import create_app
from hub.connectors.resilience import breaker_for
from hub.settings import REGISTRY_NAMES, ScheduleSettings, Settings
from hub.store.engine import make_engine
from hub.store.migrate import head_revision, upgrade
from hub.sync.dispatcher import DispatchReport
from hub.sync.scheduler import FLOW_NAMES, HubScheduler
from mocks.core.server import serve_app

NOT_READY = "https://ura.example/problems/not-ready"


@contextmanager
def _client(settings: Settings, scheduler: HubScheduler | None = None) -> Iterator[httpx.Client]:
    with (
        serve_app(create_app(settings, scheduler=scheduler)) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield client


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(environment="test", database_url=sqlite_url)


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    upgrade(make_engine(settings.database_url))
    return settings


def test_healthz_answers_while_the_process_lives(settings: Settings) -> None:
    with _client(settings) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_database(migrated: Settings) -> None:
    with _client(migrated) as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    head = head_revision(make_engine(migrated.database_url))
    assert body["database"] == {"reachable": True, "revision": head, "head": head, "error": None}
    assert body["registries"] == {name: "closed" for name in REGISTRY_NAMES}
    assert body["scheduler"] is None


def test_readyz_shows_an_open_breaker_but_stays_ready(migrated: Settings) -> None:
    breaker = breaker_for("sas", migrated.sas)
    for _ in range(migrated.sas.breaker_threshold):
        breaker.record_failure()
    with _client(migrated) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["registries"]["sas"] == "open"


def test_readyz_is_503_when_the_database_is_not_migrated(settings: Settings) -> None:
    with _client(settings) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert {k: problem[k] for k in ("type", "title", "status")} == {
        "type": NOT_READY,
        "title": "Not ready",
        "status": 503,
    }
    assert "run `hub db upgrade`" in problem["detail"]
    assert problem["checks"]["database"]["revision"] is None


def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    settings = Settings(environment="test", database_url="postgresql://hub@127.0.0.1:1/nowhere")
    with _client(settings) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    problem = response.json()
    assert problem["type"] == NOT_READY
    assert "check HUB_DATABASE_URL" in problem["detail"]
    assert problem["checks"]["database"]["reachable"] is False


def test_an_unknown_path_is_a_problem_too(settings: Settings) -> None:
    with _client(settings) as client:
        response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://ura.example/problems/not-found"


class _Idle:
    def dispatch_once(self) -> DispatchReport:
        return DispatchReport()

    def close(self) -> None:
        pass


def test_an_attached_scheduler_runs_with_the_app_and_shows_in_readyz(migrated: Settings) -> None:
    schedule = ScheduleSettings(
        ingest_seconds=0, flow_seconds={n: 0.0 for n in FLOW_NAMES}, dispatch_seconds=0.05
    )
    settings = migrated.model_copy(update={"schedule": schedule})
    scheduler = HubScheduler(make_engine(settings.database_url), settings, dispatcher=_Idle())
    with _client(settings, scheduler) as client:
        started = scheduler.running
        body = client.get("/readyz").json()
    assert started
    assert not scheduler.running, "the app's shutdown stops its scheduler"
    assert body["scheduler"]["running"] is True
    assert [job["id"] for job in body["scheduler"]["jobs"]] == ["dispatch"]
