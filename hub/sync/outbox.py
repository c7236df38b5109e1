"""The outbox service: enqueue in the caller's transaction, claim in order, settle, operate.

Functions take the session and never commit: the flow or command that calls
them owns the unit of work, so a canonical change and the messages it causes
are committed together or not at all.

Claims are fenced. Every claim of a message increments its ``claim`` counter
and hands the new value to the dispatcher with the message; the dispatcher
renews the message's lease while it delivers (:func:`renew`) and settles it
(:func:`settle`) with ``WHERE id = ? AND claim = ? AND state = 'delivering'``.
A dispatcher that stalled past its lease, while another took the message over,
therefore changes nothing: not the state, not the outcome, not the audit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    String,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from hub.errors import Conflict, InvalidInput, NotFound
from hub.store.types import UTCDateTime, utc_now
from hub.store.upsert import table_of, upsert
from hub.sync.models import MessageState, OutboxMessage


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message as a claim hands it to its dispatcher, with the claim's fencing token."""

    id: int
    flow: str
    target_registry: str
    operation: str
    payload: dict[str, Any]
    idempotency_key: str
    attempts: int
    claim: int


_CLAIMED_COLUMNS = (
    "id",
    "flow",
    "target_registry",
    "operation",
    "payload",
    "idempotency_key",
    "attempts",
    "claim",
)


@dataclass(frozen=True)
class Held:
    """A message as its dispatcher holds it: the id and the fencing token of the claim."""

    message_id: int
    claim: int


@dataclass(frozen=True)
class Delivered:
    """One message a registry acknowledged: its outcome and what the registry answered."""

    message_id: int
    claim: int
    outcome: str
    details: Mapping[str, Any]


@dataclass(frozen=True)
class Failed:
    """One delivery that failed: tried again at ``retry_at``, or dead when that is ``None``."""

    message_id: int
    claim: int
    error: str
    retry_at: datetime | None = None


@dataclass(frozen=True)
class Settled:
    """Which messages a settlement actually settled (its claim still held them)."""

    delivered: frozenset[int] = frozenset()
    retried: frozenset[int] = frozenset()
    dead: frozenset[int] = frozenset()

    @property
    def count(self) -> int:
        """Messages settled."""
        return len(self.delivered) + len(self.retried) + len(self.dead)


BLOCKING_STATES = (MessageState.PENDING, MessageState.DELIVERING, MessageState.DEAD)
"""An earlier message of the same chain in one of these holds the later ones back."""


def enqueue(
    session: Session,
    *,
    flow: str,
    target: str,
    operation: str,
    order_key: str,
    idempotency_key: str,
    payload: Mapping[str, Any],
) -> None:
    """Add a message unless one with this idempotency key exists (a decision taken twice)."""
    enqueue_many(
        session,
        [
            {
                "flow": flow,
                "target_registry": target,
                "operation": operation,
                "order_key": order_key,
                "idempotency_key": idempotency_key,
                "payload": dict(payload),
            }
        ],
    )


