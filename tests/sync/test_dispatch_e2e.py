"""Delivery to a real SAS over HTTP: outages, rejections, operators, order per person.

The outbox is filled with SAS payloads built from the generated population and
delivered by the dispatcher through the real SAS connector to the SAS mock; the
mock's idempotency ledger (``/admin/stats``, ``/admin/received``) shows what SAS
applied, how often, and in which order.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from hub.settings import OutboxSettings, Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.sync import outbox
from hub.sync.dispatcher import Dispatcher, DispatchReport
from hub.sync.models import MessageState, OutboxMessage
from mocks.core.server import RunningRegistries
from tests.conftest import Population
from tests.support.registries import fast_settings

REFUSAL = "RecordJobOfferRefusal"
CERTIFICATE = "RecordUnemploymentCertificate"
_offers = itertools.count(7_000_000, 1_000)  # a fresh block of offer ids per use


# ---------------------------------------------------------------- helpers


def _people(population: Population) -> list[str]:
    with (population.dir / "cra" / "persons.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line)["personal_no"] for line in lines]


def _refusals(people: Sequence[str], count: int) -> list[dict[str, Any]]:
    """``count`` outbox rows of distinct job-offer refusals, one person each."""
    first = next(_offers)
    rows = []
    for i in range(count):
        offer = f"JO-{first + i:07d}"
        rows.append(
            {
                "flow": "refusals",
                "target_registry": "sas",
                "operation": REFUSAL,
                "order_key": f"person:{people[i]}",
                "idempotency_key": f"refusals:{offer}",
                "payload": {
                    "offerId": offer,
                    "personalNo": people[i],
                    "refusedOn": "2026-10-15",
                    "reasonCode": "R11",
                },
            }
        )
    return rows


def _certificates(population: Population, count: int) -> list[dict[str, Any]]:
    """The first ``count`` valid EMIS certificates, as the certificates flow queues them."""
    rows = []
    with (population.dir / "emis" / "certificates.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            cert = json.loads(line)
            if cert["status"] != "valid":
                continue
            rows.append(
                {
                    "flow": "certificates",
                    "target_registry": "sas",
                    "operation": CERTIFICATE,
                    "order_key": f"person:{cert['personal_no']}",
                    "idempotency_key": f"certificates:{cert['certificate_no']}:valid",
                    "payload": {
                        "certificateNo": cert["certificate_no"],
                        "personalNo": cert["personal_no"],
                        "issuedOn": cert["issued_on"],
                        "validUntil": cert["valid_until"],
                        "status": "valid",
                    },
                }
            )
            if len(rows) == count:
                return rows
    raise AssertionError(f"the population has fewer than {count} valid certificates")


def _revocation(issue: dict[str, Any]) -> dict[str, Any]:
    """The later message revoking an issued certificate (same person, same certificate)."""
    number = issue["payload"]["certificateNo"]
    return {
        **issue,
        "idempotency_key": f"certificates:{number}:revoked",
        "payload": {
            **issue["payload"],
            "status": "revoked",
            "revokedOn": "2026-10-20",
            "revocationReason": "employed",
        },
    }


def _engine(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


def _enqueue(engine: Engine, rows: Sequence[dict[str, Any]]) -> None:
    with unit_of_work(engine) as session:
        outbox.enqueue_many(session, rows)


def _messages(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(
            session.execute(select(OutboxMessage).order_by(col(OutboxMessage.id))).scalars()
        )


def _failed(message: OutboxMessage) -> int:
    """Delivery attempts of ``message`` that have failed so far."""
    return message.attempts - (message.state == MessageState.DELIVERING)


def _settings(registries: RunningRegistries, url: str, **registry: Any) -> Settings:
    """Quick retries everywhere; a breaker that lets a trial call through after 0.1 s."""
    settings = fast_settings(registries, breaker_reset=0.1, **registry)
    config = OutboxSettings(backoff_base=0.01, backoff_max=0.05, max_attempts=100)
    return settings.model_copy(update={"database_url": url, "outbox": config})


def _wait_for(condition: Callable[[], bool], *, timeout: float = 30.0, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Sas:
    """The SAS mock's admin side: faults, and what it applied."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=f"{url}/admin", timeout=10)

    def break_(self, **fault: Any) -> None:
        self.client.put("/faults", json=fault).raise_for_status()

    def heal(self) -> None:
        self.client.delete("/faults").raise_for_status()

    def counters(self, operation: str) -> tuple[int, int]:
        """(applied, replayed) writes of ``operation`` so far."""
        ledger = self.client.get("/stats").json()["idempotency"]
        return ledger["applied"].get(operation, 0), ledger["replayed"].get(operation, 0)

    def received(self, operation: str) -> list[dict[str, Any]]:
        """Applied writes of ``operation`` in arrival order."""
        answer = self.client.get("/received", params={"operation": operation})
        answer.raise_for_status()
        received: list[dict[str, Any]] = answer.json()
        return received


