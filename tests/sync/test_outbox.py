"""The outbox keeps order per person and target, survives crashes, and never forgets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from hub.connectors.delivery import Acknowledgement
from hub.errors import RegistryRejected, RegistryUnavailable
from hub.settings import OutboxSettings, Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.store.types import utc_now
from hub.sync import outbox
from hub.sync.dispatcher import Dispatcher
from hub.sync.models import MessageState, OutboxMessage

LEASE = timedelta(seconds=60)


def _engine(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


def _enqueue(engine: Engine, *messages: tuple[str, str, str]) -> None:
    """(key, order_key, target) triples."""
    with unit_of_work(engine) as session:
        for key, order_key, target in messages:
            outbox.enqueue(
                session,
                flow="certificates",
                target=target,
                operation="RecordUnemploymentCertificate",
                order_key=order_key,
                idempotency_key=key,
                payload={"certificateNo": key},
            )


def _claim(engine: Engine, **kwargs: Any) -> list[str]:
    with unit_of_work(engine) as session:
        claimed = outbox.claim(
            session, worker="test", limit=kwargs.pop("limit", 10), lease=LEASE, **kwargs
        )
        return [m.idempotency_key for m in claimed]


def _state(engine: Engine, key: str) -> OutboxMessage:
    with Session(engine) as session:
        return session.execute(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
        ).scalar_one()


def test_a_decision_taken_twice_is_queued_once(database_url: str) -> None:
    engine = _engine(database_url)
    _enqueue(engine, ("k1", "person:1", "sas"))
    _enqueue(engine, ("k1", "person:1", "sas"))
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 1


def test_messages_of_one_person_and_target_go_in_order(database_url: str) -> None:
    engine = _engine(database_url)
    _enqueue(
        engine,
        ("a1", "person:1", "sas"),
        ("a2", "person:1", "sas"),
        ("b1", "person:2", "sas"),
        ("a1-emis", "person:1", "emis"),
    )
    assert _claim(engine) == ["a1", "b1", "a1-emis"]  # a2 waits for a1
    held = _state(engine, "a1")
    with unit_of_work(engine) as session:
        assert outbox.mark_delivered(
            session, message_id=held.id or 0, outcome="applied", claim=held.claim, worker="test"
        )
    assert _claim(engine) == ["a2"]


def test_a_dead_message_holds_its_chain_until_an_operator_acts(database_url: str) -> None:
    engine = _engine(database_url)
    _enqueue(engine, ("a1", "person:1", "sas"), ("a2", "person:1", "sas"))
    assert _claim(engine) == ["a1"]
    held = _state(engine, "a1")
    first = held.id or 0
    with unit_of_work(engine) as session:
        outbox.mark_dead(
            session,
            message_id=first,
            error="sas.RecordUnemploymentCertificate: refused",
            claim=held.claim,
        )
    assert _claim(engine) == []
    with unit_of_work(engine) as session:
        outbox.discard(session, message_id=first, reason="certificate withdrawn by EMIS")
    assert _claim(engine) == ["a2"]
    discarded = _state(engine, "a1")
    assert discarded.state == MessageState.DISCARDED
    assert discarded.discard_reason == "certificate withdrawn by EMIS"
    assert discarded.dead_at is not None
    assert discarded.discarded_at is not None


def test_a_claim_whose_dispatcher_died_is_taken_again_after_its_lease(database_url: str) -> None:
    engine = _engine(database_url)
    _enqueue(engine, ("a1", "person:1", "sas"))
    assert _claim(engine) == ["a1"]
    assert _claim(engine) == []  # leased
    assert _claim(engine, now=utc_now() + LEASE + timedelta(seconds=1)) == ["a1"]
    assert _state(engine, "a1").attempts == 2


def test_retry_and_discard_check_the_state(database_url: str) -> None:
    engine = _engine(database_url)
    _enqueue(engine, ("a1", "person:1", "sas"))
    message_id = _state(engine, "a1").id or 0
    with unit_of_work(engine) as session, pytest.raises(Exception, match="not dead"):
        outbox.retry(session, message_id=message_id)
    with unit_of_work(engine) as session:
        outbox.mark_dead(session, message_id=message_id, error="refused")
    with unit_of_work(engine) as session:
        assert outbox.retry_all_dead(session) == 1
    assert _state(engine, "a1").state == MessageState.PENDING
    with unit_of_work(engine) as session, pytest.raises(Exception, match="needs a reason"):
        outbox.discard(session, message_id=message_id, reason="  ")


class FlakySender:
    """Fails a message's first ``failures`` deliveries with ``error``, then acknowledges."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls: dict[str, int] = {}

    def __call__(
        self, target: str, operation: str, payload: Mapping[str, Any], key: str
    ) -> Acknowledgement:
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.calls[key] <= self.failures:
            raise self.error
        return Acknowledgement(
            registry=target, operation=operation, idempotency_key=key, outcome="applied", details={}
        )


