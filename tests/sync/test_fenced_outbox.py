"""Claims are fenced: a dispatcher that lost its claim changes nothing, a live one keeps it.

Every claim of a message increments its ``claim`` counter; a settlement names the
claim it settles (``WHERE id = ? AND claim = ? AND state = 'delivering'``) and a
dispatcher renews the lease of each message it holds while it sends. The first
tests show the rules on both databases; the last ones run ``hub outbox dispatch``
processes against one PostgreSQL and the SAS mock: three of them share 20,000
messages while one is killed half-way, and one is stopped (SIGSTOP) past its lease,
overtaken, and resumed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlmodel import Session, col

from fixtures.messages import REFUSAL_OPERATION, civil_registry_numbers, refusal_messages
from hub.audit.models import AuditEntry
from hub.connectors.delivery import Acknowledgement
from hub.settings import OutboxSettings, Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.store.types import utc_now
from hub.sync import outbox
from hub.sync.dispatcher import Dispatcher
from hub.sync.models import MessageState, OutboxMessage
from mocks.core.server import RunningRegistries
from tests.conftest import Population
from tests.support.postgres import temporary_database
from tests.support.registries import fast_settings

OPERATION = REFUSAL_OPERATION
LEASE = timedelta(seconds=60)
_WORKER_PID = re.compile(r"-(\d+)-[0-9a-f]{8}$")


# ---------------------------------------------------------------- helpers


def _engine(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


def _enqueue(engine: Engine, count: int, *, first: int = 0) -> None:
    with unit_of_work(engine) as session:
        for i in range(first, first + count):
            outbox.enqueue(
                session,
                flow="refusals",
                target="sas",
                operation=OPERATION,
                order_key=f"person:{i}",
                idempotency_key=f"k{i}",
                payload={"offerId": f"JO-{i:07d}"},
            )


def _claim(engine: Engine, worker: str, **kwargs: Any) -> list[outbox.Claimed]:
    with unit_of_work(engine) as session:
        return outbox.claim(session, worker=worker, limit=kwargs.pop("limit", 10), **kwargs)


def _row(engine: Engine, message_id: int) -> OutboxMessage:
    with Session(engine) as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        return message


def _audited(engine: Engine) -> Counter[str]:
    """Delivery audit entries per ``outbox:<id>``."""
    with Session(engine) as session:
        ids = session.execute(
            select(col(AuditEntry.request_id)).where(col(AuditEntry.action) == "delivery")
        ).scalars()
        return Counter(str(i) for i in ids)


class SlowSender:
    """Acknowledges every message after ``seconds``, counting the sends per key."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sends: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(
        self, target: str, operation: str, payload: Mapping[str, Any], key: str
    ) -> Acknowledgement:
        with self._lock:
            self.sends[key] += 1
        time.sleep(self.seconds)
        return Acknowledgement(
            registry=target, operation=operation, idempotency_key=key, outcome="applied", details={}
        )


# ---------------------------------------------------------------- the rules, both databases


