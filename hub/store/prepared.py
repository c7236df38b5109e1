"""The API's hottest reads, compiled once per dialect and run on the driver's own cursor.

A consumer read is a handful of indexed look-ups of a few microseconds each in the
database; through an ORM session each costs ten times that in Python (session and
connection set-up, compiled-cache keys, result objects), and that Python time is what
limits an API process. So the per-request path keeps SQLAlchemy for what it does well,
writing a statement once, portably, and compiling it for the dialect in use, then runs
the compiled SQL on the DBAPI cursor with SQLAlchemy's own bind and result processors,
so that values come back as a session would give them.

:class:`LoopConnection` holds the one connection that code on an event loop reads
through: the loop runs one synchronous section at a time, so one connection serves it
without a pool checkout per request. A section ends its transaction before it returns,
so nothing is held across an ``await``. A driver error is translated here, once, into
:class:`~hub.errors.StoreUnavailable`, and the connection is replaced on the next use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPICursor

from hub.errors import StoreUnavailable

Row = dict[str, Any]
_Processor = Callable[[Any], Any]


class PreparedStatement:
    """One SELECT compiled for one dialect, with how to bind and read its values."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
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
        self._columns = statement.selected_columns
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

    def row(self, raw: Sequence[Any], cursor: DBAPICursor) -> Row:
        """A result row as a mapping of column names to processed values."""
        results = self._results or self._result_processors(cursor)
        return {
            name: (value if process is None or value is None else process(value))
            for name, process, value in zip(self.names, results, raw, strict=True)
        }

    def _result_processors(self, cursor: DBAPICursor) -> tuple[_Processor | None, ...]:
        """SQLAlchemy's processors, given the driver's type codes (known after a first run)."""
        codes = [entry[1] for entry in cursor.description or ()]
        self._results = tuple(
            column.type.dialect_impl(self._dialect).result_processor(self._dialect, code)
            for column, code in zip(self._columns, codes, strict=True)
        )
        return self._results


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
