"""A dispatcher killed with SIGKILL mid-dispatch loses nothing and applies nothing twice.

``hub outbox dispatch`` runs as a separate process over a few thousand queued SAS
writes; it is killed without warning while some but not all are delivered, then
started again. The claims the dead process held run out of lease and are
delivered again under the same idempotency keys: SAS acknowledges the ones it had
already applied as duplicates. SAS's idempotency ledger then counts every
message applied exactly once.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from fixtures.messages import REFUSAL_OPERATION, civil_registry_numbers, refusal_messages
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.sync import outbox
from hub.sync.models import MessageState, OutboxMessage
from mocks.core.server import RunningRegistries
from tests.conftest import Population

OPERATION = REFUSAL_OPERATION
MESSAGES = 3_000
PER_PERSON = 2
LEASE_SECONDS = 2
UNSETTLED = 20  # the kill comes once SAS has applied this many claims not yet settled
_offers = itertools.count(8_000_000, 100_000)  # a fresh block of offer ids per run


def _queue(population: Population) -> list[dict[str, Any]]:
    """``MESSAGES`` distinct refusals, two per person of the civil registry, in person order."""
    people = civil_registry_numbers(population.dir)
    assert len(people) * PER_PERSON >= MESSAGES
    return list(refusal_messages(people, MESSAGES, first_offer=next(_offers)))


def _states(engine: Engine) -> Counter[str]:
    with Session(engine) as session:
        rows = session.execute(
            select(col(OutboxMessage.state), func.count()).group_by(col(OutboxMessage.state))
        )
        return Counter({state: int(n) for state, n in rows})


def _start_dispatcher(url: str, sas_url: str, log: Path) -> subprocess.Popen[bytes]:
    """``hub outbox dispatch`` as its own process, its output going to ``log``."""
    env = {
        **os.environ,
        "HUB_ENVIRONMENT": "test",
        "HUB_DATABASE_URL": url,
        "HUB_SAS__URL": sas_url,
        "HUB_OUTBOX__LEASE_SECONDS": str(LEASE_SECONDS),
        "HUB_LOG_FORMAT": "json",
    }
    hub = Path(sys.executable).with_name("hub")
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(hub), "outbox", "dispatch", "--timeout", "60"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def _ledger(client: httpx.Client) -> tuple[int, int]:
    """SAS's (applied, replayed) count of the operation so far."""
    counts = client.get("/admin/stats").json()["idempotency"]
    return counts["applied"].get(OPERATION, 0), counts["replayed"].get(OPERATION, 0)


def test_a_killed_dispatcher_delivers_everything_exactly_once_after_restart(
    population: Population,
    own_registries: RunningRegistries,
    database_url: str,
    tmp_path: Path,
) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    queue = _queue(population)
    with unit_of_work(engine) as session:
        outbox.enqueue_many(session, queue)
    sas = httpx.Client(base_url=own_registries.url("sas"), timeout=10)
    applied_before, replayed_before = _ledger(sas)
    seen_before = len(sas.get("/admin/received", params={"operation": OPERATION}).json())
    log = tmp_path / "dispatch.log"

    # 1. start it, and kill it outright in the middle of a batch: at least a tenth of the
    #    messages delivered, and SAS has applied some claimed ones the outbox has not settled
    first = _start_dispatcher(database_url, own_registries.url("sas"), log)
    try:
        deadline = time.monotonic() + 30
        while True:
            applied_at_sas = _ledger(sas)[0] - applied_before  # read before the outbox
            settled = _states(engine)[MessageState.DELIVERED]
            if settled >= MESSAGES // 10 and applied_at_sas - settled >= UNSETTLED:
                break
            assert first.poll() is None, f"dispatcher exited early:\n{log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "no delivery progress within 30 s"
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
    finally:
        if first.poll() is None:
            first.kill()
        first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    at_kill = _states(engine)
    assert at_kill[MessageState.DELIVERED] <= MESSAGES * 9 // 10, f"killed too late: {at_kill}"
    assert at_kill[MessageState.PENDING] + at_kill[MessageState.DELIVERING] > 0
    in_flight = at_kill[MessageState.DELIVERING]  # claimed, maybe applied, never settled

    # 2. start again: it waits out the dead process's leases and finishes the work
    second = _start_dispatcher(database_url, own_registries.url("sas"), log)
    try:
        assert second.wait(timeout=60) == 0, log.read_text()[-2000:]
    finally:
        if second.poll() is None:
            second.kill()
            second.wait(timeout=10)

    # 3. every message delivered; SAS applied each exactly once; none lost
    assert _states(engine) == Counter({MessageState.DELIVERED: MESSAGES})
    applied, replayed = _ledger(sas)
    replays = replayed - replayed_before
    assert applied - applied_before == MESSAGES
    received = sas.get("/admin/received", params={"operation": OPERATION}).json()[seen_before:]
    keys = [entry["key"] for entry in received]
    assert len(keys) == len(set(keys)) == MESSAGES
    assert set(keys) == {row["idempotency_key"] for row in queue}
    # the replays are the in-flight claims SAS had applied before the kill, acknowledged
    # again as duplicates on redelivery, and recorded so in the outbox
    with Session(engine) as session:
        duplicates = session.execute(
            select(func.count()).where(col(OutboxMessage.outcome) == "duplicate")
        ).scalar_one()
        redelivered = session.execute(
            select(func.count()).where(col(OutboxMessage.attempts) > 1)
        ).scalar_one()
    assert UNSETTLED <= replays == duplicates <= in_flight <= redelivered
    print(
        f"killed at {dict(at_kill)}; {in_flight} in flight, {redelivered} delivered again, "
        f"{replays} of them replays at SAS"
    )
    sas.close()
    engine.dispose()
