"""Scheduler leadership: at most one hub process runs ingestion and flow decisions at a time.

Every process dispatches (claims are safe with ``FOR UPDATE SKIP LOCKED``), but
deciding twice at once would only waste work and contend for locks, so those
jobs run in the leader alone. Leadership is a lock the operating system or the
database releases by itself when its holder dies, so no lease has to expire:

- **PostgreSQL**: a session-level ``pg_try_advisory_lock`` held on a dedicated
  connection (outside the pool, ``application_name`` ``ura-hub-leader``, TCP
  keepalives on) for as long as the process leads. The leader checks the
  connection before each job; if it was lost, the lock went with it and the
  process tries again like any other.
- **SQLite** (one machine): an exclusive ``flock`` on ``<database>.leader.lock``
  next to the database file. The kernel drops it when the process exits. Do not
  put the database on a network file system: ``flock`` is not reliable there.
- An in-memory SQLite database is private to one process: that process leads.

A process that is not leader tries again at each of its jobs' cycles.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from contextlib import suppress
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from hub.log import get_logger
from hub.store.engine import make_engine

log = get_logger("leader")

LEADER_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"ura-hub:scheduler-leader").digest()[:8], "big", signed=True
)
"""The advisory-lock key of scheduler leadership (advisory locks are per database)."""

LEADER_APPLICATION_NAME = "ura-hub-leader"
"""How the leader's connection shows in ``pg_stat_activity``."""


class Leadership(Protocol):
    """A lock only one process holds; ``hold()`` takes or confirms it, never blocks."""

    kind: str

    @property
    def held(self) -> bool:
        """Whether this process leads, as of the last ``hold()``."""
        ...

    def hold(self) -> bool:
        """Take the lock if free, or confirm it is still ours; whether we lead now."""
        ...

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        ...


def leadership_for(engine: Engine) -> Leadership:
    """The leadership lock that fits the engine's database."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresLeadership(url.render_as_string(hide_password=False))
    database = url.database or ""
    if not database or database == ":memory:":
        return SoloLeadership()
    return FileLeadership(Path(database).with_name(Path(database).name + ".leader.lock"))


class SoloLeadership:
    """A database no other process can reach: this process always leads."""

    kind = "single process"

    def __init__(self) -> None:
        self._held = False

    @property
    def held(self) -> bool:
        """Whether ``hold()`` was called since the last release."""
        return self._held

    def hold(self) -> bool:
        """Always true."""
        self._held = True
        return True

    def release(self) -> None:
        """Nothing to give up."""
        self._held = False


class FileLeadership:
    """An exclusive ``flock`` on a lock file next to the SQLite database."""

    kind = "lock file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def held(self) -> bool:
        """Whether this instance holds the lock file."""
        return self._file is not None

    def hold(self) -> bool:
        """Lock the file without waiting; the lock lasts while the file stays open."""
        with self._lock:
            if self._file is not None:
                return True
            handle = self.path.open("a+b")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            except OSError as error:
                handle.close()
                log.warning("leadership_unavailable", kind=self.kind, error=type(error).__name__)
                return False
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n".encode())  # for an operator wondering who leads
            handle.flush()
            self._file = handle
            log.info("leadership_taken", kind=self.kind)
            return True

    def release(self) -> None:
        """Unlock by closing the file (the file itself stays, harmless)."""
        with self._lock:
            if self._file is None:
                return
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
            log.info("leadership_released", kind=self.kind)


class PostgresLeadership:
    """A session-level advisory lock on a dedicated connection to the hub's database."""

    kind = "postgresql advisory lock"

    def __init__(self, url: str, *, key: int = LEADER_LOCK_KEY) -> None:
        self.key = key
        # NullPool: closing the connection really closes it, and with it the lock;
        # a pooled connection would go back to the pool still holding the lock.
        self._engine = make_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "application_name": LEADER_APPLICATION_NAME,
                "connect_timeout": 5,
                "keepalives": 1,
                "keepalives_idle": 30,
                "keepalives_interval": 10,
                "keepalives_count": 3,
            },
        )
        self._connection: Connection | None = None
        self._lock = threading.Lock()

    @property
    def held(self) -> bool:
        """Whether this instance held the lock at its last check."""
        return self._connection is not None

    def hold(self) -> bool:
        """Confirm the lock's connection is alive, or try to take the lock on a new one."""
        with self._lock:
            if self._connection is not None and self._alive(self._connection):
                return True
            return self._try_take()

    def release(self) -> None:
        """Unlock and close the dedicated connection."""
        with self._lock:
            if self._connection is None:
                return
            # if the connection is gone, the lock went with it
            with suppress(SQLAlchemyError):
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            self._drop()
            log.info("leadership_released", kind=self.kind)

    def _try_take(self) -> bool:
        try:
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as error:
            log.warning("leadership_unavailable", kind=self.kind, error=type(error).__name__)
            return False
        try:
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}
            ).scalar_one()
        except SQLAlchemyError as error:
            connection.close()
            log.warning("leadership_unavailable", kind=self.kind, error=type(error).__name__)
            return False
        if not taken:
            connection.close()
            return False
        self._connection = connection
        log.info("leadership_taken", kind=self.kind)
        return True

    def _alive(self, connection: Connection) -> bool:
        try:
            connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            log.warning("leadership_lost", kind=self.kind, error=type(error).__name__)
            self._drop()
            return False
        return True

    def _drop(self) -> None:
        if self._connection is not None:
            with suppress(SQLAlchemyError):
                self._connection.close()
            self._connection = None
