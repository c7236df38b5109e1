"""The dispatcher: claims outbox messages, delivers them with their idempotency keys, settles.

A delivery that fails transiently is retried later with backoff; one the
registry rejects, or that keeps failing, is parked as dead for an operator.
A dispatcher killed mid-delivery leaves claimed messages whose lease runs out;
the next dispatcher delivers them again with the same idempotency key, and the
registry acknowledges the repeat without applying it twice.
"""

from __future__ import annotations

import random
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from hub.connectors.delivery import Acknowledgement
from hub.connectors.registry import open_writer
from hub.errors import HubError, RegistryUnavailable
from hub.log import get_logger
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

    def add(self, other: DispatchReport) -> None:
        """Accumulate another pass."""
        for name in ("claimed", "delivered", "duplicates", "retried", "dead"):
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
        self.worker = worker or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self._writers: dict[str, Any] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._send = sender or self._send_through_connector

    def dispatch_once(self) -> DispatchReport:
        """Claim one batch, deliver it concurrently, settle every message."""
        with unit_of_work(self.engine) as session:
            claimed = outbox.claim(
                session,
                worker=self.worker,
                limit=self.config.batch_size,
                lease=timedelta(seconds=self.config.lease_seconds),
            )
            jobs = [
                _Job(
                    m.id or 0,
                    m.flow,
                    m.target_registry,
                    m.operation,
                    m.payload,
                    m.idempotency_key,
                    m.attempts,
                )
                for m in claimed
            ]
        report = DispatchReport(claimed=len(jobs))
        if not jobs:
            return report
        results = list(self._pool().map(self._deliver, jobs))
        delivered = [
            (job, result)
            for job, result in zip(jobs, results, strict=True)
            if isinstance(result, Acknowledgement)
        ]
        with unit_of_work(self.engine) as session:
            outbox.mark_delivered_many(
                session,
                [outbox.Delivered(job.id, ack.outcome, ack.details) for job, ack in delivered],
            )
            for job, result in zip(jobs, results, strict=True):
                if isinstance(result, HubError):
                    self._settle_failure(session, job, result, report)
            record_deliveries(session, [job for job, _ in delivered])
        report.delivered += len(delivered)
        report.duplicates += sum(ack.outcome == "duplicate" for _, ack in delivered)
        return report

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

    def _deliver(self, job: _Job) -> Acknowledgement | HubError:
        try:
            return self._send(job.target, job.operation, job.payload, job.key)
        except HubError as error:
            return error

    def _settle_failure(
        self, session: Session, job: _Job, result: HubError, report: DispatchReport
    ) -> None:
        error = str(result)
        if isinstance(result, RegistryUnavailable) and job.attempts < self.config.max_attempts:
            delay = self._backoff(job.attempts, result.retry_after)
            outbox.mark_retry(
                session, message_id=job.id, error=error, at=utc_now() + timedelta(seconds=delay)
            )
            report.retried += 1
            return
        outbox.mark_dead(session, message_id=job.id, error=error)
        report.dead += 1
        log.warning(
            "outbox_dead",
            message=job.id,
            target=job.target,
            operation=job.operation,
            attempts=job.attempts,
            error=type(result).__name__,
        )

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
