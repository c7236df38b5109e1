"""Where each flow stands over the canonical changes it reads, and what changed since.

A *stream* is one table's rows in the order the hub stamped them: canonical rows carry
``recorded_at`` (ingestion sets it on every insert and update; migration 0009 makes the
database restamp any other update, such as the resolver linking a returnee), persons their
``updated_at``, suspension moves their ``at``, outbox messages their ``delivered_at``. A
flow keeps one *mark* per stream it reads, the last ``(stamp, id)`` it derived, and in its
next run derives only what rows after the mark touch; the runner saves the new marks in the
transaction that queues the run's deliveries (:func:`save`), only forward.

**Late commits.** A writer stamps its rows before it commits, so a row committed after a
run may carry a stamp before that run's mark (ingestion pages of one registry are written one
after another, but dispatchers settle concurrently, and the clocks of several hosts differ).
Such a row was stamped at most :data:`LATE_WINDOW` before it committed, so after the run that
took the mark at time *t*, only rows stamped after *t* - LATE_WINDOW can still appear at or
before the mark. Each mark remembers how many rows that window held (and the sum of their
ids); the next run counts it again (one index range read, no row reaches the flow) and, when
it changed, reads it again. What is read twice is derived twice and queued once: the
idempotency keys absorb it. On PostgreSQL the window also reaches back to the start of the
oldest transaction still writing (a golden-record refresh of a million persons may take longer
than the window). A mark older than its window when it is taken has none: a run with nothing
new for a while reads nothing but its marks and the latest stamp of each stream.

**Time.** A flow decides as of a day. What becomes due when that day moves (a certificate
issued on a later day, a suspension's end, a returnee turning 18) is read by small indexed
queries over the days between the last run's ``as_of`` and this one's (:meth:`Changes.due`).
The invariant: every row at or before a flow's marks, whose day is at or before its
``as_of``, has been derived.

A flow with no marks yet (or whose ``basis``, say its policy profile, changed) derives
everything, as before, and takes its marks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    case,
    false,
    func,
    insert,
    or_,
    select,
    text,
    true,
    union,
    update,
)
from sqlalchemy.orm import Mapped
from sqlmodel import Session, SQLModel, col

from hub.errors import Conflict
from hub.ingest.models import FlowWatermark
from hub.store.types import utc_now
from hub.store.upsert import table_of

LATE_WINDOW = timedelta(minutes=2)
"""How long after its stamp a row may still commit (with the clocks' disagreement)."""


class FlowMoved(Conflict):
    """Another run of the flow moved its marks since this run read them."""


@dataclass(frozen=True, eq=False)
class Stream:
    """One table's rows, in the order they were stamped (optionally only some of them)."""

    name: str
    table: Table
    stamp: str = "recorded_at"
    where: tuple[ColumnElement[bool], ...] = ()

    @classmethod
    def of(
        cls, name: str, model: type[SQLModel], stamp: str = "recorded_at", **equal: Any
    ) -> Stream:
        """The stream of ``model``'s rows (those whose columns equal ``equal``)."""
        table = table_of(model)
        return cls(name, table, stamp, tuple(table.c[k] == v for k, v in equal.items()))

    @property
    def stamped(self) -> ColumnElement[Any]:
        """The stamp column."""
        return self.table.c[self.stamp]

    @property
    def row(self) -> ColumnElement[Any]:
        """The id column."""
        return self.table.c["id"]

    def column(self, name: str) -> ColumnElement[Any]:
        """A column of the stream's table."""
        return self.table.c[name]


@dataclass(frozen=True)
class Position:
    """A mark: the last ``(stamp, id)`` derived, and its late-commit window: the rows stamped
    after ``window_from`` up to ``stamp`` (None: none can still commit), how many there were
    and the sum of their ids."""

    stamp: datetime | None
    row: int = 0
    window_from: datetime | None = None
    window_rows: int = 0
    window_ids: int = 0

    def key(self) -> tuple[datetime, int] | None:
        """What orders positions (None: before every row)."""
        return (self.stamp, self.row) if self.stamp is not None else None

    @property
    def window(self) -> tuple[int, int]:
        """Rows in the window, and the sum of their ids."""
        return self.window_rows, self.window_ids


@dataclass(frozen=True)
class FlowMark:
    """A stream's new mark, as a run took it, and the one it moves from (None: the first)."""

    flow: str
    stream: str
    position: Position
    previous: Position | None
    as_of: date
    basis: str


class Changes:
    """A flow run's view of its streams: its stored marks, what changed since, what is due.

    Marks are taken when the run starts (:meth:`take` later for a stream the run itself
    writes to first): a row committed while the run derives is derived now if it is read,
    and again next run, never lost.
    """

    def __init__(
        self,
        session: Session,
        flow: str,
        streams: Sequence[Stream],
        *,
        as_of: date,
        basis: str = "",
        defer: Iterable[str] = (),
    ) -> None:
        self.session = session
        self.flow = flow
        self.as_of = as_of
        self.basis = basis
        self.streams = {stream.name: stream for stream in streams}
        stored = {
            mark.stream: mark
            for mark in session.execute(
                select(FlowWatermark).where(col(FlowWatermark.flow) == flow)
            ).scalars()
        }
        self._stored = {name: stored.get(name) for name in self.streams}
        self.full = any(mark is None or mark.basis != basis for mark in self._stored.values())
        """No marks yet (or taken under another basis): derive everything."""
        days = [mark.as_of for mark in self._stored.values() if mark is not None and mark.as_of]
        self.since: date | None = None if self.full or not days else min(days)
        """The day the last run decided for (None on a full run)."""
        self._start: dict[str, Position | None] = {}
        self._taken: dict[str, Position] = {}
        self._horizon = _horizon(session)
        deferred = set(defer)
        for name in self.streams:
            if name not in deferred:
                self.take(name)

    # ------------------------------------------------------------------ reading

    def take(self, name: str) -> None:
        """Take the stream's new mark now (before reading what it covers).

        The previous mark's window is counted again in the same statement (the same snapshot)
        as the new mark's: a row that commits in between is either seen by both counts or
        stamped inside the new window.
        """
        if name in self._taken:
            return
        stream = self.streams[name]
        stored = self._stored[name]
        previous = _position(stored) if stored is not None else None
        window_from = self._horizon - LATE_WINDOW  # what was stamped before has committed
        latest = self.session.execute(
            select(stream.stamped, stream.row)
            .where(*stream.where, stream.stamped.is_not(None))
            .order_by(stream.stamped.desc(), stream.row.desc())
            .limit(1)
        ).first()
        ahead = Position(latest[0], latest[1]) if latest is not None else Position(None)
        if previous is not None and not _before(previous, ahead):
            ahead = Position(previous.stamp, previous.row)  # only forward
        checked = None if self.full else previous
        windows: list[tuple[datetime, datetime]] = []
        if checked is not None and checked.stamp is not None and checked.window_from is not None:
            windows.append((checked.window_from, checked.stamp))
        else:
            checked = None
        fresh = ahead.stamp is not None and window_from < ahead.stamp
        if fresh and ahead.stamp is not None:
            windows.append((window_from, ahead.stamp))
        counts = self._windows(stream, windows)
        if self.full or previous is None:
            self._start[name] = None
        elif checked is None or counts[0] == checked.window:
            self._start[name] = previous
        else:  # a late commit in the previous mark's window: read the window again
            assert checked.window_from is not None
            self._start[name] = Position(checked.window_from, -1)
        if fresh:
            rows, ids = counts[-1]
            self._taken[name] = Position(ahead.stamp, ahead.row, window_from, rows, ids)
        else:
            self._taken[name] = ahead

    def after(self, name: str) -> ColumnElement[bool]:
        """The stream's rows stamped after its mark (all of them on a full run)."""
        self.take(name)
        stream = self.streams[name]
        start = self._start[name]
        if start is None or start.stamp is None:
            return and_(true(), *stream.where)
        return and_(
            *stream.where,
            stream.stamped >= start.stamp,
            or_(stream.stamped > start.stamp, stream.row > start.row),
        )

    def changed(self, name: str, column: str) -> Select[Any]:
        """``column`` of every row of the stream stamped after its mark."""
        stream = self.streams[name]
        return select(stream.column(column)).where(self.after(name))

    def keys(
        self,
        name: str,
        column: str,
        *,
        day: str | None = None,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> list[Select[Any]]:
        """``column`` of the stream's rows (those ``where`` holds) stamped after its mark and,
        with ``day``, of those whose day fell due since the last run: one indexed query each,
        to union (an ``OR`` of the two would let a planner walk a whole index)."""
        stream = self.streams[name]
        found = [select(stream.column(column)).where(self.after(name), *where)]
        if day is not None and self.moved_on:
            due = self.due(stream.column(day))
            found.append(select(stream.column(column)).where(due, *stream.where, *where))
        return found

    def due(self, day: ColumnElement[Any] | Mapped[Any]) -> ColumnElement[bool]:
        """Rows whose ``day`` fell due since the last run: after its as_of, up to this one's."""
        if self.since is None:
            return and_(day <= self.as_of)
        if self.since >= self.as_of:
            return false()
        return and_(day > self.since, day <= self.as_of)

    @property
    def moved_on(self) -> bool:
        """Whether days passed since the last run (always, on a full run)."""
        return self.since is None or self.since < self.as_of

    def marks(self) -> list[FlowMark]:
        """Every stream's new mark, for the runner to save with the run's deliveries."""
        for name in self.streams:
            self.take(name)
        return [
            FlowMark(
                self.flow,
                name,
                self._taken[name],
                _position(stored) if stored is not None else None,
                self.as_of,
                self.basis,
            )
            for name, stored in self._stored.items()
        ]

    # ------------------------------------------------------------------ internals

    def _windows(
        self, stream: Stream, windows: Sequence[tuple[datetime, datetime]]
    ) -> list[tuple[int, int]]:
        """Rows (and the sum of their ids) stamped in each ``(after, upto]``, in one read."""
        if not windows:
            return []
        stamp, row = stream.stamped, stream.row
        inside = [and_(stamp > after, stamp <= upto) for after, upto in windows]
        columns = []
        for condition in inside:
            columns += [
                func.coalesce(func.sum(case((condition, 1), else_=0)), 0),
                func.coalesce(func.sum(case((condition, row), else_=0)), 0),
            ]
        found = self.session.execute(
            select(*columns).where(
                *stream.where,
                stamp > min(after for after, _ in windows),
                stamp <= max(upto for _, upto in windows),
            )
        ).one()
        return [(int(found[2 * i]), int(found[2 * i + 1])) for i in range(len(windows))]


def union_of(selects: Sequence[Select[Any]]) -> Select[Any]:
    """One query of the keys any of ``selects`` selects (each a single column)."""
    if len(selects) == 1:
        return selects[0]
    return select(union(*selects).subquery("changed").c[0])


def save(session: Session, marks: Sequence[FlowMark]) -> None:
    """Move the flow's marks in the caller's transaction: each from where the run read it.

    Raises :class:`FlowMoved` (the caller rolls back, queuing nothing) when another run of
    the flow moved a mark meanwhile.
    """
    table = table_of(FlowWatermark)
    now = utc_now()
    for mark in marks:
        values = {
            "stamp": mark.position.stamp,
            "row_id": mark.position.row,
            "window_from": mark.position.window_from,
            "window_rows": mark.position.window_rows,
            "window_ids": mark.position.window_ids,
            "as_of": mark.as_of,
            "basis": mark.basis,
            "updated_at": now,
        }
        if mark.previous is None:
            moved = session.execute(
                select(func.count())
                .select_from(table)
                .where(table.c.flow == mark.flow, table.c.stream == mark.stream)
            ).scalar_one()
            if moved:
                raise _moved(mark)
            session.execute(insert(table).values(flow=mark.flow, stream=mark.stream, **values))
            continue
        previous = mark.previous
        at_previous = (
            table.c.stamp.is_(None) if previous.stamp is None else table.c.stamp == previous.stamp
        )
        result = session.execute(
            update(table)
            .where(
                table.c.flow == mark.flow,
                table.c.stream == mark.stream,
                at_previous,
                table.c.row_id == previous.row,
            )
            .values(**values),
            execution_options={"synchronize_session": False},
        )
        if getattr(result, "rowcount", 0) != 1:
            raise _moved(mark)


def _moved(mark: FlowMark) -> FlowMoved:
    return FlowMoved(
        f"another run of {mark.flow} moved its mark on {mark.stream}; this run queues nothing",
        hint="one run per flow at a time (the jobs see to it): the other run decided it",
    )


def _horizon(session: Session) -> datetime:
    """Now, or the start of the oldest other transaction that has written, if earlier
    (PostgreSQL: what it stamped commits with it, however long it runs)."""
    now = utc_now()
    if session.get_bind().dialect.name != "postgresql":
        return now  # SQLite shows no other transaction: the window alone covers them
    oldest = session.execute(
        text(
            "SELECT min(xact_start) FROM pg_stat_activity"
            " WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
        )
    ).scalar()
    return min(now, oldest) if isinstance(oldest, datetime) else now


def _position(mark: FlowWatermark) -> Position:
    return Position(mark.stamp, mark.row_id, mark.window_from, mark.window_rows, mark.window_ids)


def _before(one: Position, other: Position) -> bool:
    first, second = one.key(), other.key()
    if second is None:
        return False
    return first is None or first < second