def enqueue_many(session: Session, messages: Sequence[Mapping[str, Any]]) -> None:
    """Set-based :func:`enqueue`: rows with flow, target_registry, operation, order_key,
    idempotency_key and payload; keys already queued are left as they are."""
    now = utc_now()
    rows = [
        {
            **message,
            "state": MessageState.PENDING.value,
            "attempts": 0,
            "claim": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for message in messages
    ]
    upsert(session, table_of(OutboxMessage), rows, conflict=("idempotency_key",), update=())


def claim(
    session: Session, *, worker: str, limit: int, lease: timedelta, now: datetime | None = None
) -> list[Claimed]:
    """Claim up to ``limit`` due messages, each the oldest open one of its chain.

    Expired leases (a dispatcher that died or stalled) are released first. On
    PostgreSQL rows are locked with ``FOR UPDATE SKIP LOCKED`` so dispatchers in
    several processes never claim the same message. Each claimed message comes
    back with its incremented ``claim``: the token its settlement must name.
    """
    now = now or utc_now()
    release_expired(session, now=now)
    blocked = _held_back_by(BLOCKING_STATES)
    statement = (
        select(col(OutboxMessage.id))
        .where(
            col(OutboxMessage.state) == MessageState.PENDING.value,
            col(OutboxMessage.next_attempt_at) <= now,
            ~blocked,
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=OutboxMessage)
    ids = list(session.execute(statement).scalars())
    if not ids:
        return []
    table = table_of(OutboxMessage)
    # a guard: a claim never takes a message that is not pending
    claimed = session.execute(
        update(OutboxMessage)
        .where(
            _among(session, col(OutboxMessage.id), ids),
            col(OutboxMessage.state) == MessageState.PENDING.value,
        )
        .values(
            state=MessageState.DELIVERING.value,
            claimed_by=worker,
            claim=col(OutboxMessage.claim) + 1,
            lease_until=now + lease,
            attempts=col(OutboxMessage.attempts) + 1,
            updated_at=now,
        )
        .returning(*(table.c[name] for name in _CLAIMED_COLUMNS)),
        execution_options={"synchronize_session": False},
    )
    return sorted((Claimed(*row) for row in claimed), key=lambda message: message.id)


def _among(session: Session, column: Any, ids: Sequence[int]) -> Any:
    """SQL condition: ``column`` is one of ``ids``.

    On PostgreSQL one array parameter (``= ANY(%s)``): a statement of constant
    text, where ``IN`` would spell out a parameter per id and make the driver
    parse a new statement for each batch size.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(Integer)))
    return column.in_(ids)


def next_due_at(session: Session) -> datetime | None:
    """When the next open message becomes due, or ``None`` if nothing can move.

    A message held back by a dead letter of its chain cannot move until an
    operator retries or discards that letter, so it does not count.
    """
    open_states = [MessageState.PENDING.value, MessageState.DELIVERING.value]
    earliest: datetime | None = session.execute(
        select(func.min(col(OutboxMessage.next_attempt_at))).where(
            col(OutboxMessage.state).in_(open_states),
            ~_held_back_by((MessageState.DEAD,)),
        )
    ).scalar_one_or_none()
    return earliest


def _held_back_by(states: Sequence[MessageState]) -> Any:
    """SQL condition: an earlier message of the same chain is in one of ``states``."""
    earlier = aliased(OutboxMessage)
    return exists().where(
        and_(
            col(earlier.order_key) == col(OutboxMessage.order_key),
            col(earlier.target_registry) == col(OutboxMessage.target_registry),
            col(earlier.id) < col(OutboxMessage.id),
            col(earlier.state).in_([s.value for s in states]),
        )
    )


def release_expired(session: Session, *, now: datetime) -> int:
    """Messages whose dispatcher's lease ran out go back to pending (delivered again, by key).

    The claim counter stays: the next claim increments it, which fences out the
    dispatcher that let the lease lapse. On PostgreSQL rows another transaction
    has locked are skipped: a dispatcher that stalled in the middle of settling
    them must not hold up everyone's claims (it settles them when it resumes,
    or its transaction ends and the next claim releases them).
    """
    expired = and_(
        col(OutboxMessage.state) == MessageState.DELIVERING.value,
        col(OutboxMessage.lease_until) < now,
    )
    if session.get_bind().dialect.name == "postgresql":
        unlocked = (
            select(col(OutboxMessage.id))
            .where(expired)
            .with_for_update(skip_locked=True, of=OutboxMessage)
            .scalar_subquery()
        )
        expired = col(OutboxMessage.id).in_(unlocked)
    result = session.execute(
        update(OutboxMessage)
        .where(expired)
        .values(
            state=MessageState.PENDING.value, claimed_by=None, lease_until=None, updated_at=now
        ),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def renew(
    session: Session, held: Sequence[Held], *, lease: timedelta, now: datetime | None = None
) -> set[int]:
    """Extend the lease of each message still held under its claim; returns their ids.

    A message missing from the answer was taken over (or settled): its
    dispatcher no longer holds it and must not send it.
    """
    if not held:
        return set()
    now = now or utc_now()
    renewed = session.execute(
        update(OutboxMessage)
        .where(
            tuple_(col(OutboxMessage.id), col(OutboxMessage.claim)).in_(
                [(h.message_id, h.claim) for h in held]
            ),
            col(OutboxMessage.state) == MessageState.DELIVERING.value,
        )
        .values(lease_until=now + lease)
        .returning(col(OutboxMessage.id)),
        execution_options={"synchronize_session": False},
    )
    return set(renewed.scalars())


def settle(
    session: Session,
    *,
    worker: str,
    delivered: Sequence[Delivered] = (),
    failed: Sequence[Failed] = (),
) -> Settled:
    """Settle claimed messages, each only if its claim (``worker``'s) still holds it.

    Every update is ``WHERE id = ? AND claim = ? AND state = 'delivering'``: a
    message released after its lease lapsed, or claimed again by another
    dispatcher, is left as it is. A registry's ``duplicate`` never replaces an
    ``applied`` outcome. Returns what was settled, so that the caller audits
    only deliveries it settled (each delivery is audited once).
    """
    now = utc_now()
    table = table_of(OutboxMessage)
    settled_by = {"claimed_by": worker, "lease_until": None, "updated_at": now}
    retries = [f for f in failed if f.retry_at is not None]
    dead = [f for f in failed if f.retry_at is None]
    fenced = _FencedUpdate(session, table)
    won_delivered = fenced(
        delivered,
        {
            "b_outcome": ([d.outcome for d in delivered], String()),
            "b_details": ([dict(d.details) for d in delivered], JSON()),
        },
        lambda v: {
            "state": MessageState.DELIVERED.value,
            "outcome": case((table.c.outcome == "applied", table.c.outcome), else_=v["b_outcome"]),
            "acknowledgement": fenced.json(v["b_details"]),
            "delivered_at": now,
            "last_error": None,
            **settled_by,
        },
    )
    won_retried = fenced(
        retries,
        {
            "b_error": ([f.error[:500] for f in retries], Text()),
            "b_at": ([f.retry_at for f in retries], UTCDateTime()),
        },
        lambda v: {
            "state": MessageState.PENDING.value,
            "last_error": v["b_error"],
            "next_attempt_at": v["b_at"],
            **settled_by,
        },
    )
    won_dead = fenced(
        dead,
        {"b_error": ([f.error[:500] for f in dead], Text())},
        lambda v: {
            "state": MessageState.DEAD.value,
            "last_error": v["b_error"],
            "dead_at": now,
            **settled_by,
        },
    )
    return Settled(
        delivered=frozenset(won_delivered),
        retried=frozenset(won_retried),
        dead=frozenset(won_dead),
    )


def _array(data: Sequence[Any], kind: Any) -> Any:
    """A PostgreSQL array parameter; JSON documents travel as text (cast back by ``json``)."""
    if isinstance(kind, JSON):
        return literal([json.dumps(item, default=str) for item in data], ARRAY(Text))
    return literal(list(data), ARRAY(kind))


class _FencedUpdate:
    """One fenced UPDATE for many messages: ``WHERE id = ? AND claim = ? AND state = 'delivering'``.

    On PostgreSQL a single statement joins the rows to unnested arrays of
    values and returns the ids it updated. Elsewhere (SQLite, in process) the
    statement is executed for each message and its row count tells.
    """

    def __init__(self, session: Session, table: Any) -> None:
        self.session = session
        self.table = table
        self.arrays = session.get_bind().dialect.name == "postgresql"

    def json(self, value: Any) -> Any:
        """A JSON document given as text, as the column's value."""
        return cast(value, JSON) if self.arrays else value

    def __call__(
        self,
        items: Sequence[Delivered | Failed],
        columns: Mapping[str, tuple[Sequence[Any], Any]],
        values: Any,
    ) -> set[int]:
        if not items:
            return set()
        table = self.table
        if self.arrays:
            arrays = [
                literal([item.message_id for item in items], ARRAY(Integer)),
                literal([item.claim for item in items], ARRAY(Integer)),
                *(_array(data, kind) for data, kind in columns.values()),
            ]
            given = (
                func.unnest(*arrays)
                .table_valued("b_id", "b_claim", *columns)
                .render_derived(name="given")
            )
            updated = self.session.execute(
                update(table)
                .where(
                    table.c.id == given.c.b_id,
                    table.c.claim == given.c.b_claim,
                    table.c.state == MessageState.DELIVERING.value,
                )
                .values(values(given.c))
                .returning(table.c.id),
                execution_options={"synchronize_session": False},
            )
            return set(updated.scalars())
        params: dict[str, Any] = {name: bindparam(name) for name in columns}
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("b_id"),
                table.c.claim == bindparam("b_claim"),
                table.c.state == MessageState.DELIVERING.value,
            )
            .values(values(params))
        )
        connection = self.session.connection()  # one statement a message: its row count
        won: set[int] = set()
        for i, item in enumerate(items):
            row = {name: data[i] for name, (data, _) in columns.items()}
            result = connection.execute(
                statement, {"b_id": item.message_id, "b_claim": item.claim, **row}
            )
            if result.rowcount == 1:
                won.add(item.message_id)
        return won


