"""The event loop's reads on PostgreSQL: libpq driven on the loop, a small pool per loop.

Statements compiled once per dialect run on :class:`~hub.store.prepared.PgConnection`; the
pool lends a connection to one caller at a time, lets the others wait in turn, and drops a
connection its caller left mid-statement or the server closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, bindparam, func, inspect, select
from sqlalchemy.engine import make_url

from hub.canonical import Person
from hub.errors import StoreUnavailable
from hub.store.engine import make_engine
from hub.store.migrate import upgrade
from hub.store.prepared import DriverReads, PreparedStatement, Row

pytestmark = pytest.mark.postgres

_SLEEP = select(func.pg_sleep(bindparam("seconds")).label("slept"))


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def test_constants_are_written_into_the_sql_and_only_parameters_are_bound(pg: Engine) -> None:
    statement = select(Person.id).where(Person.first_name == "Ana").limit(1)  # type: ignore[arg-type]
    prepared = PreparedStatement(statement.where(Person.id == bindparam("person_id")), pg.dialect)  # type: ignore[arg-type]
    assert "'Ana'" in prepared.sql
    assert "LIMIT 1" in prepared.sql
    assert prepared.numbered_sql.count(b"$") == 1
    assert prepared.text_parameters({"person_id": 7}) == [b"7"]


def test_rows_come_back_typed_and_parameters_bound_as_text(pg: Engine) -> None:
    async def scenario() -> list[dict[str, object]]:
        reads = DriverReads(pg)
        try:
            return await reads.all(
                select(
                    bindparam("number", type_=Person.id.type).label("number"),  # type: ignore[attr-defined]
                    func.current_date().label("today"),
                ),
                number=42,
            )
        finally:
            await reads.aclose()

    (row,) = asyncio.run(scenario())
    assert row["number"] == 42
    assert row["today"] is not None


def test_statements_read_together_give_what_each_gives_alone(pg: Engine) -> None:
    """Two statements in one round trip (``EXECUTE`` texts, the parameters as escaped
    literals): a quote, a NULL, dates and numbers come back as each statement alone gives
    them, and a failing statement fails the call as the driver's error would."""
    echo = select(
        bindparam("text", type_=Person.first_name.type).label("text"),  # type: ignore[attr-defined]
        bindparam("number", type_=Person.id.type).label("number"),  # type: ignore[attr-defined]
    )
    today = select(
        func.current_date().label("today"), bindparam("n", type_=Person.id.type).label("n")
    )  # type: ignore[attr-defined]
    given = {"text": "O'Brien\\'; DROP TABLE person; --", "number": None}

    async def scenario() -> tuple[list[list[dict[str, object]]], list[dict[str, object]]]:
        reads = DriverReads(pg, connections=1)
        try:
            together = await reads.together((echo, given), (today, {"n": 3}))
            alone = await reads.all(echo, **given)
            return together, alone
        finally:
            await reads.aclose()

    together, alone = asyncio.run(scenario())
    assert together[0] == alone == [{"text": given["text"], "number": None}]
    assert together[1][0]["n"] == 3
    assert together[1][0]["today"] is not None
    assert inspect(pg).has_table("person")  # the quote was a literal, not SQL

    async def failing() -> None:
        reads = DriverReads(pg, connections=1)
        try:
            await reads.together((echo, given), (_SLEEP, {"seconds": "not a number"}))
        finally:
            await reads.aclose()

    with pytest.raises(StoreUnavailable):
        asyncio.run(failing())


def test_the_loops_connections_plan_for_point_reads(pg: Engine) -> None:
    """The loop's connections tell the planner that random pages cost little (the data of
    a person's view is in memory); other connections keep the server's setting."""
    setting = select(func.current_setting("random_page_cost").label("cost"))

    async def scenario() -> Row | None:
        reads = DriverReads(pg, connections=1)
        try:
            return await reads.one(setting)
        finally:
            await reads.aclose()

    assert asyncio.run(scenario()) == {"cost": "1.1"}
    with pg.connect() as connection:
        assert connection.execute(setting).scalar_one() != "1.1"


def test_callers_beyond_the_pool_wait_in_turn_and_none_is_lost(pg: Engine) -> None:
    async def scenario() -> tuple[int, float]:
        reads = DriverReads(pg, connections=2)
        started = asyncio.get_running_loop().time()
        results = await asyncio.gather(*(reads.all(_SLEEP, seconds=0.2) for _ in range(6)))
        took = asyncio.get_running_loop().time() - started
        await reads.aclose()
        return len(results), took

    answered, took = asyncio.run(scenario())
    assert answered == 6
    assert took >= 0.55  # three turns of two


def test_a_caller_cancelled_mid_statement_costs_its_connection_not_the_next_caller(
    pg: Engine,
) -> None:
    async def scenario() -> list[dict[str, object]]:
        reads = DriverReads(pg, connections=1)
        slow = asyncio.create_task(reads.all(_SLEEP, seconds=5))
        await asyncio.sleep(0.2)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        try:
            return await asyncio.wait_for(reads.all(_SLEEP, seconds=0), timeout=5)
        finally:
            await reads.aclose()

    assert len(asyncio.run(scenario())) == 1  # answered, on a fresh connection


def test_a_connection_the_server_closed_is_replaced(pg: Engine) -> None:
    dsn = make_url(pg.url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def scenario() -> tuple[object, object]:
        reads = DriverReads(pg, connections=1)
        (first,) = await reads.all(select(func.pg_backend_pid().label("pid")))
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first["pid"],))
        await asyncio.sleep(0.2)
        try:
            (second,) = await reads.all(select(func.pg_backend_pid().label("pid")))
        except StoreUnavailable:  # the loop had not noticed yet: this read fails, the next works
            (second,) = await reads.all(select(func.pg_backend_pid().label("pid")))
        await reads.aclose()
        return first["pid"], second["pid"]

    first, second = asyncio.run(scenario())
    assert first != second


def test_an_unreachable_server_is_a_store_unavailable_error() -> None:
    engine = make_engine("postgresql://hub@127.0.0.1:1/nowhere")

    async def scenario() -> None:
        await DriverReads(engine).all(_SLEEP, seconds=0)

    with pytest.raises(StoreUnavailable, match="cannot be reached"):
        asyncio.run(scenario())
