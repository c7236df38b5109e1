"""Group commit of audit entries: a read is answered only once its entry is stored.

Requests hand their events to one writer thread per process, which appends all
that wait in one transaction (one chain lock, one INSERT, one commit) and then
releases them. Under load many reads share a commit; alone, a read waits for
its own. A failed append fails every request it carried: no personal data
leaves the hub without its audit entry.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy import Engine

from hub.audit.service import AuditEvent, append_many
from hub.errors import HubError
from hub.log import get_logger
from hub.store.engine import unit_of_work

log = get_logger("audit")

MAX_BATCH = 1_000
"""Events appended in one transaction at most."""


class AuditUnavailable(HubError):
    """The audit log could not record a read; the read is refused (503)."""


@dataclass
class _Pending:
    events: Sequence[AuditEvent]
    done: Future[None] = field(default_factory=Future)


class AuditRecorder:
    """A writer thread that appends queued audit events in batches."""

    def __init__(self, engine: Engine, *, max_batch: int = MAX_BATCH) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="audit-recorder", daemon=True
                )
                self._thread.start()

    def close(self) -> None:
        """Write what is queued, then stop the writer thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def record(self, events: Sequence[AuditEvent], *, timeout: float = 30.0) -> None:
        """Append ``events`` and return once they are committed; raise if they were not."""
        if not events:
            return
        if self._thread is None:
            raise AuditUnavailable(
                "the audit recorder is not running", hint="restart the hub process"
            )
        pending = _Pending(events)
        self._queue.put(pending)
        try:
            pending.done.result(timeout=timeout)
        except HubError:
            raise
        except Exception as error:  # the database's error, translated once here
            raise AuditUnavailable(
                "the audit log could not record this read, so it is refused",
                hint="retry shortly; if it persists, check the database (see /readyz)",
            ) from error

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = self._gather(first)
            self._append(batch)
            if stop:
                return

    def _gather(self, first: _Pending) -> tuple[list[_Pending], bool]:
        batch, size = [first], len(first.events)
        while size < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
            if item is None:
                return batch, True
            batch.append(item)
            size += len(item.events)
        return batch, False

    def _append(self, batch: list[_Pending]) -> None:
        events = [event for pending in batch for event in pending.events]
        try:
            with unit_of_work(self._engine) as session:
                append_many(session, events=events)
        except Exception as error:  # every waiting request is told, none is lost silently
            log.error("audit_append_failed", entries=len(events), error=type(error).__name__)
            for pending in batch:
                pending.done.set_exception(error)
            return
        for pending in batch:
            pending.done.set_result(None)
