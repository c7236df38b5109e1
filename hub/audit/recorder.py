"""Recording the API's reads in the audit log: a read is answered only once its entry is
committed.

:meth:`AuditRecorder.record_async` is a group commit on the event loop: the entries of
every request that arrives while a commit is pending join it, so under load many reads
share one transaction (one chain lock, one INSERT, one commit), and a read alone waits
for its own. The commit runs on the loop itself, not in a writer thread: a second
Python thread doing the hashing and inserting contends for the GIL with the loop, and
measured on two cores that made every read of the loop about twice as slow (see
bench/api.py).

On PostgreSQL the commit is asynchronous (:meth:`AuditRecorder._drain`), on the
recorder's own connection (:class:`~hub.store.prepared.PgConnection`), in two round
trips: begin, wait for the chain's lock and read its head; then insert the whole group
in one statement and commit. The loop serves other requests all the while, the wait for
the lock included (the database hands it to the API processes in turn); the entries
that arrive before the lock is held join the group, those that arrive during its commit
form the next one, committed as soon as this one is.

On SQLite the commit is a few hundred microseconds on the loop, and the loop never
waits for the chain's lock: when another process (another API worker, the dispatcher)
holds it, the commit is tried again a moment later while the loop serves other requests,
and the entries arriving meanwhile join the group (SQLite's busy handler would sleep,
stalling every request of the process).

A group that cannot be committed within the recorder's ``lock_wait``
(``HUB_AUDIT_LOCK_WAIT_SECONDS``), or whose commit fails, fails every request it carried
(503): no personal data leaves the hub without its audit entry.

:meth:`AuditRecorder.record` is the same for a route running in a worker thread
(operator routes, a few requests a minute): it appends in a transaction of its own.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, Table, insert
from sqlalchemy.pool import PoolProxiedConnection

from hub.audit.chain import GENESIS_HASH, HASHED_COLUMNS
from hub.audit.models import AuditEntry
from hub.audit.service import (
    CHAIN_LOCK_KEY,
    AuditEvent,
    append_many,
    chained_rows,
    try_append,
    validate_event,  # the same checks as every append
)
from hub.errors import HubError
from hub.log import get_logger
from hub.metrics import AUDIT_GROUP
from hub.store.engine import unit_of_work
from hub.store.prepared import PgConnection, PgPool, PreparedStatement

log = get_logger("audit")

RETRY_FIRST, RETRY_MOST = 0.0005, 0.02
"""Seconds before the first retry of a locked chain, and the most between two retries."""

_HEAD_STATEMENT = (
    b"ura_audit_head",
    b"SELECT entry_hash FROM audit_entry ORDER BY id DESC LIMIT 1",
)
_INSERT_STATEMENT = (
    b"ura_audit_insert",
    b"INSERT INTO audit_entry (occurred_at, action, actor, purpose, person_id, fields, "
    b"target, request_id, prev_hash, entry_hash) "
    b"SELECT $1::timestamptz, r.action, r.actor, r.purpose, r.person_id, r.fields, r.target, "
    b"r.request_id, r.prev_hash, r.entry_hash "
    b"FROM json_populate_recordset(NULL::audit_entry, $2::json) WITH ORDINALITY AS r "
    b"ORDER BY r.ordinality",
)
"""The recorder's two statements, prepared once per connection (planned once, not at every
group) and run by ``EXECUTE`` among the other statements of a round trip. The insert takes
a group in one statement whatever its size, ids in the order of the chain, each entry's
JSON parsed once into the row."""
_LOCK_AND_HEAD = (
    b"BEGIN; SET LOCAL lock_timeout = %%d; SELECT pg_advisory_xact_lock(%d); "
    b"EXECUTE ura_audit_head" % CHAIN_LOCK_KEY
)
"""Begin, wait for the chain's lock (at most the ``%d`` milliseconds), read the head: one
round trip. Each statement of a text sees what was committed before it began, so the head
is read once the lock is held."""
_INSERT_GROUP = b"EXECUTE ura_audit_insert(%s, %s); COMMIT"
"""The group and the commit: one round trip, filled with two literals escaped by libpq (the
time, the group as JSON)."""
_ENTRY: Table = AuditEntry.__table__  # type: ignore[attr-defined]
_COLUMNS = (*HASHED_COLUMNS, "entry_hash")
_HEAD = "SELECT entry_hash FROM audit_entry ORDER BY id DESC LIMIT 1"


class AuditUnavailable(HubError):
    """The audit log could not record a read; the read is refused (503)."""


_Group = tuple[list[AuditEvent], "asyncio.Future[None]"]
"""A group's entries and the future its requests wait on."""