def test_a_settlement_under_a_claim_taken_over_changes_nothing(database_url: str) -> None:
    engine = _engine(database_url)
    _enqueue(engine, 3)
    mine = _claim(engine, "one", lease=LEASE)
    assert [m.claim for m in mine] == [1, 1, 1]
    # the lease runs out (the dispatcher stalled); another dispatcher takes the messages over
    later = utc_now() + LEASE + timedelta(seconds=1)
    theirs = _claim(engine, "two", lease=LEASE, now=later)
    assert [(m.id, m.claim) for m in theirs] == [(m.id, 2) for m in mine]

    first, second, third = mine
    with unit_of_work(engine) as session:
        stale = outbox.settle(
            session,
            worker="one",
            delivered=[outbox.Delivered(first.id, first.claim, "applied", {"caseNo": "X"})],
            failed=[
                outbox.Failed(second.id, second.claim, "timed out", retry_at=utc_now()),
                outbox.Failed(third.id, third.claim, "refused", retry_at=None),
            ],
        )
        assert stale.count == 0
        assert (
            outbox.renew(session, [outbox.Held(m.id, m.claim) for m in mine], lease=LEASE) == set()
        )
        assert not outbox.mark_dead(session, message_id=first.id, error="late", claim=1)
        assert not outbox.mark_dead(session, message_id=first.id, error="unclaimed only")
    for message in mine:
        row = _row(engine, message.id)
        assert (row.state, row.claim, row.claimed_by, row.outcome, row.last_error) == (
            MessageState.DELIVERING,
            2,
            "two",
            None,
            None,
        )
    assert _audited(engine) == Counter()

    # the holder of the current claim settles
    with unit_of_work(engine) as session:
        held = [outbox.Held(m.id, m.claim) for m in theirs]
        assert outbox.renew(session, held, lease=LEASE) == {m.id for m in theirs}
        won = outbox.settle(
            session,
            worker="two",
            delivered=[outbox.Delivered(m.id, m.claim, "duplicate", {}) for m in theirs[:2]],
            failed=[outbox.Failed(theirs[2].id, theirs[2].claim, "refused", retry_at=None)],
        )
    assert won.delivered == {theirs[0].id, theirs[1].id}
    assert won.dead == {theirs[2].id}
    assert _row(engine, theirs[0].id).state == MessageState.DELIVERED
    assert _row(engine, theirs[2].id).state == MessageState.DEAD
    # settled once: a second settlement under the same claim finds nothing to settle
    with unit_of_work(engine) as session:
        again = outbox.settle(
            session, worker="two", delivered=[outbox.Delivered(theirs[0].id, 2, "applied", {})]
        )
    assert again.count == 0
    assert _row(engine, theirs[0].id).outcome == "duplicate"


def test_a_duplicate_never_replaces_an_applied_outcome(database_url: str) -> None:
    engine = _engine(database_url)
    _enqueue(engine, 1)
    (message,) = _claim(engine, "one", lease=LEASE)
    with unit_of_work(engine) as session:  # as if an earlier delivery had been applied
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message.id)
            .values(outcome="applied", acknowledgement={"decisionRef": "D-1"})
        )
    with unit_of_work(engine) as session:
        won = outbox.settle(
            session,
            worker="one",
            delivered=[outbox.Delivered(message.id, message.claim, "duplicate", {})],
        )
    assert won.delivered == {message.id}
    row = _row(engine, message.id)
    assert (row.state, row.outcome) == (MessageState.DELIVERED, "applied")


def test_a_slow_send_keeps_its_claim_alive(database_url: str) -> None:
    """A registry slower than the lease: the heartbeat renews it, nobody else sends the message."""
    engine = _engine(database_url)
    _enqueue(engine, 4)
    config = OutboxSettings(lease_seconds=1.5, batch_size=10, concurrency=4)
    settings = Settings(environment="test", database_url=database_url, outbox=config)
    slow = SlowSender(3.2)  # more than two leases per send
    fast = SlowSender(0.0)
    first = Dispatcher(engine, settings, worker="slow", sender=slow)
    second = Dispatcher(engine, settings, worker="fast", sender=fast)
    worker = threading.Thread(target=first.dispatch_once)
    worker.start()
    try:
        time.sleep(0.3)
        while worker.is_alive():
            assert second.dispatch_once().claimed == 0  # the claims stay live throughout
            time.sleep(0.2)
    finally:
        worker.join(timeout=30)
        first.close()
        second.close()
    assert fast.sends == Counter()
    assert slow.sends == Counter({f"k{i}": 1 for i in range(4)})
    with Session(engine) as session:
        rows = session.execute(select(OutboxMessage)).scalars().all()
    assert {(r.state, r.claim, r.claimed_by) for r in rows} == {(MessageState.DELIVERED, 1, "slow")}
    assert _audited(engine) == Counter({f"outbox:{r.id}": 1 for r in rows})


def test_a_dispatcher_that_cannot_renew_sends_no_more(database_url: str) -> None:
    """Its leases lapse: what it has not sent yet it leaves to whoever claims it next."""
    engine = _engine(database_url)
    _enqueue(engine, 6)
    config = OutboxSettings(lease_seconds=1.0, batch_size=10, concurrency=1)
    settings = Settings(environment="test", database_url=database_url, outbox=config)
    slow = SlowSender(0.5)
    first = Dispatcher(engine, settings, worker="cut-off", sender=slow)
    first._heartbeat = lambda leases, stop: None  # type: ignore[method-assign]  # e.g. no database
    try:
        report = first.dispatch_once()
    finally:
        first.close()
    # one send after the other, 0.5 s each; the lease (1 s, less 0.1 s of margin) lets
    # at most two start in time, and what started is settled
    sent = sum(slow.sends.values())
    assert sent <= 2
    assert (report.claimed, report.delivered, report.lost) == (6, sent, 6 - sent)
    with Session(engine) as session:
        states = Counter(session.execute(select(col(OutboxMessage.state))).scalars())
    assert states == Counter({MessageState.DELIVERED: sent, MessageState.DELIVERING: 6 - sent})