@pytest.fixture
def sas(own_registries: RunningRegistries) -> Iterator[Sas]:
    """SAS's admin endpoints; whatever fault a test injects is cleared afterwards."""
    admin = Sas(own_registries.url("sas"))
    admin.heal()
    yield admin
    admin.heal()
    admin.client.close()


def _hub(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The installed ``hub`` command, as an operator runs it."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("hub")), *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "HUB_LOG_FORMAT": "json", "HUB_ENVIRONMENT": "test", **env},
        check=False,
    )


# ---------------------------------------------------------------- the proofs


def test_an_outage_is_retried_and_every_message_arrives_once(
    population: Population, own_registries: RunningRegistries, sas: Sas, sqlite_url: str
) -> None:
    engine = _engine(sqlite_url)
    rows = _refusals(_people(population), 30)
    _enqueue(engine, rows)
    applied_before, _ = sas.counters(REFUSAL)
    seen_before = len(sas.received(REFUSAL))
    sas.break_(error_rate=1.0, error_status=503)

    dispatcher = Dispatcher(engine, _settings(own_registries, sqlite_url))
    report = DispatchReport()
    worker = threading.Thread(target=lambda: report.add(dispatcher.drain(timeout=60)))
    worker.start()
    try:
        # SAS stays down until every message has failed at least twice (a claimed message's
        # attempt in flight is counted already, but has not failed yet)
        _wait_for(
            lambda: all(_failed(m) >= 2 for m in _messages(engine)),
            what="every message to fail twice while SAS is down",
        )
        assert sas.counters(REFUSAL)[0] == applied_before
        assert {m.state for m in _messages(engine)} <= {"pending", "delivering"}
    finally:
        sas.heal()
        worker.join(timeout=60)
        dispatcher.close()
    assert not worker.is_alive()

    assert report.retried >= 2 * len(rows)
    assert (report.delivered, report.dead) == (len(rows), 0)
    messages = _messages(engine)
    assert {m.state for m in messages} == {MessageState.DELIVERED}
    assert all(m.outcome == "applied" and m.attempts >= 3 for m in messages)
    applied, _ = sas.counters(REFUSAL)
    assert applied - applied_before == len(rows)  # each applied once, none lost
    arrived = [entry["key"] for entry in sas.received(REFUSAL)[seen_before:]]
    assert sorted(arrived) == sorted(row["idempotency_key"] for row in rows)