def mark_delivered(
    session: Session,
    *,
    message_id: int,
    outcome: str,
    details: Mapping[str, Any] | None = None,
    claim: int | None = None,
    worker: str = "operator",
) -> bool:
    """The registry acknowledged the message (``details``: what it answered, e.g. a new id).

    With ``claim``, settles that claim (see :func:`settle`); without, only a
    message no dispatcher holds (pending) is settled. Returns whether it was.
    """
    if claim is not None:
        done = settle(
            session,
            worker=worker,
            delivered=[Delivered(message_id, claim, outcome, dict(details or {}))],
        )
        return bool(done.count)
    now = utc_now()
    return _set_unclaimed(
        session,
        message_id,
        state=MessageState.DELIVERED,
        outcome=outcome,
        acknowledgement=dict(details or {}),
        delivered_at=now,
        last_error=None,
    )


def mark_retry(
    session: Session,
    *,
    message_id: int,
    error: str,
    at: datetime,
    claim: int | None = None,
    worker: str = "operator",
) -> bool:
    """A transient failure: try again at ``at`` (``claim`` as in :func:`mark_delivered`)."""
    if claim is not None:
        failed = Failed(message_id, claim, error, retry_at=at)
        return bool(settle(session, worker=worker, failed=[failed]).count)
    return _set_unclaimed(
        session, message_id, state=MessageState.PENDING, last_error=error[:500], next_attempt_at=at
    )