class _ChainLocked(Exception):
    """Another transaction held the chain's lock for the whole wait."""


class _GroupFailed(Exception):
    """Appending a group taken from the waiting list failed (the cause is chained)."""

    def __init__(self, group: _Group) -> None:
        super().__init__("the audit group could not be appended")
        self.group = group


class AuditRecorder:
    """Appends the audit entries of API reads, in groups, before the reads are answered."""

    def __init__(self, engine: Engine, *, lock_wait: float) -> None:
        self._engine = engine
        self._lock_wait = lock_wait
        self._waiting: list[AuditEvent] = []
        self._committed: asyncio.Future[None] | None = None
        self._first_try = 0.0
        self._retry = RETRY_FIRST
        self._driver: PgPool | None = None
        self._draining: asyncio.Task[None] | None = None
        self._sqlite: _SqliteChain | None = None
        if engine.dialect.name == "postgresql":
            self._driver = PgPool(engine, size=1)
        elif engine.dialect.name == "sqlite":
            self._sqlite = _SqliteChain(engine)

    async def record_async(self, events: Sequence[AuditEvent]) -> None:
        """Append ``events`` with whatever else waits, and return once they are committed."""
        if not events:
            return
        self._waiting.extend(events)
        if self._committed is None:
            loop = asyncio.get_running_loop()
            self._committed = loop.create_future()
            if self._driver is None:
                self._first_try, self._retry = time.monotonic(), RETRY_FIRST
                loop.call_soon(self._commit_waiting)  # after the requests ready now have joined
            elif self._draining is None:
                self._draining = loop.create_task(self._drain())
        await asyncio.shield(self._committed)

    async def aclose(self) -> None:
        """Close the recorder's own connection."""
        if self._driver is not None:
            await self._driver.aclose()
        if self._sqlite is not None:
            self._sqlite.close()

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
        with _translated(len(events)):
            if self._sqlite is not None:
                appended = self._sqlite.try_append(events)
            else:
                with self._engine.connect() as connection:
                    appended = try_append(connection, events=events)
                    if appended:
                        connection.commit()  # else closing the connection ends the transaction
        if appended:
            AUDIT_GROUP.observe(len(events))
        return appended

    async def _drain(self) -> None:
        """Commit groups until none waits (PostgreSQL): one group at a time, so that the
        process never competes with itself for the chain's lock."""
        try:
            await asyncio.sleep(0)  # after the requests ready now have joined
            while self._committed is not None:
                await self._commit_group()
        except asyncio.CancelledError:  # the loop is shutting down: its requests go with it
            if self._committed is not None:
                self._take()[1].cancel()
            raise
        finally:
            self._draining = None

    async def _commit_group(self) -> None:
        """Commit the waiting group (PostgreSQL). The lock is waited for in the database,
        at most ``lock_wait``: the wait is asynchronous, so the loop serves other requests
        meanwhile, and the database hands the lock to waiters in turn, where polling could
        lose it to the other API processes again and again. The group stays open (arrivals
        join it) until the lock is held."""
        try:
            taken = await self._append_async()
        except _ChainLocked:
            events, committed = self._take()
            log.error("audit_lock_wait_exceeded", entries=len(events))
            _settle(committed, self._locked_too_long())
            return
        except Exception as error:
            group = error.group if isinstance(error, _GroupFailed) else self._take()
            cause = error.__cause__ if isinstance(error, _GroupFailed) else error
            log.error("audit_append_failed", entries=len(group[0]), error=type(cause).__name__)
            failure = AuditUnavailable(
                "the audit log could not record this read, so it is refused",
                hint="retry shortly; if it persists, check the database (see /readyz)",
            )
            failure.__cause__ = cause
            _settle(group[1], failure)
            return
        AUDIT_GROUP.observe(len(taken[0]))
        _settle(taken[1], None)

    async def _append_async(self) -> _Group:
        """Append the waiting group once the chain's lock is held; the group, committed.
        :class:`_ChainLocked`, with nothing written, if the lock stays held elsewhere."""
        from psycopg import errors

        assert self._driver is not None
        wait_ms = max(1, round(self._lock_wait * 1000))
        connection = await self._driver.acquire()
        try:
            await connection.prepare(*_HEAD_STATEMENT)
            await connection.prepare(*_INSERT_STATEMENT)
            try:
                _begin, _wait, _lock, head = await connection.simple(_LOCK_AND_HEAD % wait_ms)
            except errors.LockNotAvailable:
                await connection.simple(b"ROLLBACK")
                raise _ChainLocked() from None
            taken = self._take()
            try:
                previous = head.get_value(0, 0) if head.ntuples else None
                await self._insert_group(connection, taken[0], previous)
            except Exception as error:  # the pool drops a connection left in a transaction
                raise _GroupFailed(taken) from error
            return taken
        finally:
            await self._driver.release(connection)

    async def _insert_group(
        self, connection: PgConnection, events: Sequence[AuditEvent], head: bytes | None
    ) -> None:
        for event in events:
            validate_event(event)
        rows = chained_rows(head.decode() if head is not None else GENESIS_HASH, events)
        occurred_at = rows[0]["occurred_at"]
        group = json.dumps([{k: v for k, v in row.items() if k != "occurred_at"} for row in rows])
        await connection.simple(
            _INSERT_GROUP % (connection.literal(occurred_at.isoformat()), connection.literal(group))
        )

    def _take(self) -> _Group:
        """The waiting group, closed: what arrives from now on forms the next one."""
        events, committed = self._waiting, self._committed
        assert committed is not None
        self._waiting, self._committed = [], None
        return events, committed

    def _locked_too_long(self) -> AuditUnavailable:
        return AuditUnavailable(
            f"the audit log stayed locked by another writer for {self._lock_wait:g} s, "
            "so these reads are refused",
            hint="retry shortly; if it persists, look for a long transaction on the store",
        )

    def _retry_later(self) -> AuditUnavailable | None:
        """Schedule the next try; the refusal instead once the wait is over."""
        if time.monotonic() - self._first_try >= self._lock_wait:
            log.error("audit_lock_wait_exceeded", entries=len(self._waiting))
            return self._locked_too_long()
        asyncio.get_running_loop().call_later(self._retry, self._commit_waiting)
        self._retry = min(RETRY_MOST, self._retry * 2)
        return None


