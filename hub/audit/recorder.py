"""Recording the API's reads in the audit log: a read is answered only once its entry is
committed.

:meth:`AuditRecorder.record_async` is a group commit on the event loop: the entries of
every request that arrives while a commit is pending join it, so under load many reads
share one transaction (one chain lock, one INSERT, one commit), and a read alone waits
for its own. The commit runs on the loop itself, not in a writer thread: a second
Python thread doing the hashing and inserting contends for the GIL with the loop, and
measured on two cores that made every read of the loop about twice as slow (see
bench/api.py). A failed commit fails every request it carried: no personal data leaves
the hub without its audit entry.

:meth:`AuditRecorder.record` is the same for a route running in a worker thread
(operator routes, a few requests a minute): it appends in a transaction of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import Engine

from hub.audit.service import AuditEvent, append_many
from hub.errors import HubError
from hub.log import get_logger
from hub.store.engine import unit_of_work

log = get_logger("audit")


class AuditUnavailable(HubError):
    """The audit log could not record a read; the read is refused (503)."""


class AuditRecorder:
    """Appends the audit entries of API reads, in groups, before the reads are answered."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._waiting: list[AuditEvent] = []
        self._committed: asyncio.Future[None] | None = None

    async def record_async(self, events: Sequence[AuditEvent]) -> None:
        """Append ``events`` with whatever else waits, and return once they are committed."""
        if not events:
            return
        self._waiting.extend(events)
        if self._committed is None:
            loop = asyncio.get_running_loop()
            self._committed = loop.create_future()
            loop.call_soon(self._commit_waiting)  # after the requests ready now have joined
        await asyncio.shield(self._committed)

    def record(self, events: Sequence[AuditEvent]) -> None:
        """Append ``events`` in a transaction of their own (from a worker thread)."""
        if events:
            self._append(list(events))

    def _commit_waiting(self) -> None:
        committed, self._committed = self._committed, None
        events, self._waiting = self._waiting, []
        assert committed is not None
        try:
            self._append(events)
        except AuditUnavailable as error:
            committed.set_exception(error)
        else:
            committed.set_result(None)

    def _append(self, events: list[AuditEvent]) -> None:
        try:
            with unit_of_work(self._engine) as session:
                append_many(session, events=events)
        except Exception as error:  # the database's error, translated once, here
            log.error("audit_append_failed", entries=len(events), error=type(error).__name__)
            raise AuditUnavailable(
                "the audit log could not record this read, so it is refused",
                hint="retry shortly; if it persists, check the database (see /readyz)",
            ) from error
