"""The outbox service: enqueue in the caller's transaction, claim in order, settle, operate.

Functions take the session and never commit: the flow or command that calls
them owns the unit of work, so a canonical change and the messages it causes
are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from hub.errors import InvalidInput, NotFound
from hub.store.types import utc_now
from hub.store.upsert import table_of, upsert
from hub.sync.models import MessageState, OutboxMessage


@dataclass(frozen=True)
class Delivered:
    """One message a registry acknowledged: its outcome and what the registry answered."""

    message_id: int
    outcome: str
    details: Mapping[str, Any]


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
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for message in messages
    ]
    upsert(session, table_of(OutboxMessage), rows, conflict=("idempotency_key",), update=())


def claim(
    session: Session, *, worker: str, limit: int, lease: timedelta, now: datetime | None = None
) -> list[OutboxMessage]:
    """Claim up to ``limit`` due messages, each the oldest open one of its chain.

    Expired leases (a dispatcher that died) are released first. On PostgreSQL
    rows are locked with ``FOR UPDATE SKIP LOCKED`` so dispatchers in several
    processes never claim the same message.
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
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        .values(
            state=MessageState.DELIVERING.value,
            claimed_by=worker,
            lease_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
            updated_at=now,
        )
    )
    claimed = session.execute(
        select(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).order_by(col(OutboxMessage.id))
    )
    return list(claimed.scalars())


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
    """Messages whose dispatcher's lease ran out go back to pending (delivered again, by key)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.state) == MessageState.DELIVERING.value,
            col(OutboxMessage.lease_until) < now,
        )
        .values(state=MessageState.PENDING.value, claimed_by=None, lease_until=None, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def mark_delivered(
    session: Session, *, message_id: int, outcome: str, details: Mapping[str, Any] | None = None
) -> None:
    """The registry acknowledged the message (``details``: what it answered, e.g. a new id)."""
    now = utc_now()
    _set(
        session,
        message_id,
        state=MessageState.DELIVERED,
        outcome=outcome,
        acknowledgement=dict(details or {}),
        delivered_at=now,
        last_error=None,
        claimed_by=None,
        lease_until=None,
    )


def mark_delivered_many(session: Session, acknowledgements: Sequence[Delivered]) -> None:
    """:func:`mark_delivered` for a whole batch, in one statement executed for each message."""
    if not acknowledgements:
        return
    table = table_of(OutboxMessage)
    now = utc_now()
    session.execute(
        update(table)
        .where(table.c.id == bindparam("message_id"))
        .values(
            state=MessageState.DELIVERED.value,
            outcome=bindparam("outcome"),
            acknowledgement=bindparam("details"),
            delivered_at=now,
            updated_at=now,
            last_error=None,
            claimed_by=None,
            lease_until=None,
        ),
        [
            {"message_id": a.message_id, "outcome": a.outcome, "details": dict(a.details)}
            for a in acknowledgements
        ],
    )


def mark_retry(session: Session, *, message_id: int, error: str, at: datetime) -> None:
    """A transient failure: try again at ``at``."""
    _set(
        session,
        message_id,
        state=MessageState.PENDING,
        last_error=error[:500],
        next_attempt_at=at,
        claimed_by=None,
        lease_until=None,
    )


def mark_dead(session: Session, *, message_id: int, error: str) -> None:
    """Failed for good: park it for an operator."""
    _set(
        session,
        message_id,
        state=MessageState.DEAD,
        last_error=error[:500],
        dead_at=utc_now(),
        claimed_by=None,
        lease_until=None,
    )


def _set(session: Session, message_id: int, *, state: MessageState, **values: Any) -> None:
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(state=state.value, updated_at=utc_now(), **values)
    )


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
        raise InvalidInput(
            f"message {message_id} is {message.state}, not dead",
            field="id",
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
        raise InvalidInput(
            f"message {message_id} is {message.state}; only pending or dead ones can be discarded",
            field="id",
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
