"""Set-based insert-or-update on a natural key, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlmodel import Session, SQLModel

Processor = Callable[[Any], Any]


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str],
    update: Sequence[str] | None = None,
) -> int:
    """Insert ``rows``; where the ``conflict`` key exists, update the ``update`` columns.

    ``update=None`` updates every column given except the key; an empty
    ``update`` keeps existing rows as they are. Rows repeating a key keep the
    last one (a statement may not touch the same row twice). Every row carries
    the same columns.

    The statement is compiled once per shape and sent with the driver's
    executemany; values go through the columns' own SQLAlchemy bind processors,
    so what is stored is exactly what the ORM would store, without the ORM's
    per-row bookkeeping (the hot path of ingestion).

    Returns the rows the database reports inserted or updated (with an empty
    ``update``, the rows inserted; -1 when the driver cannot tell).
    """
    if not rows:
        return 0
    unique = list({tuple(row[c] for c in conflict): row for row in rows}.values())
    names = tuple(unique[0])
    updated = tuple(update) if update is not None else tuple(c for c in names if c not in conflict)
    connection = session.connection()
    sql, order, compiled_processors = _compiled(
        table, names, tuple(conflict), updated, connection.dialect
    )
    processors = [(name, _memoized(process)) for name, process in compiled_processors]
    if order is not None:  # positional parameters (SQLite)
        index = {name: i for i, (name, _) in enumerate(processors)}
        steps = [(name, processors[index[name]][1]) for name in order]
        positional = [
            tuple(process(row[name]) if process else row[name] for name, process in steps)
            for row in unique
        ]
        result = connection.exec_driver_sql(sql, positional)
    else:  # named parameters (psycopg)
        named = [
            {name: process(row[name]) if process else row[name] for name, process in processors}
            for row in unique
        ]
        result = connection.exec_driver_sql(sql, named)
    return int(result.rowcount)


@lru_cache(maxsize=256)
def _compiled(
    table: Table,
    names: tuple[str, ...],
    conflict: tuple[str, ...],
    updated: tuple[str, ...],
    dialect: Dialect,
) -> tuple[str, tuple[str, ...] | None, tuple[tuple[str, Processor | None], ...]]:
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values({name: bindparam(name) for name in names})
    if updated:
        statement = statement.on_conflict_do_update(
            index_elements=list(conflict), set_={c: statement.excluded[c] for c in updated}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
    compiled = statement.compile(dialect=dialect)
    order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    processors = tuple(
        (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
    )
    return compiled.string, order, processors


def _memoized(process: Processor | None) -> Processor | None:
    """The processor with a per-call memory: timestamps and codes repeat on every row."""
    if process is None:
        return None
    seen: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            result = seen[value] = process(value)
            return result
        except TypeError:  # unhashable (JSON documents)
            return process(value)

    return remembered


def table_of(model: type[SQLModel]) -> Table:
    """The SQLAlchemy table behind a SQLModel table class."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table
