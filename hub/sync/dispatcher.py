"""The dispatcher: claims outbox messages, delivers them with their idempotency keys, settles.

A delivery that fails transiently is retried later with backoff; one the
registry rejects, or that keeps failing, is parked as dead for an operator.
A dispatcher killed mid-delivery leaves claimed messages whose lease runs out;
the next dispatcher delivers them again with the same idempotency key, and the
registry acknowledges the repeat without applying it twice.

Claims are fenced (see :mod:`hub.sync.outbox`). While a batch is out, a
heartbeat thread renews the lease of every message of it still unsettled, so a
slow registry never lets a live claim lapse; a message whose lease this
process could not keep (the process stalled, the database was unreachable) is
not sent, and its settlement, made under a claim another dispatcher has since
taken, changes nothing.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from hub.connectors.delivery import Acknowledgement
from hub.connectors.registry import open_writer
from hub.errors import HubError, RegistryUnavailable
from hub.log import get_logger
from hub.metrics import DELIVERY_SECONDS
from hub.settings import RegistryName, Settings
from hub.store.engine import unit_of_work
from hub.store.types import utc_now
from hub.sync import outbox
from hub.sync.delivery_audit import record_deliveries

log = get_logger("dispatcher")
Sender = Callable[[str, str, Mapping[str, Any], str], Acknowledgement]
"""``send(target, operation, payload, idempotency_key)``."""


@dataclass
class DispatchReport:
    """What one or more dispatch passes did."""

    claimed: int = 0
    delivered: int = 0
    duplicates: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0
    """claims this dispatcher no longer held when it came to send or settle them"""

    def add(self, other: DispatchReport) -> None:
        """Accumulate another pass."""
        for name in ("claimed", "delivered", "duplicates", "retried", "dead", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class _Job:
    id: int
    flow: str
    target: str
    operation: str
    payload: dict[str, Any]
    key: str
    attempts: int
    claim: int


SETTLEMENTS_PER_BATCH = 4
"""A batch is settled in this many parts, each as soon as its deliveries are back."""


class _LeaseLost:
    """The result of a job not sent: this process no longer held its claim."""


LEASE_LOST = _LeaseLost()


class _Leases:
    """The leases of one batch as this process sees them, on its monotonic clock.

    A lease counts as held until ``margin`` before it lapses; the heartbeat
    moves it on each time the database confirms the claim. Clock and
    confirmation are local, so a process that was stopped (or lost the
    database) past its lease stops sending at once when it runs again.
    """

    def __init__(self, jobs: Sequence[_Job], seconds: float, started: float) -> None:
        self.seconds = seconds
        self.margin = min(1.0, seconds / 10)
        self._lock = threading.Lock()
        self._claims = {job.id: job.claim for job in jobs}
        self._until = dict.fromkeys(self._claims, started + seconds)

    def live(self, message_id: int) -> bool:
        """Whether a send of this message may start now."""
        with self._lock:
            return time.monotonic() < self._until[message_id] - self.margin

    def held(self) -> list[outbox.Held]:
        """The claims to renew: those not lapsed yet."""
        now = time.monotonic()
        with self._lock:
            return [
                outbox.Held(mid, claim)
                for mid, claim in self._claims.items()
                if now < self._until[mid] - self.margin
            ]

    def open(self) -> list[int]:
        """The messages not settled yet."""
        with self._lock:
            return list(self._claims)

    def forget(self, message_ids: set[int]) -> None:
        """These messages were settled (or found taken over): nothing more to renew."""
        with self._lock:
            for mid in message_ids:
                self._claims.pop(mid, None)

    def confirm(self, message_ids: set[int], started: float) -> None:
        """The database renewed these leases at (or after) ``started``."""
        with self._lock:
            for mid in message_ids:
                self._until[mid] = started + self.seconds

    def lapse(self, message_ids: set[int]) -> None:
        """These claims were taken over: never send them."""
        with self._lock:
            for mid in message_ids:
                self._until[mid] = float("-inf")


class Dispatcher:
    """Delivers the outbox of one hub store; several may run against one PostgreSQL."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        worker: str | None = None,
        sender: Sender | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.config = settings.outbox
        self.worker = worker or f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._writers: dict[str, Any] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._send = sender or self._send_through_connector

    def dispatch_once(self) -> DispatchReport:
        """Claim one batch, deliver it concurrently while renewing its leases, settle it.

        Deliveries are settled in parts as they come back, while the rest of the
        batch is still being sent: the registry is not kept waiting for the store.
        """
        lease = timedelta(seconds=self.config.lease_seconds)
        started = time.monotonic()  # before the claim: the local lease ends no later
        with unit_of_work(self.engine) as session:
            claimed = outbox.claim(
                session, worker=self.worker, limit=self.config.batch_size, lease=lease
            )
            jobs = [
                _Job(
                    m.id,
                    m.flow,
                    m.target_registry,
                    m.operation,
                    m.payload,
                    m.idempotency_key,
                    m.attempts,
                    m.claim,
                )
                for m in claimed
            ]
        report = DispatchReport(claimed=len(jobs))
        if not jobs:
            return report
        leases = _Leases(jobs, self.config.lease_seconds, started)
        chunk = max(1, self.config.batch_size // SETTLEMENTS_PER_BATCH)
        with self._renewing(leases):
            sending = {self._pool().submit(self._deliver, job, leases): job for job in jobs}
            done: list[_Job] = []
            results: list[Acknowledgement | HubError | _LeaseLost] = []
            handled = 0
            try:
                for future in as_completed(sending):
                    done.append(sending[future])
                    results.append(future.result())
                    if len(done) >= chunk or handled + len(done) == len(jobs):
                        self._settle(done, results, report)
                        leases.forget({job.id for job in done})
                        handled += len(done)
                        done, results = [], []
            except BaseException:
                leases.lapse(set(leases.open()))  # nobody settles them now: send no more
                raise
        return report

    def _settle(
        self,
        jobs: Sequence[_Job],
        results: Sequence[Acknowledgement | HubError | _LeaseLost],
        report: DispatchReport,
    ) -> None:
        """Settle what was sent, under each message's claim; audit the deliveries settled."""
        acknowledged: dict[int, tuple[_Job, Acknowledgement]] = {}
        failed: dict[int, tuple[_Job, HubError, outbox.Failed]] = {}
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, Acknowledgement):
                acknowledged[job.id] = (job, result)
            elif isinstance(result, HubError):
                failed[job.id] = (job, result, self._failure(job, result))
        with unit_of_work(self.engine) as session:
            settled = outbox.settle(
                session,
                worker=self.worker,
                delivered=[
                    outbox.Delivered(job.id, job.claim, ack.outcome, ack.details)
                    for job, ack in acknowledged.values()
                ],
                failed=[failure for _, _, failure in failed.values()],
            )
            record_deliveries(session, [acknowledged[mid][0] for mid in sorted(settled.delivered)])
        report.delivered += len(settled.delivered)
        report.duplicates += sum(
            acknowledged[mid][1].outcome == "duplicate" for mid in settled.delivered
        )
        report.retried += len(settled.retried)
        report.dead += len(settled.dead)
        report.lost += len(jobs) - settled.count
        for mid in sorted(settled.dead):
            job, error, _ = failed[mid]
            log.warning(
                "outbox_dead",
                message=job.id,
                target=job.target,
                operation=job.operation,
                attempts=job.attempts,
                error=type(error).__name__,
            )
        if settled.count < len(jobs):
            log.warning(
                "outbox_claims_lost",
                worker=self.worker,
                lost=len(jobs) - settled.count,
                unsent=sum(isinstance(r, _LeaseLost) for r in results),
                hint="another dispatcher took these messages over after their lease lapsed",
            )

    @contextmanager
    def _renewing(self, leases: _Leases) -> Iterator[None]:
        """Renew the batch's leases every third of a lease until the block ends."""
        stop = threading.Event()
        heartbeat = threading.Thread(
            target=self._heartbeat, args=(leases, stop), name="outbox-lease", daemon=True
        )
        heartbeat.start()
        try:
            yield
        finally:
            stop.set()
            heartbeat.join()

    def _heartbeat(self, leases: _Leases, stop: threading.Event) -> None:
        lease = timedelta(seconds=leases.seconds)
        while not stop.wait(leases.seconds / 3):
            held = leases.held()
            if not held:
                continue
            started = time.monotonic()
            try:
                with unit_of_work(self.engine) as session:
                    renewed = outbox.renew(session, held, lease=lease)
            except SQLAlchemyError as error:  # the lease may lapse: the claim is then lost
                log.warning("outbox_lease_not_renewed", worker=self.worker, error=str(error)[:200])
                continue
            leases.confirm(renewed, started)
            lost = {h.message_id for h in held} - renewed
            if lost:
                leases.lapse(lost)

    def drain(self, *, timeout: float = 600.0) -> DispatchReport:
        """Dispatch until nothing is pending (only delivered, dead or discarded remain)."""
        total = DispatchReport()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            report = self.dispatch_once()
            total.add(report)
            if report.claimed:
                continue
            wait = self._seconds_until_next_due()
            if wait is None:
                return total
            time.sleep(min(max(wait, 0.05), 5.0, max(0.0, deadline - time.monotonic())))
        return total

    def close(self) -> None:
        """Release the connectors' connections."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def _pool(self) -> ThreadPoolExecutor:
        """The threads that deliver, kept between batches (made on first use)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.config.concurrency, thread_name_prefix="deliver"
            )
        return self._executor

    def _deliver(self, job: _Job, leases: _Leases) -> Acknowledgement | HubError | _LeaseLost:
        if not leases.live(job.id):  # another dispatcher may hold it by now: never send it
            return LEASE_LOST
        started, result = time.perf_counter(), "failed"
        try:
            acknowledgement = self._send(job.target, job.operation, job.payload, job.key)
            result = acknowledgement.outcome
            return acknowledgement
        except HubError as error:
            return error
        finally:
            DELIVERY_SECONDS.labels(job.target, result).observe(time.perf_counter() - started)

    def _failure(self, job: _Job, result: HubError) -> outbox.Failed:
        """How a failed delivery settles: again later (transient, attempts left) or dead."""
        if isinstance(result, RegistryUnavailable) and job.attempts < self.config.max_attempts:
            delay = self._backoff(job.attempts, result.retry_after)
            at = utc_now() + timedelta(seconds=delay)
            return outbox.Failed(job.id, job.claim, str(result), retry_at=at)
        return outbox.Failed(job.id, job.claim, str(result), retry_at=None)

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        base = min(self.config.backoff_max, self.config.backoff_base * 2.0 ** (attempts - 1))
        delay: float = base * (0.5 + random.random() / 2)  # jittered, so retries spread out
        return max(delay, retry_after or 0.0)

    def _seconds_until_next_due(self) -> float | None:
        with Session(self.engine) as session:
            earliest = outbox.next_due_at(session)
        if earliest is None:
            return None
        wait: float = (earliest - utc_now()).total_seconds()
        return wait

    def _send_through_connector(
        self, target: str, operation: str, payload: Mapping[str, Any], key: str
    ) -> Acknowledgement:
        writer = self._writers.get(target)
        if writer is None:
            writer = self._writers[target] = open_writer(_registry(target), self.settings)
        acknowledgement: Acknowledgement = writer.send(operation, payload, idempotency_key=key)
        return acknowledgement


def _registry(name: str) -> RegistryName:
    if name not in ("emis", "sas", "tak", "cra", "cms"):
        raise HubError(f"outbox message targets unknown registry {name!r}")
    return name  # type: ignore[return-value]
