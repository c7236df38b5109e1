"""Recording the API's reads in the audit log: a read is answered only once its entry is
committed.

:meth:`AuditRecorder.record_async` is a group commit on the event loop: the entries of
every request that arrives while a commit is pending join it, so under load many reads
share one transaction (one chain lock, one INSERT, one commit), and a read alone waits
for its own. The commit runs on the loop itself, not in a writer thread: a second
Python thread doing the hashing and inserting contends for the GIL with the loop, and
measured on two cores that made every read of the loop about twice as slow (see
bench/api.py).

The loop never waits for the chain's lock. When another process (another API worker,
the dispatcher) holds it, the commit is tried again a moment later while the loop
serves other requests, and the entries arriving meanwhile join the group. Waiting
in the database instead (SQLite's busy handler sleeps, PostgreSQL's lock wait) would
stall every request of the process. A group that cannot be committed within the
recorder's ``lock_wait`` (``HUB_AUDIT_LOCK_WAIT_SECONDS``), or whose commit fails, fails
every request it carried (503): no personal data leaves the hub without its audit entry.

:meth:`AuditRecorder.record` is the same for a route running in a worker thread
(operator routes, a few requests a minute): it appends in a transaction of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Engine

from hub.audit.service import AuditEvent, append_many, try_append
from hub.errors import HubError
from hub.log import get_logger
from hub.metrics import AUDIT_GROUP
from hub.store.engine import unit_of_work

log = get_logger("audit")

RETRY_FIRST, RETRY_MOST = 0.0005, 0.02
"""Seconds before the first retry of a locked chain, and the most between two retries."""


class AuditUnavailable(HubError):
    """The audit log could not record a read; the read is refused (503)."""


class AuditRecorder:
    """Appends the audit entries of API reads, in groups, before the reads are answered."""

    def __init__(self, engine: Engine, *, lock_wait: float) -> None:
        self._engine = engine
        self._lock_wait = lock_wait
        self._waiting: list[AuditEvent] = []
        self._committed: asyncio.Future[None] | None = None
        self._first_try = 0.0
        self._retry = RETRY_FIRST

    async def record_async(self, events: Sequence[AuditEvent]) -> None:
        """Append ``events`` with whatever else waits, and return once they are committed."""
        if not events:
            return
        self._waiting.extend(events)
        if self._committed is None:
            loop = asyncio.get_running_loop()
            self._committed = loop.create_future()
            self._first_try, self._retry = time.monotonic(), RETRY_FIRST
            loop.call_soon(self._commit_waiting)  # after the requests ready now have joined
        await asyncio.shield(self._committed)

    def record(self, events: Sequence[AuditEvent]) -> None:
        """Append ``events`` in a transaction of their own (from a worker thread)."""
        if events:
            with _translated(len(events)), unit_of_work(self._engine) as session:
                append_many(session, events=events)
            AUDIT_GROUP.observe(len(events))

    def _commit_waiting(self) -> None:
        committed = self._committed
        assert committed is not None
        outcome: AuditUnavailable | None = None
        try:
            if not self._try_append(self._waiting):
                outcome = self._retry_later()
                if outcome is None:
                    return  # tried again shortly; the group stays open meanwhile
        except AuditUnavailable as error:
            outcome = error
        self._committed, self._waiting = None, []
        if outcome is None:
            committed.set_result(None)
        else:
            committed.set_exception(outcome)

    def _try_append(self, events: list[AuditEvent]) -> bool:
        with _translated(len(events)), self._engine.connect() as connection:
            if not try_append(connection, events=events):
                return False  # nothing written; closing the connection ends the transaction
            connection.commit()
        AUDIT_GROUP.observe(len(events))
        return True

    def _retry_later(self) -> AuditUnavailable | None:
        """Schedule the next try; the refusal instead once the wait is over."""
        if time.monotonic() - self._first_try >= self._lock_wait:
            log.error("audit_lock_wait_exceeded", entries=len(self._waiting))
            return AuditUnavailable(
                f"the audit log stayed locked by another writer for {self._lock_wait:g} s, "
                "so these reads are refused",
                hint="retry shortly; if it persists, look for a long transaction on the store",
            )
        asyncio.get_running_loop().call_later(self._retry, self._commit_waiting)
        self._retry = min(RETRY_MOST, self._retry * 2)
        return None


@contextmanager
def _translated(entries: int) -> Iterator[None]:
    """Turn a failed append into :class:`AuditUnavailable`: the database's error, once, here."""
    try:
        yield
    except Exception as error:
        log.error("audit_append_failed", entries=entries, error=type(error).__name__)
        raise AuditUnavailable(
            "the audit log could not record this read, so it is refused",
            hint="retry shortly; if it persists, check the database (see /readyz)",
        ) from error
