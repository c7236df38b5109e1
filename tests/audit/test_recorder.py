"""The API's audit recorder when another writer holds the chain, on SQLite and PostgreSQL.

The recorder commits on the event loop, so it must never wait inside the database: a
held chain delays the reads that wait for their entries, not the loop, and a chain held
past the recorder's patience refuses those reads with nothing written.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session

from hub.audit import service as audit
from hub.audit.models import AuditEntry
from hub.audit.recorder import AuditRecorder, AuditUnavailable
from hub.audit.service import AuditEvent


def _reads(n: int) -> list[AuditEvent]:
    return [
        AuditEvent(
            action="read", actor="ea-portal", purpose="sa-status:read", person_id=i + 1,
            fields=["status"], target="/v1/persons/{personal_no}/social-assistance",
            request_id=f"req-{i:06d}",
        )
        for i in range(n)
    ]  # fmt: skip


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


@contextmanager
def _chain_held(engine: Engine, seconds: float) -> Iterator[None]:
    """Another writer (as another process would) holds the chain for ``seconds``."""
    taken = threading.Event()

    def hold() -> None:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": audit.CHAIN_LOCK_KEY}
                )
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            taken.set()
            time.sleep(seconds)
            connection.rollback()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        holder.join()


async def _record_while_ticking(recorder: AuditRecorder, events: list[AuditEvent]) -> int:
    """Record ``events``; how many times the loop ran another task meanwhile."""
    ticks = 0
    done = asyncio.Event()

    async def tick() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    try:
        await asyncio.gather(*(recorder.record_async([event]) for event in events))
    finally:
        done.set()
        await ticker
    return ticks


def test_a_held_chain_delays_the_reads_but_not_the_loop(engine: Engine) -> None:
    recorder = AuditRecorder(engine, lock_wait=10)
    started = time.monotonic()
    with _chain_held(engine, seconds=0.5):
        ticks = asyncio.run(_record_while_ticking(recorder, _reads(20)))
    assert time.monotonic() - started >= 0.45  # the reads waited for the other writer
    # while the loop went on serving others: a loop blocked for the 0.5 s wait would tick
    # once or twice; free, it ticks every 10 ms (fewer on a loaded machine, never so few)
    assert ticks >= 8
    assert _count(engine) == 20
    with Session(engine) as session:
        assert audit.verify(session).ok


def test_a_chain_held_past_the_wait_refuses_the_reads_and_writes_nothing(
    engine: Engine,
) -> None:
    recorder = AuditRecorder(engine, lock_wait=0.2)
    with _chain_held(engine, seconds=1.0), pytest.raises(AuditUnavailable) as refused:
        asyncio.run(_record_while_ticking(recorder, _reads(5)))
    assert "locked by another writer" in str(refused.value)
    assert _count(engine) == 0
    # the next group, once the chain is free, is written as usual
    asyncio.run(_record_while_ticking(recorder, _reads(3)))
    assert _count(engine) == 3


def test_a_failing_store_refuses_the_reads_of_its_group(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE audit_entry")
    recorder = AuditRecorder(engine, lock_wait=10)
    with pytest.raises(AuditUnavailable) as refused:
        asyncio.run(_record_while_ticking(recorder, _reads(2)))
    assert "could not record this read" in str(refused.value)


def test_entries_of_every_shape_chain_as_every_other_writer_chains_them(engine: Engine) -> None:
    """On PostgreSQL the recorder's groups are hashed by the database (``sha256`` in SQL);
    interleaved with entries hashed in Python (a synchronous append), with text that JSON
    escapes (quotes, backslashes, control characters, non-ASCII letters) and empty values,
    the whole chain verifies, and each entry reads back as it was recorded."""
    odd = [
        AuditEvent(
            action="read", actor="qendra-sociale-prishtinë", purpose="sa-status:read",
            person_id=None, fields=['a"b', "c\\d", "ç", "ë\u00a0é"],
            target='/v1/persons/{personal_no}?q="x"\\\t\u0001', request_id=None,
        ),
        AuditEvent(
            action="read", actor="ea-portal", purpose="certificate:read", person_id=7,
            fields=[], target="/v1/persons/{personal_no}/unemployment-certificate",
            request_id="ЖЖ-1",
        ),
    ]  # fmt: skip
    recorder = AuditRecorder(engine, lock_wait=10)

    async def scenario() -> None:
        try:
            await asyncio.gather(*(recorder.record_async([event]) for event in odd))
            recorder.record(_reads(2))  # chained in Python, after the database's
            await recorder.record_async(_reads(3))
        finally:
            await recorder.aclose()

    asyncio.run(scenario())
    with Session(engine) as session:
        result = audit.verify(session)
        assert result.ok, result.reason
        assert result.checked == 7
        stored = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()  # type: ignore[arg-type]
    assert stored[0].target == odd[0].target
    assert stored[0].fields == sorted(set(odd[0].fields))
    assert stored[0].person_id is None
    assert stored[1].request_id == "ЖЖ-1"
    assert stored[1].fields == []


def test_several_processes_recording_at_once_keep_one_chain(engine: Engine) -> None:
    """Three recorders, each on its own event loop and connection as three API processes
    would be, and a synchronous writer, append at the same time: every entry is stored
    once, each writer's entries in the order it recorded them, and the chain verifies."""
    per_writer = 60
    start = threading.Barrier(4)

    def events_of(writer: str) -> list[AuditEvent]:
        return [
            AuditEvent(
                action="read", actor=writer, purpose="sa-status:read", person_id=i + 1,
                fields=["status"], target="/v1/persons/{personal_no}/social-assistance",
                request_id=f"{writer}-{i:04d}",
            )
            for i in range(per_writer)
        ]  # fmt: skip

    def api_process(writer: str) -> None:
        async def scenario() -> None:
            recorder = AuditRecorder(engine, lock_wait=30)
            try:
                start.wait()
                for batch in range(0, per_writer, 6):  # bursts of concurrent reads
                    events = events_of(writer)[batch : batch + 6]
                    await asyncio.gather(*(recorder.record_async([e]) for e in events))
            finally:
                await recorder.aclose()

        asyncio.run(scenario())

    def synchronous_writer() -> None:
        recorder = AuditRecorder(engine, lock_wait=30)
        start.wait()
        for event in events_of("cli"):
            recorder.record([event])

    writers = [threading.Thread(target=api_process, args=(f"api-{i}",)) for i in range(3)]
    writers.append(threading.Thread(target=synchronous_writer))
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
    assert not any(writer.is_alive() for writer in writers)
    with Session(engine) as session:
        result = audit.verify(session)
        assert result.ok, result.reason
        assert result.checked == 4 * per_writer
        stored = session.execute(
            select(AuditEntry.actor, AuditEntry.request_id).order_by(AuditEntry.id)  # type: ignore[arg-type]
        ).all()
    for writer in ("api-0", "api-1", "api-2", "cli"):
        ids = [request_id for actor, request_id in stored if actor == writer]
        assert ids == [f"{writer}-{i:04d}" for i in range(per_writer)]
