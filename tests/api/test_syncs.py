"""/v1/syncs and /v1/outbox as an operator sees them: run a flow, watch it, retry a dead letter.

The hub here delivers to mock registries of this module alone (a sync run
changes them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from structlog.testing import capture_logs

from hub.store.engine import unit_of_work
from hub.sync import outbox, runner
from hub.sync.dispatcher import DispatchReport
from hub.sync.models import MessageState, OutboxMessage
from hub.sync.runner import SyncOutcome
from mocks.core.server import RunningRegistries
from tests.api.conftest import Hub, running_hub

PROBLEM = "application/problem+json"
FLOW = "employment"  # a handful of deliveries: quick to run for real
MESSAGE_FIELDS = {
    "id",
    "flow",
    "target_registry",
    "operation",
    "state",
    "attempts",
    "last_error",
    "created_at",
    "updated_at",
    "delivered_at",
    "dead_at",
}


@pytest.fixture(scope="module")
def hub(
    api_store: Path, own_registries: RunningRegistries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hub]:
    """The API delivering to this module's own mocks (a sync run changes them)."""
    with running_hub(api_store, own_registries, tmp_path_factory.mktemp("syncs")) as running:
        yield running


@pytest.fixture(scope="module")
def operator(hub: Hub) -> Iterator[httpx.Client]:
    """A client registered for sync:operate."""
    with hub.client(hub.new_key("sync:operate")) as client:
        yield client


def _fields(problem: httpx.Response) -> list[str]:
    """The invalid fields a 422 names, without where they were ("query.limit" is "limit")."""
    return [name.rsplit(".", 1)[-1] for name in problem.json()["invalid_fields"]]


