"""The API's hottest reads, compiled once per dialect and run on the driver's own cursor.

A consumer read is a handful of indexed look-ups of a few microseconds each in the
database; through an ORM session each costs ten times that in Python (session and
connection set-up, compiled-cache keys, result objects), and that Python time is what
limits an API process. So the per-request path keeps SQLAlchemy for what it does well,
writing a statement once, portably, and compiling it for the dialect in use, then runs
the compiled SQL on the DBAPI cursor with SQLAlchemy's own bind and result processors,
so that values come back as a session would give them.

Code on the event loop reads through :class:`Reads`, one ``await`` a statement:

* SQLite (:class:`LoopReads`): the statement runs synchronously on the loop's one
  connection (:class:`LoopConnection`), a few microseconds against a local file; the
  ``await`` never suspends. A hand-off to a thread would cost more than the read.
* PostgreSQL (:class:`DriverReads`): the statement runs on libpq's asynchronous
  interface (:class:`PgConnection`, a few per process in a :class:`PgPool`), so the loop
  serves other requests while the round trip is under way; the same compiled SQL and
  processors, each statement prepared on the server once per connection, its constants
  written into the SQL so that the plan the server keeps for it is a good one.

:class:`LoopConnection` holds the one connection that synchronous code on an event loop
reads through: the loop runs one synchronous section at a time, so one connection serves
it without a pool checkout per request. A section ends its transaction before it returns,
so nothing is held across an ``await``. A driver error is translated here, once, into
:class:`~hub.errors.StoreUnavailable`, and the connection is replaced on the next use.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import BindParameter, Connection, Engine, Insert, Select, literal_column
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.sql import visitors

from hub.errors import StoreUnavailable

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg.pq.abc import PGresult

Row = dict[str, Any]
_Processor = Callable[[Any], Any]


class _Described(Protocol):
    """A cursor, synchronous or not, once it has run a statement."""

    @property
    def description(self) -> Sequence[Sequence[Any]] | None: ...


class PreparedStatement:
    """One SELECT (or INSERT of ``column_keys``) compiled for one dialect, with how to bind
    and read its values."""

    def __init__(
        self,
        statement: Select[Any] | Insert,
        dialect: Dialect,
        *,
        column_keys: Sequence[str] | None = None,
    ) -> None:
        compiled = _with_constants_inline(statement, dialect).compile(
            dialect=dialect,
            column_keys=list(column_keys) if column_keys is not None else None,
            compile_kwargs={"render_postcompile": True},
        )
        self.sql: str = compiled.string
        self._dialect = dialect
        self._positional = tuple(compiled.positiontup) if compiled.positiontup else None
        binds = compiled.binds
        self._defaults = {
            name: param.effective_value for name, param in binds.items() if not param.required
        }
        self._bind = {
            name: process
            for name, param in binds.items()
            if (process := param.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        self._columns = statement.selected_columns if isinstance(statement, Select) else ()
        self.names = tuple(str(column.key) for column in self._columns)
        self._results: tuple[_Processor | None, ...] | None = None

    def parameters(self, given: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters: ``given`` over the statement's literals, processed."""
        values = {**self._defaults, **given}
        for name, process in self._bind.items():
            values[name] = process(values[name])
        if self._positional is None:
            return values
        return tuple(values[name] for name in self._positional)

    @functools.cached_property
    def _numbered(self) -> tuple[bytes, tuple[str, ...]]:
        """The SQL with libpq's ``$n`` placeholders (from ``pyformat``), and the name of each."""
        order: dict[str, int] = {}

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return "%"
            return f"${order.setdefault(name, len(order) + 1)}"

        if self._positional is not None:
            raise ValueError("only statements compiled for a pyformat driver are numbered")
        sql = _PYFORMAT.sub(number, self.sql)
        return sql.encode(), tuple(order)

    @property
    def numbered_sql(self) -> bytes:
        """The SQL as libpq prepares it, with ``$n`` placeholders."""
        return self._numbered[0]

    def text_parameters(self, given: Mapping[str, Any]) -> list[bytes | None]:
        """The parameters of :attr:`numbered_sql`, in PostgreSQL's text format."""
        values = self.parameters(given)
        assert isinstance(values, dict)
        return [_text(values[name]) for name in self._numbered[1]]

    def row(self, raw: Sequence[Any], cursor: _Described) -> Row:
        """A result row as a mapping of column names to processed values."""
        results = self._results or self._result_processors(cursor)
        return {
            name: (value if process is None or value is None else process(value))
            for name, process, value in zip(self.names, results, raw, strict=True)
        }

    def _result_processors(self, cursor: _Described) -> tuple[_Processor | None, ...]:
        """SQLAlchemy's processors, given the driver's type codes (known after a first run)."""
        codes = [entry[1] for entry in cursor.description or ()]
        self._results = tuple(
            column.type.dialect_impl(self._dialect).result_processor(self._dialect, code)
            for column, code in zip(self._columns, codes, strict=True)
        )
        return self._results