# ---------------------------------------------------------------- processes on PostgreSQL


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """A PostgreSQL database of its own: its counts are the test's alone."""
    with temporary_database() as url:
        yield url


class Sas:
    """The SAS mock's ledger: what it applied and how many repeats it acknowledged."""

    def __init__(self, registries: RunningRegistries) -> None:
        self.client = httpx.Client(base_url=registries.url("sas"), timeout=10)

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.client.get("/admin/stats").json()
        return stats

    def counts(self) -> tuple[int, int, int]:
        """(applied, replayed) of the operation, and requests of any kind so far."""
        stats = self.stats()
        ledger = stats["idempotency"]
        return (
            ledger["applied"].get(OPERATION, 0),
            ledger["replayed"].get(OPERATION, 0),
            int(stats["requests"]),
        )

    def received_keys(self) -> list[str]:
        received = self.client.get("/admin/received", params={"operation": OPERATION}).json()
        return [entry["key"] for entry in received]

    def slow_down(self, latency_ms: int) -> None:
        self.client.put("/admin/faults", json={"latency_ms": latency_ms}).raise_for_status()

    def heal(self) -> None:
        self.client.delete("/admin/faults").raise_for_status()


@pytest.fixture
def sas(own_registries: RunningRegistries) -> Iterator[Sas]:
    client = Sas(own_registries)
    client.heal()
    yield client
    client.heal()
    client.client.close()


def _queue(population: Population, count: int, first_offer: int) -> list[dict[str, Any]]:
    people = civil_registry_numbers(population.dir)
    return list(refusal_messages(people, count, first_offer=first_offer))


def _start(
    url: str, registries: RunningRegistries, log: Path, **outbox_env: object
) -> subprocess.Popen[bytes]:
    """``hub outbox dispatch`` as its own process, its output going to ``log``."""
    env = {
        **os.environ,
        "HUB_ENVIRONMENT": "test",
        "HUB_DATABASE_URL": url,
        "HUB_SAS__URL": registries.url("sas"),
        "HUB_LOG_FORMAT": "json",
        **{f"HUB_OUTBOX__{name.upper()}": str(value) for name, value in outbox_env.items()},
    }
    hub = Path(sys.executable).with_name("hub")
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(hub), "outbox", "dispatch", "--timeout", "600"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def _stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
            process.kill()
        process.wait(timeout=10)


def _wait_for(
    condition: Callable[[], bool], what: str, timeout: float, check: Callable[[], None]
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        check()
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _states(engine: Engine) -> Counter[str]:
    with Session(engine) as session:
        rows = session.execute(
            select(col(OutboxMessage.state), func.count()).group_by(col(OutboxMessage.state))
        )
        return Counter({state: int(n) for state, n in rows})


def _held_by(engine: Engine, pid: int) -> dict[int, int]:
    """Message id -> claim of what the process ``pid`` holds (claimed, not settled)."""
    with Session(engine) as session:
        rows = session.execute(
            select(col(OutboxMessage.id), col(OutboxMessage.claim)).where(
                col(OutboxMessage.state) == MessageState.DELIVERING.value,
                col(OutboxMessage.claimed_by).like(f"%-{pid}-%"),
            )
        )
        return {mid: claim for mid, claim in rows}


def _settled_by(engine: Engine) -> Counter[int]:
    """Delivered messages per process id of the dispatcher that settled them."""
    with Session(engine) as session:
        rows = session.execute(
            select(col(OutboxMessage.claimed_by), func.count())
            .where(col(OutboxMessage.state) == MessageState.DELIVERED.value)
            .group_by(col(OutboxMessage.claimed_by))
        )
        by_pid: Counter[int] = Counter()
        for worker, n in rows:
            match = _WORKER_PID.search(worker or "")
            assert match, worker
            by_pid[int(match.group(1))] += int(n)
        return by_pid


def _stop_between_transactions(engine: Engine, process: subprocess.Popen[bytes]) -> None:
    """SIGSTOP ``process`` at a moment it has no transaction open.

    Stopped inside its settlement it would hold the audit chain's lock, and every
    other dispatcher's settlement would wait for it: a stall of another kind than
    the one tested here (its settlement then commits when it resumes, legitimately).
    """
    busy = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        " AND state IN ('active', 'idle in transaction')"
    )
    for _ in range(200):
        os.kill(process.pid, signal.SIGSTOP)
        time.sleep(0.1)  # statements already sent finish; the stopped process sends no more
        with engine.connect() as connection:
            if connection.execute(busy).scalar_one() == 0:
                return
        os.kill(process.pid, signal.SIGCONT)
        time.sleep(0.02)
    pytest.fail("the dispatcher never paused outside a transaction")