def wait_until(check: Callable[[], bool], *, timeout: float = 60, what: str) -> None:
    """Poll ``check`` until it holds (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not {what} after {timeout} s")


def _syncs(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/syncs", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _idle(client: httpx.Client) -> bool:
    return not _syncs(client, limit=1)["running"]


@dataclass
class Gate:
    """A stand-in for run_sync that waits until opened, then returns (or raises)."""

    entered: threading.Event
    opened: threading.Event
    error: Exception | None = None

    def __call__(self, *_args: Any, **_kwargs: Any) -> SyncOutcome:
        self.entered.set()
        if not self.opened.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")
        if self.error is not None:
            raise self.error
        return SyncOutcome(None, [], DispatchReport())


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch, operator: httpx.Client) -> Iterator[Gate]:
    """Flows started through the API wait at this gate instead of running."""
    stand_in = Gate(threading.Event(), threading.Event())
    monkeypatch.setattr(runner, "run_sync", stand_in)
    yield stand_in
    stand_in.opened.set()
    wait_until(lambda: _idle(operator), what="idle")  # leave no flow held for the next test


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/syncs"),
        ("POST", f"/v1/syncs/{FLOW}/runs"),
        ("GET", "/v1/outbox"),
        ("POST", "/v1/outbox/1/retry"),
    ],
)
def test_operating_syncs_needs_a_key_with_sync_operate(hub: Hub, method: str, path: str) -> None:
    with hub.client() as anonymous:
        assert anonymous.request(method, path).status_code == 401
    with hub.client(hub.new_key("reconcile:run", "person:read")) as other:
        response = other.request(method, path)
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM


def test_a_flow_started_through_the_api_runs_and_shows_in_the_list(
    operator: httpx.Client, reference_day: date
) -> None:
    before = max((run["id"] for run in _syncs(operator)["items"]), default=0)

    response = operator.post(f"/v1/syncs/{FLOW}/runs", json={"as_of": reference_day.isoformat()})

    assert response.status_code == 202, response.text
    started = response.json()
    assert (started["flow"], started["status"], started["as_of"]) == (
        FLOW,
        "queued",
        reference_day.isoformat(),
    )
    wait_until(lambda: _idle(operator), what=f"{FLOW} finished")
    job = operator.get(f"/v1/jobs/{started['job_id']}").json()
    assert (job["kind"], job["target"], job["state"], job["progress"]) == ("sync", FLOW, "done", 1)
    assert job["counts"]["delivered"] >= job["counts"]["enqueued"] > 0  # and what waited
    runs = [r for r in _syncs(operator)["items"] if r["id"] > before]
    assert runs, "the run is recorded"
    assert {r["flow"] for r in runs} == {FLOW}
    first = min(runs, key=lambda r: r["id"])
    assert first["as_of"] == reference_day.isoformat()
    assert first["decided"] > 0
    assert first["delivered"] == first["enqueued"] > 0
    assert first["failed"] == 0
    assert first["error"] is None
    assert first["duration_seconds"] >= 0
    assert first["finished_at"] is not None


def test_a_flow_already_running_is_409_and_free_again_once_it_ends(
    operator: httpx.Client, gate: Gate
) -> None:
    assert operator.post(f"/v1/syncs/{FLOW}/runs", json={}).status_code == 202
    assert gate.entered.wait(timeout=10)
    assert _syncs(operator)["running"] == [FLOW]

    twice = operator.post(f"/v1/syncs/{FLOW}/runs")

    assert twice.status_code == 409
    assert twice.headers["content-type"] == PROBLEM
    assert twice.json()["type"] == "https://ura.example/problems/flow-running"
    assert "already running" in twice.json()["detail"]
    other = operator.post("/v1/syncs/civil/runs", json={"ingest": False})
    assert other.status_code == 202, "another flow is not held back"

    gate.opened.set()
    wait_until(lambda: _idle(operator), what="idle")
    assert operator.post(f"/v1/syncs/{FLOW}/runs").status_code == 202


def test_a_failing_run_is_logged_without_personal_data_and_frees_its_flow(
    operator: httpx.Client, gate: Gate
) -> None:
    gate.error = RuntimeError("SAS said no about 1234567897")
    gate.opened.set()
    with capture_logs() as logs:
        started = operator.post(f"/v1/syncs/{FLOW}/runs")
        assert started.status_code == 202
        wait_until(lambda: any(e["event"] == "job_failed" for e in logs), what="logged")
    wait_until(lambda: _idle(operator), what="idle")
    failed = next(e for e in logs if e["event"] == "job_failed")
    assert (failed["kind"], failed["error"]) == ("sync", "RuntimeError")
    assert "1234567897" not in repr(logs)
    job = operator.get(f"/v1/jobs/{started.json()['job_id']}").json()
    assert (job["state"], job["error"]) == ("failed", "RuntimeError")
    assert operator.post(f"/v1/syncs/{FLOW}/runs").status_code == 202


def test_an_unknown_flow_is_404_naming_the_flows(operator: httpx.Client) -> None:
    response = operator.post("/v1/syncs/payroll/runs")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert "no sync flow 'payroll'" in response.json()["detail"]
    assert "certificates" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"as_of": "2026-13-01"}, "as_of"),
        ({"ingest": "sometimes"}, "ingest"),
        ({"flow": "civil"}, "flow"),
    ],
)
def test_an_invalid_run_request_is_422(
    operator: httpx.Client, body: dict[str, Any], field: str
) -> None:
    response = operator.post(f"/v1/syncs/{FLOW}/runs", json=body)
    assert response.status_code == 422
    assert _fields(response) == [field]


def test_the_outbox_lists_messages_without_payload_and_counts_every_state(
    operator: httpx.Client,
) -> None:
    response = operator.get("/v1/outbox", params={"limit": 500})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["counts"]) == {state.value for state in MessageState}
    assert body["items"]
    assert all(set(item) == MESSAGE_FIELDS for item in body["items"])
    state = next(s for s, n in body["counts"].items() if n)
    only = operator.get("/v1/outbox", params={"state": state, "limit": 500}).json()
    assert len(only["items"]) == min(500, body["counts"][state])
    assert {item["state"] for item in only["items"]} == {state}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"state": "lost"}, "state"), ({"limit": 0}, "limit")],
)
def test_an_invalid_outbox_query_is_422(
    operator: httpx.Client, params: dict[str, Any], field: str
) -> None:
    response = operator.get("/v1/outbox", params=params)
    assert response.status_code == 422
    assert _fields(response) == [field]


def test_a_dead_message_retried_is_pending_again(hub: Hub, operator: httpx.Client) -> None:
    key = "test:dead-letter:1"
    with unit_of_work(hub.engine) as session:
        outbox.enqueue(
            session,
            flow="suspensions",
            target="sas",
            operation="SetBenefitSuspension",
            order_key="test:dead-letter",
            idempotency_key=key,
            payload={},
        )
        message_id = session.exec(
            select(col(OutboxMessage.id)).where(col(OutboxMessage.idempotency_key) == key)
        ).one()
        assert message_id is not None
        outbox.mark_dead(session, message_id=message_id, error="RegistryRejected: 400")
    dead = operator.get("/v1/outbox", params={"state": "dead"}).json()
    assert message_id in {item["id"] for item in dead["items"]}

    response = operator.post(f"/v1/outbox/{message_id}/retry")

    assert response.status_code == 200, response.text
    retried = response.json()
    assert set(retried) == MESSAGE_FIELDS
    assert (retried["id"], retried["state"], retried["attempts"]) == (message_id, "pending", 0)
    with unit_of_work(hub.engine) as session:
        stored = session.get(OutboxMessage, message_id)
        assert stored is not None
        assert stored.state == "pending"

    again = operator.post(f"/v1/outbox/{message_id}/retry")
    assert again.status_code == 409
    assert "not dead" in again.json()["detail"]


def test_retrying_an_unknown_message_is_404(operator: httpx.Client) -> None:
    response = operator.post("/v1/outbox/999999999/retry")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert "no outbox message 999999999" in response.json()["detail"]