_PYFORMAT = re.compile(r"%\(([^)]+)\)s|%%")


def _text(value: Any) -> bytes | None:
    """A bound value in PostgreSQL's text format (the SQL casts each parameter)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int | float | Decimal):
        return str(value).encode()
    if isinstance(value, date | datetime):
        return value.isoformat().encode()
    raise TypeError(f"no text form for a parameter of type {type(value).__name__}")


def _with_constants_inline(statement: Select[Any] | Insert, dialect: Dialect) -> Any:
    """``statement`` with its constants (``status = 'active'``, ``LIMIT 1``) written into the
    SQL rather than bound: only the caller's parameters stay parameters, so that the plan
    PostgreSQL keeps for a prepared statement is planned knowing them."""

    def inline(element: Any) -> Any:
        if not isinstance(element, BindParameter) or element.required or element.expanding:
            return None
        if element.callable is not None or element.value is None:
            return None
        render = element.type.dialect_impl(dialect).literal_processor(dialect)
        return literal_column(render(element.value), type_=element.type) if render else None

    traverse: Any = visitors.replacement_traverse  # typed for column elements only
    return traverse(statement, {}, inline)


class Reader:
    """Runs prepared statements on one driver cursor, inside one section."""

    def __init__(
        self, cursor: DBAPICursor, prepared: Callable[[Select[Any]], PreparedStatement]
    ) -> None:
        self._cursor = cursor
        self._prepared = prepared

    def one(self, statement: Select[Any], **parameters: Any) -> Row | None:
        """The first row, or None."""
        prepared = self._run(statement, parameters)
        raw = self._cursor.fetchone()
        return prepared.row(raw, self._cursor) if raw is not None else None

    def scalar(self, statement: Select[Any], **parameters: Any) -> Any:
        """The first column of the first row (processed), or None."""
        row = self.one(statement, **parameters)
        return next(iter(row.values())) if row is not None else None

    def all(self, statement: Select[Any], **parameters: Any) -> list[Row]:
        """Every row."""
        prepared = self._run(statement, parameters)
        return [prepared.row(raw, self._cursor) for raw in self._cursor.fetchall()]

    def _run(self, statement: Select[Any], parameters: Mapping[str, Any]) -> PreparedStatement:
        prepared = self._prepared(statement)
        self._cursor.execute(prepared.sql, prepared.parameters(parameters))
        return prepared


class LoopConnection:
    """The driver connection that code on one event loop reads through, a section at a time.

    It reads in autocommit: each statement sees what is committed when it runs, with no
    BEGIN or ROLLBACK round trip around a section (on PostgreSQL two of a consumer read's
    seven). SQLite's driver reads that way in any case. Not for threads: sections must
    not interleave, which the loop guarantees as long as a section never awaits.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._prepared: dict[Select[Any], PreparedStatement] = {}

    @contextmanager
    def reading(self) -> Iterator[Reader]:
        """A section of reads on the loop's connection."""
        connection = self._connect()
        try:
            cursor = connection.connection.cursor()
            yield Reader(cursor, self._statement)
            cursor.close()
        except self._engine.dialect.loaded_dbapi.Error as error:
            self._discard(connection)
            raise StoreUnavailable(
                "the hub's database did not answer this read",
                hint="retry shortly; if it persists, check the database (see /readyz)",
            ) from error

    def rows(self, statement: Select[Any], parameters: Mapping[str, Any]) -> list[Row]:
        """Every row of one statement: a section of one read, without the section's
        objects (the path of every API request on SQLite)."""
        connection = self._connect()
        prepared = self._statement(statement)
        try:
            cursor = connection.connection.cursor()
            cursor.execute(prepared.sql, prepared.parameters(parameters))
            rows = [prepared.row(raw, cursor) for raw in cursor.fetchall()]
            cursor.close()
        except self._engine.dialect.loaded_dbapi.Error as error:
            self._discard(connection)
            raise StoreUnavailable(
                "the hub's database did not answer this read",
                hint="retry shortly; if it persists, check the database (see /readyz)",
            ) from error
        return rows

    def close(self) -> None:
        """Give the connection back to the engine's pool (its isolation level reset)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> Connection:
        if self._connection is None:
            try:
                connection = self._engine.connect()
            except Exception as error:  # the engine's wrapping of the driver's error
                raise StoreUnavailable(
                    "the hub's database cannot be reached",
                    hint="check HUB_DATABASE_URL and that the database is running (see /readyz)",
                ) from error
            self._connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        return self._connection

    def _discard(self, connection: Connection) -> None:
        connection.invalidate()
        connection.close()
        if self._connection is connection:
            self._connection = None

    def _statement(self, statement: Select[Any]) -> PreparedStatement:
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = PreparedStatement(statement, self._engine.dialect)
            self._prepared[statement] = prepared
        return prepared


class Reads(Protocol):
    """Prepared statements as code on an event loop awaits them, one statement a call."""

    async def one(self, statement: Select[Any], **parameters: Any) -> Row | None:
        """The first row, or None."""
        ...

    async def all(self, statement: Select[Any], **parameters: Any) -> list[Row]:
        """Every row."""
        ...

    async def together(self, *reads: tuple[Select[Any], Mapping[str, Any]]) -> list[list[Row]]:
        """Every row of each statement (given with its parameters), in one round trip."""
        ...

    async def aclose(self) -> None:
        """Close what the reads hold (at the app's shutdown)."""
        ...


class LoopReads:
    """:class:`Reads` on the loop's own synchronous connection (SQLite): each call is one
    synchronous section, a few microseconds, and never suspends."""

    def __init__(self, connection: LoopConnection) -> None:
        self._connection = connection

    async def one(self, statement: Select[Any], **parameters: Any) -> Row | None:
        """The first row, or None."""
        rows = self._connection.rows(statement, parameters)
        return rows[0] if rows else None

    async def all(self, statement: Select[Any], **parameters: Any) -> list[Row]:
        """Every row."""
        return self._connection.rows(statement, parameters)

    async def together(self, *reads: tuple[Select[Any], Mapping[str, Any]]) -> list[list[Row]]:
        """Every row of each statement, one after the other (no round trip to save)."""
        return [self._connection.rows(statement, parameters) for statement, parameters in reads]

    async def aclose(self) -> None:
        """Give the loop's connection back."""
        self._connection.close()


POINT_READ_OPTIONS = "-c random_page_cost=1.1"
"""The planner's settings on the loop's connections, whose statements are look-ups of one
person's rows by an index, over data the server holds in memory: there a random page
costs about what a sequential one does. With the default (4, a spinning disk's ratio) the
planner scans small tables whole and hashes them, which for a view over a few hundred
cases took a third longer than its index look-ups (pgbench, one view: 0.35 ms against
0.22). Bulk work (ingestion, flows) keeps the server's settings."""


class PgConnection:
    """One PostgreSQL connection driven through libpq directly on the event loop.

    psycopg's ``AsyncConnection`` spends about 80 microseconds of Python on a statement (its
    generators, an ``asyncio`` timer and lock per wait, a reader added to and removed from
    the loop per wait); the API process runs two or three statements a request, which made
    the driver cost more than the framework. Here a statement is prepared once per
    connection, then each run is one ``PQsendQueryPrepared`` and a wait on the socket, which
    stays registered with the loop while the connection lives, and the values are loaded by
    psycopg's own (C) loaders: about 30 microseconds. psycopg still opens the connection
    (authentication, TLS, options) and its loaders use the adapters SQLAlchemy's dialect
    configured, so rows come back as from a cursor. One caller at a time (:class:`PgPool`).
    """

    def __init__(self, owner: AsyncConnection[Any]) -> None:
        from psycopg import pq
        from psycopg.adapt import Transformer

        self._owner = owner  # holds the socket; closing it closes the connection
        self._pg = owner.pgconn
        self._fd = self._pg.socket
        self._load = Transformer(owner)
        self._names: dict[PreparedStatement, bytes] = {}
        self._named: set[bytes] = set()
        self._ok, self._idle = pq.ConnStatus.OK, pq.TransactionStatus.IDLE
        self._done = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiter: asyncio.Future[None] | None = None

    @classmethod
    async def connect(cls, engine: Engine) -> PgConnection:
        """A new autocommit connection to ``engine``'s database, or :class:`StoreUnavailable`."""
        import psycopg

        args, params = engine.dialect.create_connect_args(engine.url)
        params.setdefault("connect_timeout", 5)
        params["options"] = f"{params.get('options', '')} {POINT_READ_OPTIONS}".strip()
        try:
            owner = await psycopg.AsyncConnection.connect(*args, **params, autocommit=True)
        except psycopg.Error as error:
            raise StoreUnavailable(
                "the hub's database cannot be reached",
                hint="check HUB_DATABASE_URL and that the database is running (see /readyz)",
            ) from error
        return cls(owner)

    @property
    def idle(self) -> bool:
        """Whether the connection can serve another statement: open, no transaction, no
        statement of a cancelled caller in flight."""
        pg = self._pg
        return pg.status == self._ok and pg.transaction_status == self._idle

    async def rows(self, prepared: PreparedStatement, parameters: Mapping[str, Any]) -> list[Row]:
        """Run a prepared SELECT; its rows as SQLAlchemy would process them."""
        name = await self._name(prepared)
        self._pg.send_query_prepared(name, prepared.text_parameters(parameters), None, 0)
        return self._load_rows(prepared, (await self._results())[-1])

    async def rows_together(
        self, reads: Sequence[tuple[PreparedStatement, Mapping[str, Any]]]
    ) -> list[list[Row]]:
        """Run several prepared SELECTs in one round trip (one text of ``EXECUTE``
        statements, their parameters as literals escaped by libpq); the rows of each."""
        names = [await self._name(prepared) for prepared, _parameters in reads]
        executes = []
        for name, (prepared, parameters) in zip(names, reads, strict=True):
            values = b", ".join(
                b"NULL" if value is None else self._escape(value)
                for value in prepared.text_parameters(parameters)
            )
            executes.append(b"EXECUTE " + name + (b"(" + values + b")" if values else b""))
        results = await self.simple(b"; ".join(executes))
        return [
            self._load_rows(prepared, result)
            for (prepared, _parameters), result in zip(reads, results, strict=True)
        ]

    async def _name(self, prepared: PreparedStatement) -> bytes:
        """The name ``prepared`` runs by on this connection, prepared on first use."""
        name = self._names.get(prepared)
        if name is None:
            name = f"ura_{len(self._names)}".encode()
            await self.prepare(name, prepared.numbered_sql)
            self._names[prepared] = name
        return name

    def _load_rows(self, prepared: PreparedStatement, result: PGresult) -> list[Row]:
        self._load.set_pgresult(result)
        raws = self._load.load_rows(0, result.ntuples, tuple)
        described = _ResultDescription(result)
        return [prepared.row(raw, described) for raw in raws]

    async def simple(self, sql: bytes) -> list[PGresult]:
        """Run ``sql`` (one or more statements, no parameters) in one round trip; the result
        of each statement."""
        self._pg.send_query(sql)
        return await self._results()

    async def prepare(self, name: bytes, sql: bytes) -> None:
        """Prepare ``sql`` as ``name`` on this connection, once: a text sent to
        :meth:`simple` runs it by ``EXECUTE name(...)``, planned once per connection."""
        if name not in self._named:
            self._pg.send_prepare(name, sql, None)
            await self._results()
            self._named.add(name)

    def literal(self, value: str) -> bytes:
        """``value`` as an SQL string literal, escaped by libpq for this connection."""
        return self._escape(value.encode())

    def _escape(self, value: bytes) -> bytes:
        from psycopg import pq

        return bytes(pq.Escaping(self._pg).escape_literal(value))

    async def aclose(self) -> None:
        """Close the connection."""
        self._unwatch()
        await self._owner.close()

    async def _results(self) -> list[PGresult]:
        """Send what is buffered, then every result of the statement(s) sent; a failed one
        raises the driver's error (the rest of a multi-statement text is skipped then)."""
        from psycopg import errors

        pg = self._pg
        if pg.flush():
            await self._flushed()
        results = []
        while True:
            while pg.is_busy():
                await self._readable()
                pg.consume_input()
            result = pg.get_result()
            if result is None:
                break
            results.append(result)
        for result in results:
            if result.status not in self._done:
                raise errors.error_from_result(result, encoding="utf-8")
        return results

    async def _readable(self) -> None:
        """Until the socket has something to read."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._unwatch()
            loop.add_reader(self._fd, self._on_readable)
            self._loop = loop
        self._waiter = waiter = loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _on_readable(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
            return
        try:  # nobody waits (a notice, the server going away): read it, or the loop spins
            self._pg.consume_input()
        except Exception:
            self._unwatch()  # broken: the pool drops the connection at its next use

    def _unwatch(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._fd)
        self._loop = None

    async def _flushed(self) -> None:
        """Until libpq has sent what it buffered (a statement bigger than the socket's
        buffer)."""
        loop = asyncio.get_running_loop()
        while self._pg.flush():
            writable = loop.create_future()
            loop.add_writer(self._fd, _wake, writable)
            try:
                await writable
            finally:
                loop.remove_writer(self._fd)


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


class _ResultDescription:
    """What :meth:`PreparedStatement.row` needs of a result: its columns' type codes."""

    def __init__(self, result: PGresult) -> None:
        self._result = result

    @property
    def description(self) -> list[tuple[None, int]]:
        result = self._result
        return [(None, result.ftype(column)) for column in range(result.nfields)]


class PgPool:
    """Up to ``size`` :class:`PgConnection`\\ s of an engine's database, for the event loop
    that uses them (another loop's connections are dropped, not shared). A connection that
    comes back in a transaction or broken (its caller failed or was cancelled
    mid-statement) is closed instead of kept; callers beyond ``size`` wait in turn."""

    def __init__(self, engine: Engine, *, size: int) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("PgPool serves PostgreSQL only")
        self._engine = engine
        self._size = size
        self._idle: list[PgConnection] = []
        self._open = 0
        self._queue: deque[asyncio.Future[PgConnection | None]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.statements = _StatementCache(engine.dialect)

    async def acquire(self) -> PgConnection:
        """A connection for the caller alone, until :meth:`release`."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # the first use, or a new loop (tests): start afresh
            self._idle, self._open, self._queue, self._loop = [], 0, deque(), loop
        while self._idle:
            connection = self._idle.pop()
            if connection.idle:
                return connection
            self._open -= 1  # the server closed it meanwhile
            await _close(connection)
        if self._open >= self._size:
            turn: asyncio.Future[PgConnection | None] = loop.create_future()
            self._queue.append(turn)
            try:
                handed = await turn  # a released connection, or None: a slot to open one in
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():  # handed over, then cancelled
                    given = turn.result()
                    if not self._hand_over(given) and given is not None:
                        self._idle.append(given)
                raise
            if handed is not None:
                return handed
        self._open += 1
        try:
            return await PgConnection.connect(self._engine)
        except BaseException:
            self._open -= 1
            self._hand_over(None)
            raise

    async def release(self, connection: PgConnection) -> None:
        """Give ``connection`` back: to the next waiting caller, or kept idle; closed if it
        cannot serve another statement, or belongs to another loop."""
        if connection.idle and self._loop is asyncio.get_running_loop():
            if not self._hand_over(connection):
                self._idle.append(connection)
            return
        self._open -= 1
        self._hand_over(None)
        await _close(connection)

    def _hand_over(self, connection: PgConnection | None) -> bool:
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():  # its caller may have been cancelled meanwhile
                turn.set_result(connection)
                return True
        return False

    async def aclose(self) -> None:
        """Close the idle connections (those in use close when given back)."""
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        for connection in idle:
            await _close(connection)


class DriverReads:
    """:class:`Reads` on PostgreSQL, asynchronous (:class:`PgConnection`): the loop serves
    other requests while a statement's round trip is under way."""

    def __init__(self, engine: Engine, *, connections: int = 4) -> None:
        self._pool = PgPool(engine, size=connections)

    async def one(self, statement: Select[Any], **parameters: Any) -> Row | None:
        """The first row, or None."""
        rows = await self.all(statement, **parameters)
        return rows[0] if rows else None

    async def all(self, statement: Select[Any], **parameters: Any) -> list[Row]:
        """Every row."""
        prepared = self._pool.statements.get(statement)
        async with self._lent() as connection:
            return await connection.rows(prepared, parameters)

    async def together(self, *reads: tuple[Select[Any], Mapping[str, Any]]) -> list[list[Row]]:
        """Every row of each statement, in one round trip on one connection."""
        prepared = [(self._pool.statements.get(statement), given) for statement, given in reads]
        async with self._lent() as connection:
            return await connection.rows_together(prepared)

    async def aclose(self) -> None:
        """Close the pool's idle connections."""
        await self._pool.aclose()

    @asynccontextmanager
    async def _lent(self) -> AsyncIterator[PgConnection]:
        """A connection of the pool for the block; the driver's errors as
        :class:`StoreUnavailable`."""
        import psycopg

        try:
            connection = await self._pool.acquire()
            try:
                yield connection
            finally:
                await self._pool.release(connection)
        except psycopg.Error as error:
            raise StoreUnavailable(
                "the hub's database did not answer this read",
                hint="retry shortly; if it persists, check the database (see /readyz)",
            ) from error


def loop_reads(engine: Engine, connection: LoopConnection) -> Reads:
    """The event loop's :class:`Reads` for ``engine``'s database: asynchronous on
    PostgreSQL, on the loop's own connection on SQLite."""
    if engine.dialect.name == "postgresql":
        return DriverReads(engine)
    return LoopReads(connection)


class _StatementCache:
    """Statements compiled for one dialect, each once."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._prepared: dict[Select[Any], PreparedStatement] = {}

    def get(self, statement: Select[Any]) -> PreparedStatement:
        prepared = self._prepared.get(statement)
        if prepared is None:
            prepared = PreparedStatement(statement, self._dialect)
            self._prepared[statement] = prepared
        return prepared


async def _close(connection: PgConnection) -> None:
    try:
        await connection.aclose()
    except Exception:  # closing a broken connection: nothing left to do
        return