class _SqliteChain:
    """The recorder's own SQLite connection, which never waits for the database's write
    lock (``busy_timeout`` 0): appends a group on the driver's connection, the row values
    bound as a session would bind them, in a fraction of what a SQLAlchemy connection per
    group costs (checkout, statement cache, and the busy timeout set and reset each time).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: PoolProxiedConnection | None = None
        self._insert = PreparedStatement(insert(_ENTRY), engine.dialect, column_keys=_COLUMNS)

    def try_append(self, events: Sequence[AuditEvent]) -> bool:
        """Append ``events`` if the chain is free now; False, nothing written, if another
        transaction writes to the store."""
        for event in events:
            validate_event(event)
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode == sqlite3.SQLITE_BUSY:
                return False
            self.close()
            raise
        try:
            head = connection.execute(_HEAD).fetchone()
            rows = chained_rows(head[0] if head is not None else GENESIS_HASH, events)
            insert_rows = [self._insert.parameters(row) for row in rows]
            connection.executemany(self._insert.sql, insert_rows)
            connection.execute("COMMIT")
        except BaseException:
            self.close()  # rolls back what this transaction wrote
            raise
        return True

    def close(self) -> None:
        """Close the connection (rolling back anything left open); not back to the pool,
        where others expect SQLite's busy handler to wait for them."""
        if self._connection is not None:
            self._connection.invalidate()
            self._connection = None

    def _connect(self) -> Any:
        if self._connection is None:
            self._connection = self._engine.raw_connection()
            fresh: Any = self._connection.driver_connection
            fresh.execute("PRAGMA busy_timeout=0")
        raw: Any = self._connection.driver_connection
        return raw


def _settle(committed: asyncio.Future[None], outcome: AuditUnavailable | None) -> None:
    if committed.done():
        return
    if outcome is None:
        committed.set_result(None)
    else:
        committed.set_exception(outcome)


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
