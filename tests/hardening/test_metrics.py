"""``GET /metrics`` of a live API and of a ``hub worker``: Prometheus text with the API's
requests, the audit groups, the breakers, and the store's flow runs, outbox and jobs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from fixtures.ids import luhn_check_digit
from hub.access.service import add_client
from hub.canonical.persons import PERSONAL_NO_SCHEME, Person, PersonIdentifier
from hub.connectors.delivery import Acknowledgement
from hub.connectors.resilience import Resilience
from hub.errors import RegistryRejected, RegistryUnavailable
from hub.metrics import DELIVERY_SECONDS, REGISTRY_CALL_SECONDS, REGISTRY_ERRORS, observe_request
from hub.settings import Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.store.types import utc_now
from hub.sync import outbox
from hub.sync.dispatcher import Dispatcher
from hub.sync.models import SyncRun
from tests.hardening.live import _free_port, live_api

PN = "123456789" + luhn_check_digit("123456789")
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Engine]:
    """A migrated store with one person, two certificate runs (one failed), queued messages."""
    engine = make_engine(sqlite_url)
    upgrade(engine)
    as_of = datetime(2026, 11, 1, tzinfo=UTC)
    with unit_of_work(engine) as session:
        person = Person(first_name="Ana", last_name="Krasniqi")
        session.add(person)
        session.flush()
        assert person.id is not None
        session.add(
            PersonIdentifier(
                person_id=person.id, scheme=PERSONAL_NO_SCHEME, value=PN,
                source_registry="cra", as_of=as_of,
            )
        )  # fmt: skip
        session.add(SyncRun(flow="certificates", as_of=as_of, pulled=40, finished_at=utc_now()))
        session.add(SyncRun(flow="certificates", as_of=as_of, pulled=2, error="SAS down"))
        for i in range(3):
            outbox.enqueue(
                session, flow="certificates", target="sas", operation="NotifyCertificate",
                order_key=f"k{i}", idempotency_key=f"metrics-{i}", payload={"n": i},
            )  # fmt: skip
    yield engine
    engine.dispose()


def _samples(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_of_a_live_api(store: Engine, tmp_path: Path) -> None:
    with unit_of_work(store) as session:
        _client, key = add_client(
            session, name="metrics-reader", scopes=["person:read"], rate_limit_per_minute=600
        )
    url = store.url.render_as_string(hide_password=False)
    with live_api(url, tmp_path) as server, httpx.Client(base_url=server.url) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get(f"/v1/persons/{PN}").status_code == 401
        read = http.get(f"/v1/persons/{PN}", headers={"Authorization": f"Bearer {key}"})
        assert read.status_code == 200, read.text
        scraped = http.get("/metrics")

    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert PN not in scraped.text  # routes are templates
    samples = _samples(scraped.text)
    person = "/v1/persons/{personal_no}"
    requests = "hub_api_requests_total"
    # live_api's own wait for /healthz, then ours
    assert _value(samples, requests, method="GET", route="/healthz", status="200", client="") == 2
    assert _value(samples, requests, method="GET", route=person, status="401", client="") == 1
    assert (
        _value(samples, requests, method="GET", route=person, status="200", client="metrics-reader")
        == 1
    )
    assert _value(samples, "hub_api_request_seconds_count", route=person) == 2
    assert _value(samples, "hub_audit_group_entries_count") >= 1  # the read's audit entry
    assert _value(samples, "hub_audit_group_entries_sum") >= 1
    assert _value(samples, "hub_flow_runs_total", flow="certificates", outcome="done") == 1
    assert _value(samples, "hub_flow_runs_total", flow="certificates", outcome="failed") == 1
    assert _value(samples, "hub_flow_records_pulled_total", flow="certificates") == 42
    assert _value(samples, "hub_outbox_messages", registry="sas", state="pending") == 3
    assert _value(samples, "hub_breaker_state", registry="emis", state="closed") == 1
    assert _value(samples, "hub_breaker_state", registry="emis", state="open") == 0
    assert _value(samples, "hub_store_up") == 1
    assert "process_resident_memory_bytes" in scraped.text


def test_registry_errors_and_call_times_are_counted_by_kind() -> None:
    settings = Settings(environment="test").tak.model_copy(
        update={"max_attempts": 2, "backoff_initial": 0, "breaker_threshold": 1}
    )
    resilience = Resilience("tak", settings, sleep=lambda _seconds: None)
    before = {
        kind: REGISTRY_ERRORS.labels("tak", kind)._value.get()
        for kind in ("unavailable", "rejected", "circuit_open")
    }
    calls = REGISTRY_CALL_SECONDS.labels("tak", "GetPerson")._sum.get()

    def rejected() -> None:
        raise RegistryRejected("no such person", registry="tak", operation="GetPerson")

    def unavailable() -> None:
        raise RegistryUnavailable("down", registry="tak", operation="GetPerson")

    with pytest.raises(RegistryRejected):
        resilience.call("GetPerson", rejected)
    with pytest.raises(RegistryUnavailable):
        resilience.call("GetPerson", unavailable)  # opens the breaker: the retry is refused
    after = {kind: REGISTRY_ERRORS.labels("tak", kind)._value.get() for kind in before}
    assert {kind: after[kind] - before[kind] for kind in before} == {
        "unavailable": 1,
        "rejected": 1,
        "circuit_open": 1,
    }
    assert REGISTRY_CALL_SECONDS.labels("tak", "GetPerson")._sum.get() >= calls


def test_delivery_times_are_observed_per_registry(store: Engine) -> None:
    def sender(target: str, operation: str, payload: object, key: str) -> Acknowledgement:
        time.sleep(0.01)
        return Acknowledgement(target, operation, key, "applied", {})

    delivered = DELIVERY_SECONDS.labels("sas", "applied")
    count = _histogram_count(delivered)
    dispatcher = Dispatcher(store, Settings(environment="test"), sender=sender)
    try:
        report = dispatcher.dispatch_once()
    finally:
        dispatcher.close()
    assert report.delivered == 3
    assert _histogram_count(delivered) - count == 3
    assert delivered._sum.get() >= 0.03


def test_counting_a_request_costs_microseconds() -> None:
    started = time.perf_counter()
    for i in range(20_000):
        observe_request("GET", "/v1/persons/{personal_no}", 200, f"client-{i % 4}", 0.002)
    per_request = (time.perf_counter() - started) / 20_000
    assert per_request < 50e-6, f"{per_request * 1e6:.1f} µs per request"


def test_a_worker_serves_its_metrics(store: Engine, tmp_path: Path) -> None:
    port = _free_port("127.0.0.1")
    env = {
        **os.environ,
        "HUB_DATABASE_URL": store.url.render_as_string(hide_password=False),
        "HUB_LOG_FORMAT": "json",
        "HUB_SCHEDULE__INGEST_SECONDS": "0",
        "HUB_SCHEDULE__DISPATCH_SECONDS": "0",
    }
    hub = Path(sys.executable).with_name("hub")
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [str(hub), "worker", "--metrics-port", str(port)], env=env, stderr=log
        )
    try:
        text = _scrape(f"http://127.0.0.1:{port}/metrics", worker, tmp_path / "worker.log")
    finally:
        worker.terminate()
        assert worker.wait(timeout=30) == 0
    samples = _samples(text)
    assert _value(samples, "hub_outbox_messages", registry="sas", state="pending") == 3
    assert _value(samples, "hub_breaker_state", registry="cms", state="closed") == 1
    assert _value(samples, "hub_store_up") == 1


def _scrape(url: str, process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            response = httpx.get(url, timeout=5)
            if response.status_code == 200:
                return response.text
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no metrics at {url}:\n{log.read_text()[-3000:]}")


def _histogram_count(histogram: object) -> float:
    buckets = histogram._buckets  # type: ignore[attr-defined]
    return float(sum(bucket.get() for bucket in buckets))