def _snapshot(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT id, state, outcome, claim, claimed_by, attempts, updated_at,"
                    " delivered_at, last_error, CAST(acknowledgement AS TEXT)"
                    " FROM outbox_message ORDER BY id"
                )
            )
        )


MESSAGES = 20_000
THREE_LEASE_SECONDS = 5  # renewed every 1.7 s; a killed dispatcher's claims wait this long


@pytest.mark.postgres
@pytest.mark.slow
def test_three_dispatchers_one_killed_deliver_20000_messages_exactly_once(
    population: Population,
    own_registries: RunningRegistries,
    sas: Sas,
    fresh_postgres: str,
    tmp_path: Path,
) -> None:
    engine = _engine(fresh_postgres)
    queue = _queue(population, MESSAGES, first_offer=9_000_000)
    for start in range(0, MESSAGES, 5_000):
        with unit_of_work(engine) as session:
            outbox.enqueue_many(session, queue[start : start + 5_000])
    applied_before, replayed_before, _ = sas.counts()
    seen_before = len(sas.received_keys())
    logs = [tmp_path / f"dispatch-{i}.log" for i in range(3)]
    processes = [
        _start(fresh_postgres, own_registries, log, lease_seconds=THREE_LEASE_SECONDS)
        for log in logs
    ]
    victim, *survivors = processes

    def alive() -> None:
        for process, log in zip(processes, logs, strict=True):
            if process is not victim or process.returncode is None:
                assert process.poll() is None, log.read_text()[-2000:]

    try:
        # 1. half-way, kill one of them while it holds claims it has not settled
        _wait_for(
            lambda: (
                _states(engine)[MessageState.DELIVERED] >= MESSAGES // 2
                and len(_held_by(engine, victim.pid)) > 0
            ),
            "half of the messages delivered, the victim holding claims",
            timeout=240,
            check=alive,
        )
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        killed_at = time.monotonic()
        orphaned = _held_by(engine, victim.pid)  # its claims, frozen with it
        at_kill = _states(engine)
        assert orphaned
        assert at_kill[MessageState.DELIVERED] < MESSAGES

        # 2. the other two finish the work, the orphaned claims once their lease has run out
        for process, log in zip(survivors, logs[1:], strict=True):
            assert process.wait(timeout=300) == 0, log.read_text()[-2000:]
    finally:
        _stop_all(processes)
    finished_after = time.monotonic() - killed_at

    # 3. every message delivered once, and applied once at SAS
    assert _states(engine) == Counter({MessageState.DELIVERED: MESSAGES})
    applied, replayed, _ = sas.counts()
    assert applied - applied_before == MESSAGES
    keys = sas.received_keys()[seen_before:]
    assert len(keys) == len(set(keys)) == MESSAGES
    assert set(keys) == {row["idempotency_key"] for row in queue}

    # 4. none sent again while a live claim held it: only the dead process's claims were
    #    claimed twice, each once more, and only they were sent again (SAS saw repeats)
    with Session(engine) as session:
        rows = session.execute(select(col(OutboxMessage.id), col(OutboxMessage.claim)))
        claims = {mid: claim for mid, claim in rows}
        duplicates = session.execute(
            select(func.count()).where(col(OutboxMessage.outcome) == "duplicate")
        ).scalar_one()
    reclaimed = {mid for mid, claim in claims.items() if claim > 1}
    assert reclaimed == set(orphaned)
    assert all(claims[mid] == orphaned[mid] + 1 for mid in orphaned)
    assert replayed - replayed_before == duplicates <= len(orphaned)

    # 5. the work was finished by the other two; the dead one's claims settled by them
    settled = _settled_by(engine)
    assert set(settled) <= {p.pid for p in processes}
    assert all(settled[p.pid] > 0 for p in survivors)
    assert sum(settled.values()) == MESSAGES

    # 6. one delivery audit entry per delivery
    with Session(engine) as session:
        ids = session.execute(select(col(OutboxMessage.id))).scalars().all()
    assert _audited(engine) == Counter({f"outbox:{mid}": 1 for mid in ids})
    print(
        f"killed at {dict(at_kill)} holding {len(orphaned)} claims; the other two finished "
        f"{finished_after:.1f} s later; {replayed - replayed_before} repeats at SAS; "
        f"settled per process {dict(settled)}"
    )
    engine.dispose()