def test_a_rejection_is_dead_at_once_and_an_operator_retries_it(
    population: Population, own_registries: RunningRegistries, sas: Sas, sqlite_url: str
) -> None:
    engine = _engine(sqlite_url)
    warm_up, rejected, later = _refusals(_people(population), 3)
    later = {**later, "order_key": rejected["order_key"]}  # the same person, queued after
    dispatcher = Dispatcher(engine, _settings(own_registries, sqlite_url))
    try:
        _enqueue(engine, [warm_up])  # the connector loads SAS's WSDL before the fault
        assert dispatcher.drain(timeout=30).delivered == 1
        _enqueue(engine, [rejected])
        _enqueue(engine, [later])
        sas.break_(fail_next=1, error_status=422)
        report = dispatcher.dispatch_once()
        held = dispatcher.dispatch_once()  # the dead message holds its person's chain
    finally:
        dispatcher.close()

    assert (report.claimed, report.dead, report.retried, report.delivered) == (1, 1, 0, 0)
    assert held.claimed == 0
    _, dead, waiting = _messages(engine)
    assert (dead.state, dead.attempts) == (MessageState.DEAD, 1)
    assert "422" in (dead.last_error or "")
    assert (waiting.state, waiting.attempts) == (MessageState.PENDING, 0)
    applied_before, _ = sas.counters(REFUSAL)

    sas.heal()
    env = {"HUB_DATABASE_URL": sqlite_url, "HUB_SAS__URL": own_registries.url("sas")}
    retried = _hub("outbox", "retry", str(dead.id), env=env)
    assert retried.returncode == 0, retried.stderr
    assert f"message {dead.id} will be delivered again" in retried.stdout
    dispatched = _hub("outbox", "dispatch", "--timeout", "60", env=env)
    assert dispatched.returncode == 0, dispatched.stderr
    assert "2 delivered" in dispatched.stdout

    _, retried_message, released = _messages(engine)
    assert (retried_message.state, retried_message.outcome) == ("delivered", "applied")
    assert (retried_message.attempts, retried_message.last_error) == (1, None)
    assert released.state == MessageState.DELIVERED
    assert sas.counters(REFUSAL)[0] == applied_before + 2
    keys = [entry["key"] for entry in sas.received(REFUSAL)[-2:]]
    assert keys == [rejected["idempotency_key"], later["idempotency_key"]]


def test_dispatch_returns_when_only_messages_held_by_a_dead_one_remain(
    population: Population, own_registries: RunningRegistries, sas: Sas, sqlite_url: str
) -> None:
    engine = _engine(sqlite_url)
    warm_up, rejected, later = _refusals(_people(population), 3)
    later = {**later, "order_key": rejected["order_key"]}
    dispatcher = Dispatcher(engine, _settings(own_registries, sqlite_url))
    try:
        _enqueue(engine, [warm_up])
        assert dispatcher.drain(timeout=30).delivered == 1
        _enqueue(engine, [rejected, later])
        sas.break_(fail_next=1, error_status=422)
        started = time.monotonic()
        report = dispatcher.drain(timeout=5)
        elapsed = time.monotonic() - started
    finally:
        dispatcher.close()
    assert (report.dead, report.delivered) == (1, 0)
    assert elapsed < 2, f"drain kept polling for {elapsed:.1f} s"


def test_messages_of_one_person_arrive_in_queue_order_despite_failures(
    population: Population, own_registries: RunningRegistries, sas: Sas, sqlite_url: str
) -> None:
    engine = _engine(sqlite_url)
    issues = _certificates(population, 40)
    _enqueue(engine, issues)
    _enqueue(engine, [_revocation(issue) for issue in issues])  # decided later, queued later
    seen_before = len(sas.received(CERTIFICATE))
    # one in three requests fails, and the connector does not retry within a call: the
    # outbox alone brings a failed issue back, while its revocation must wait for it
    sas.break_(error_rate=0.3, error_status=503, seed=11)
    dispatcher = Dispatcher(engine, _settings(own_registries, sqlite_url, max_attempts=1))
    try:
        report = dispatcher.drain(timeout=60)
    finally:
        dispatcher.close()

    assert report.retried > 0
    assert (report.delivered, report.dead) == (2 * len(issues), 0)
    arrived = sas.received(CERTIFICATE)[seen_before:]
    seq = {entry["key"]: entry["seq"] for entry in arrived}
    assert len(arrived) == len(seq) == 2 * len(issues)
    queue = _messages(engine)
    for issue in issues:
        number = issue["payload"]["certificateNo"]
        mine = [m for m in queue if m.payload["certificateNo"] == number]
        assert [m.payload["status"] for m in mine] == ["valid", "revoked"]  # queue (id) order
        assert seq[mine[0].idempotency_key] < seq[mine[1].idempotency_key], number
