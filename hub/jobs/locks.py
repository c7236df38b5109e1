"""Writer locks: two runs of the same writer (a registry's ingestion, a flow) never overlap,
in any process.

PostgreSQL: one transaction-scoped advisory lock per writer, taken on a connection of its
own whose transaction stays open while the job runs; a process that dies drops its
connection, and with it the locks. SQLite (one machine): an exclusive ``flock`` per writer on
a file beside the database, released by the kernel when the process dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from hub.errors import Conflict

POLL_SECONDS = 0.2


def lock_key(writer: str) -> int:
    """The advisory-lock key of a writer name (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"ura-hub:writer:{writer}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def writers_held(
    engine: Engine,
    writers: Sequence[str],
    *,
    wait_seconds: float,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold every writer's lock (taken in sorted order) while the block runs.

    Waits up to ``wait_seconds`` for a lock another process holds (``on_wait`` is told
    which, once), then gives up with :class:`Conflict`.
    """
    ordered = sorted(set(writers))
    if engine.dialect.name == "postgresql":
        with _advisory(engine, ordered, wait_seconds, on_wait):
            yield
    else:
        with _flocks(_lock_dir(engine), ordered, wait_seconds, on_wait):
            yield


@contextmanager
def _advisory(
    engine: Engine,
    writers: list[str],
    wait_seconds: float,
    on_wait: Callable[[str], None] | None,
) -> Iterator[None]:
    connection = engine.connect()
    try:
        connection.begin()
        for writer in writers:
            _wait(partial(_try_advisory, connection, writer), writer, wait_seconds, on_wait)
        yield
    finally:
        connection.rollback()  # ends the transaction: the locks go with it
        connection.close()


@contextmanager
def _flocks(
    folder: Path,
    writers: list[str],
    wait_seconds: float,
    on_wait: Callable[[str], None] | None,
) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        for writer in writers:
            path = folder / f"{writer.replace(':', '-')}.lock"
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            stack.callback(os.close, descriptor)
            _wait(partial(_try_flock, descriptor), writer, wait_seconds, on_wait)
            stack.callback(fcntl.flock, descriptor, fcntl.LOCK_UN)
        yield


def _try_advisory(connection: Connection, writer: str) -> bool:
    taken = connection.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": lock_key(writer)}
    ).scalar()
    return bool(taken)


def _try_flock(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait(
    take: Callable[[], bool],
    writer: str,
    wait_seconds: float,
    on_wait: Callable[[str], None] | None,
) -> None:
    deadline = time.monotonic() + wait_seconds
    told = False
    while not take():
        if time.monotonic() >= deadline:
            raise Conflict(
                f"{writer} is being written by another run",
                hint="wait for it to finish (hub jobs list shows it), then try again",
            )
        if on_wait is not None and not told:
            on_wait(writer)
            told = True
        time.sleep(POLL_SECONDS)


def _lock_dir(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        return Path(os.environ.get("TMPDIR", "/tmp")) / "ura-hub-locks"  # noqa: S108
    return Path(database).resolve().parent / f"{Path(database).name}.locks"