@pytest.mark.postgres
def test_a_stopped_dispatcher_overtaken_settles_nothing_when_it_resumes(
    population: Population,
    own_registries: RunningRegistries,
    sas: Sas,
    fresh_postgres: str,
    tmp_path: Path,
) -> None:
    engine = _engine(fresh_postgres)
    queue = _queue(population, 240, first_offer=9_500_000)
    with unit_of_work(engine) as session:
        outbox.enqueue_many(session, queue)
    sas.slow_down(100)  # a batch of 200 takes 200 x 0.1 s / 8 threads = 2.5 s
    log = tmp_path / "stalled.log"
    stalled = _start(fresh_postgres, own_registries, log, lease_seconds=2)
    try:
        # 1. stop it in the middle of its first batch: claimed, partly sent, not settled
        applied_before = sas.counts()[0]

        def running() -> None:
            assert stalled.poll() is None, log.read_text()[-2000:]

        _wait_for(
            lambda: sas.counts()[0] - applied_before >= 24,
            "the dispatcher to be sending",
            timeout=60,
            check=running,
        )
        _stop_between_transactions(engine, stalled)
        held = _held_by(engine, stalled.pid)
        assert len(held) >= 100

        # 2. its leases run out; another dispatcher takes its messages over and delivers all
        settings = fast_settings(own_registries).model_copy(
            update={
                "database_url": fresh_postgres,
                "outbox": OutboxSettings(lease_seconds=2, backoff_base=0.01, backoff_max=0.05),
            }
        )
        other = Dispatcher(engine, settings, worker="takes-over")
        try:
            report = other.drain(timeout=120)
        finally:
            other.close()
        assert _states(engine) == Counter({MessageState.DELIVERED: len(queue)})
        assert report.delivered >= len(held)
        with Session(engine) as session:
            rows = session.execute(
                select(col(OutboxMessage.id), col(OutboxMessage.claim)).where(
                    col(OutboxMessage.id).in_(held),
                    col(OutboxMessage.claimed_by) == "takes-over",
                )
            )
            taken = {mid: claim for mid, claim in rows}
        assert taken == {mid: claim + 1 for mid, claim in held.items()}
        before = _snapshot(engine)
        audited = _audited(engine)
        applied, _, requests = sas.counts()

        # 3. resumed, it finds its claims taken: it sends none of the rest, settles nothing
        os.kill(stalled.pid, signal.SIGCONT)
        assert stalled.wait(timeout=60) == 0, log.read_text()[-2000:]
    finally:
        _stop_all([stalled])
    assert _snapshot(engine) == before
    assert _audited(engine) == audited
    assert sum(audited.values()) == len(queue) == len(audited)
    applied_after, _, requests_after = sas.counts()
    assert applied_after == applied
    # at most the sends that were on the wire when it stopped (one per thread) arrive late
    assert requests_after - requests <= OutboxSettings().concurrency
    assert '"outbox_claims_lost"' in log.read_text()
    print(
        f"stopped holding {len(held)} claims, taken over; after resuming it sent "
        f"{requests_after - requests} requests and settled nothing"
    )
    keys = sas.received_keys()
    assert len(keys) == len(set(keys))
    assert {row["idempotency_key"] for row in queue} <= set(keys)
    engine.dispose()