def mark_dead(
    session: Session,
    *,
    message_id: int,
    error: str,
    claim: int | None = None,
    worker: str = "operator",
) -> bool:
    """Failed for good: park it for an operator (``claim`` as in :func:`mark_delivered`)."""
    if claim is not None:
        failed = Failed(message_id, claim, error, retry_at=None)
        return bool(settle(session, worker=worker, failed=[failed]).count)
    return _set_unclaimed(
        session, message_id, state=MessageState.DEAD, last_error=error[:500], dead_at=utc_now()
    )


def _set_unclaimed(
    session: Session, message_id: int, *, state: MessageState, **values: Any
) -> bool:
    """Settle a message no dispatcher holds (an operator's or a test's direct action)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.state) == MessageState.PENDING.value,
        )
        .values(state=state.value, updated_at=utc_now(), **values),
        execution_options={"synchronize_session": False},
    )
    return bool(getattr(result, "rowcount", 0))


def list_messages(
    session: Session, *, state: MessageState | None = None, limit: int = 50
) -> list[OutboxMessage]:
    """Messages, newest first, optionally in one state."""
    statement = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
    if state is not None:
        statement = statement.where(col(OutboxMessage.state) == state.value)
    return list(session.execute(statement).scalars())


def retry(session: Session, *, message_id: int) -> OutboxMessage:
    """Send a dead message again now, with a fresh budget of attempts."""
    message = _get(session, message_id)
    if message.state != MessageState.DEAD:
        raise Conflict(
            f"message {message_id} is {message.state}, not dead",
            hint="only dead messages are retried; pending ones are already on their way",
        )
    message.state = MessageState.PENDING.value
    message.attempts = 0
    message.next_attempt_at = message.updated_at = utc_now()
    session.add(message)
    return message


def retry_all_dead(session: Session) -> int:
    """Send every dead message again; returns how many."""
    now = utc_now()
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.state) == MessageState.DEAD.value)
        .values(state=MessageState.PENDING.value, attempts=0, next_attempt_at=now, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def discard(session: Session, *, message_id: int, reason: str) -> OutboxMessage:
    """Decide a pending or dead message must never be delivered (kept, with the reason)."""
    if not reason.strip():
        raise InvalidInput(
            "a discard needs a reason", field="reason", hint="say why, for the audit"
        )
    message = _get(session, message_id)
    if message.state not in (MessageState.PENDING, MessageState.DEAD):
        raise Conflict(
            f"message {message_id} is {message.state}; only pending or dead ones can be discarded"
        )
    message.state = MessageState.DISCARDED.value
    message.discard_reason = reason.strip()[:300]
    message.discarded_at = message.updated_at = utc_now()
    session.add(message)
    return message


def counts(session: Session) -> dict[str, int]:
    """Messages per state."""
    rows = session.execute(
        select(col(OutboxMessage.state), func.count()).group_by(col(OutboxMessage.state))
    )
    return {state: int(n) for state, n in rows}


def _get(session: Session, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"no outbox message {message_id}", hint="see `hub outbox list`")
    return message