def _dispatcher(engine: Engine, sender: FlakySender, **outbox_settings: Any) -> Dispatcher:
    config = OutboxSettings(backoff_base=0.01, backoff_max=0.05, **outbox_settings)
    return Dispatcher(engine, Settings(environment="test", outbox=config), sender=sender)


def test_transient_failures_are_retried_until_delivered(database_url: str) -> None:
    engine = _engine(database_url)
    _enqueue(engine, ("a1", "person:1", "sas"), ("b1", "person:2", "sas"))
    unavailable = RegistryUnavailable("answered HTTP 503", registry="sas", operation="x")
    report = _dispatcher(engine, FlakySender(2, unavailable)).drain(timeout=30)
    assert report.delivered == 2
    assert report.retried == 4
    delivered = _state(engine, "a1")
    assert (delivered.state, delivered.attempts, delivered.outcome) == (
        MessageState.DELIVERED,
        3,
        "applied",
    )
    assert delivered.delivered_at is not None


def test_a_rejection_goes_to_dead_letters_at_once(database_url: str) -> None:
    engine = _engine(database_url)
    _enqueue(engine, ("a1", "person:1", "sas"))
    rejected = RegistryRejected("answered SOAP fault InvalidRequest", registry="sas", operation="x")
    sender = FlakySender(99, rejected)
    report = _dispatcher(engine, sender).drain(timeout=30)
    assert (report.dead, report.retried, sender.calls["a1"]) == (1, 0, 1)
    dead = _state(engine, "a1")
    assert dead.state == MessageState.DEAD
    assert "InvalidRequest" in (dead.last_error or "")


def test_a_message_that_keeps_failing_dies_after_max_attempts(database_url: str) -> None:
    engine = _engine(database_url)
    _enqueue(engine, ("a1", "person:1", "sas"))
    unavailable = RegistryUnavailable("timed out", registry="sas", operation="x")
    sender = FlakySender(99, unavailable)
    report = _dispatcher(engine, sender, max_attempts=3).drain(timeout=30)
    assert (report.dead, sender.calls["a1"]) == (1, 3)
    assert _state(engine, "a1").state == MessageState.DEAD


def test_two_dispatchers_on_postgresql_never_claim_the_same_message(postgres_url: str) -> None:
    engine = _engine(postgres_url)
    _enqueue(engine, *[(f"k{i}", f"person:{i}", "sas") for i in range(6)])
    with Session(engine) as first, Session(engine) as second:
        mine = {m.id for m in outbox.claim(first, worker="one", limit=3, lease=LEASE)}
        # the first dispatcher has not committed: its rows are locked, and skipped
        theirs = {m.id for m in outbox.claim(second, worker="two", limit=10, lease=LEASE)}
        first.commit()
        second.commit()
    assert len(mine) == 3
    assert len(theirs) == 3
    assert mine.isdisjoint(theirs)
