"""The transactional outbox: what must be delivered to which registry, and how it went."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from hub.store.types import UTCDateTime, utc_now


class MessageState(StrEnum):
    """Where an outbox message stands. Messages move between states; none is ever deleted."""

    PENDING = "pending"  # waiting for (another) delivery attempt
    DELIVERING = "delivering"  # claimed by a dispatcher until its lease ends
    DELIVERED = "delivered"  # the registry acknowledged it (applied, or had already)
    DEAD = "dead"  # failed for good; an operator retries or discards it
    DISCARDED = "discarded"  # an operator decided it must not be delivered


class OutboxMessage(SQLModel, table=True):
    """One delivery to one registry, written in the same transaction as the change behind it.

    Messages of the same ``order_key`` (the person) and target are delivered in
    ``id`` order: a later one waits while an earlier one is pending, being
    delivered, or dead.

    A claim is fenced: ``claim`` counts the claims of the message, and every
    settlement is ``WHERE id = ? AND claim = ? AND state = 'delivering'``, so a
    dispatcher whose lease lapsed and whose message was claimed again cannot
    settle it. A live dispatcher renews the lease of each message it holds.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_chain", "order_key", "target_registry", "id"),
        Index("ix_outbox_message_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    flow: str = Field(max_length=32, description="the sync flow that decided it")
    target_registry: str = Field(max_length=8)
    operation: str = Field(max_length=48, description="the contract's write operation")
    order_key: str = Field(max_length=64, description="delivery order is kept per this key")
    idempotency_key: str = Field(max_length=128, unique=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    run_id: int | None = Field(default=None, index=True, description="the sync run that queued it")
    state: str = Field(default=MessageState.PENDING, max_length=12)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    claimed_by: str | None = Field(
        default=None, max_length=64, description="the dispatcher holding (or that settled) it"
    )
    claim: int = Field(
        default=0,
        description="fencing token: every claim increments it, and a settlement names the claim "
        "it settles, so a dispatcher whose claim was taken over changes nothing",
    )
    lease_until: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="the claim lapses then unless renewed"
    )
    last_error: str | None = Field(default=None, max_length=500)
    outcome: str | None = Field(default=None, max_length=12, description="applied or duplicate")
    acknowledgement: dict[str, Any] | None = Field(
        default=None, sa_type=JSON, description="what the registry answered (e.g. a new id)"
    )
    discard_reason: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dead_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    discarded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SyncRun(SQLModel, table=True):
    """One run of one flow: what it considered, decided, queued, and how delivery went."""

    __tablename__ = "sync_run"

    id: int | None = Field(default=None, primary_key=True)
    flow: str = Field(max_length=32, index=True)
    as_of: datetime = Field(sa_type=UTCDateTime, description="the day the decisions were taken for")
    started_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    pulled: int = Field(default=0, description="canonical rows the flow considered")
    decided: int = Field(default=0, description="deliveries the flow decided")
    enqueued: int = Field(default=0, description="of those, new to the outbox")
    delivered: int = Field(default=0, description="of those, delivered by the end of the run")
    failed: int = Field(default=0, description="of those, dead by the end of the run")
    error: str | None = Field(default=None, max_length=500)
