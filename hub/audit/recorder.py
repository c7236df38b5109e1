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
recorder's own connection (:class:`~hub.store.prepared.PgConnection`), in one round trip:
begin, wait for the chain's lock, append the group, chained by the database itself
(``sha256`` of each entry's canonical form around its predecessor's hash), and commit. The
loop serves other requests all the while, the wait for the lock included (the database
hands it to the API processes in turn), and the lock is held only while the database
appends, never across a round trip or a turn of the loop; the entries that arrive during
a commit form the next group, committed as soon as this one is.

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

from hub.audit.chain import GENESIS_HASH, HASHED_COLUMNS, around_prev_hash
from hub.audit.models import AuditEntry
from hub.audit.service import (
    CHAIN_LOCK_KEY,
    AuditEvent,
    append_many,
    chained_rows,
    entry_row,
    try_append,
    validate_event,  # the same checks as every append
)
from hub.errors import HubError
from hub.log import get_logger
from hub.metrics import AUDIT_GROUP
from hub.store.engine import unit_of_work
from hub.store.prepared import PgConnection, PgPool, PreparedStatement
from hub.store.types import utc_now

log = get_logger("audit")

RETRY_FIRST, RETRY_MOST = 0.0005, 0.02
"""Seconds before the first retry of a locked chain, and the most between two retries."""

_APPEND_STATEMENT = (
    b"ura_audit_append",
    b"WITH RECURSIVE g AS ("
    b" SELECT * FROM json_to_recordset($2::json) AS r(n integer, action text, actor text,"
    b" purpose text, person_id integer, fields json, target text, request_id text,"
    b" before text, after text)"
    b"), chain (n, hash) AS ("
    b" SELECT 0, coalesce((SELECT entry_hash FROM audit_entry ORDER BY id DESC LIMIT 1)::text,"
    b" '" + GENESIS_HASH.encode() + b"')"
    b" UNION ALL"
    b" SELECT g.n, encode(sha256(convert_to(g.before || chain.hash || g.after, 'UTF8')), 'hex')"
    b" FROM chain JOIN g ON g.n = chain.n + 1"
    b") "
    b"INSERT INTO audit_entry (occurred_at, action, actor, purpose, person_id, fields, target,"
    b" request_id, prev_hash, entry_hash) "
    b"SELECT $1::timestamptz, g.action, g.actor, g.purpose, g.person_id, g.fields, g.target,"
    b" g.request_id, prev.hash, this.hash"
    b" FROM g JOIN chain AS this ON this.n = g.n JOIN chain AS prev ON prev.n = g.n - 1"
    b" ORDER BY g.n",
)
"""A group appended and chained by the database itself, in one statement whatever its
size: the head read, then each entry's hash, ``sha256`` of its canonical form around its
predecessor's hash (:func:`~hub.audit.chain.around_prev_hash`, which ``hub audit verify``
checks as it checks every entry), ids in the order of the chain. Prepared once per
connection (planned once, not at every group)."""
_APPEND_GROUP = (
    b"BEGIN; SET LOCAL lock_timeout = %%d; SELECT pg_advisory_xact_lock(%d); "
    b"EXECUTE ura_audit_append(%%s, %%s); COMMIT" % CHAIN_LOCK_KEY
)
"""Begin, wait for the chain's lock (at most the ``%d`` milliseconds), append the group and
commit: one round trip, filled with the wait and two literals escaped by libpq (the time,
the group as JSON). The lock is held only while the database appends, never across a
round trip or a turn of the event loop; each statement of a text sees what was committed
before it began, so the head is read once the lock is held."""
_ENTRY: Table = AuditEntry.__table__  # type: ignore[attr-defined]
_COLUMNS = (*HASHED_COLUMNS, "entry_hash")
_HEAD = "SELECT entry_hash FROM audit_entry ORDER BY id DESC LIMIT 1"


class AuditUnavailable(HubError):
    """The audit log could not record a read; the read is refused (503)."""


_Group = tuple[list[AuditEvent], "asyncio.Future[None]"]
"""A group's entries and the future its requests wait on."""


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
        """Commit the waiting group (PostgreSQL) in one round trip. The lock is waited for
        in the database, at most ``lock_wait``: the wait is asynchronous, so the loop serves
        other requests meanwhile, and the database hands the lock to waiters in turn, where
        polling could lose it to the other API processes again and again. What arrives
        meanwhile forms the next group, sent as soon as this one is committed."""
        from psycopg import errors

        events, committed = self._take()
        try:
            with _translated(len(events)):
                try:
                    await self._append_async(events)
                except errors.LockNotAvailable:
                    log.error("audit_lock_wait_exceeded", entries=len(events))
                    raise self._locked_too_long() from None
        except AuditUnavailable as failure:
            _settle(committed, failure)
            return
        AUDIT_GROUP.observe(len(events))
        _settle(committed, None)

    async def _append_async(self, events: Sequence[AuditEvent]) -> None:
        """Append ``events`` once the chain's lock is held, and commit; the driver's
        ``LockNotAvailable``, with nothing written, if the lock stays held elsewhere."""
        assert self._driver is not None
        for event in events:
            validate_event(event)
        occurred_at = utc_now()
        group = []
        for n, event in enumerate(events, start=1):
            row = entry_row(event, occurred_at, GENESIS_HASH)
            before, after = around_prev_hash(row)
            del row["occurred_at"], row["prev_hash"]
            group.append({**row, "n": n, "before": before, "after": after})
        wait_ms = max(1, round(self._lock_wait * 1000))
        connection = await self._driver.acquire()
        try:
            await connection.prepare(*_APPEND_STATEMENT)
            await connection.simple(
                _APPEND_GROUP
                % (
                    wait_ms,
                    connection.literal(occurred_at.isoformat()),
                    connection.literal(json.dumps(group)),
                )
            )
        finally:
            if not connection.idle:  # failed mid-transaction: end it, or the pool drops it
                await _rolled_back(connection)
            await self._driver.release(connection)

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


async def _rolled_back(connection: PgConnection) -> None:
    try:
        await connection.simple(b"ROLLBACK")
    except Exception:  # broken: the pool closes it
        return


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
    except AuditUnavailable:
        raise
    except Exception as error:
        log.error("audit_append_failed", entries=entries, error=type(error).__name__)
        raise AuditUnavailable(
            "the audit log could not record this read, so it is refused",
            hint="retry shortly; if it persists, check the database (see /readyz)",
        ) from error
