"""API clients: a name, scopes (purposes), and only the digest of their key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from hub.store.types import UTCDateTime, utc_now


class ApiClient(SQLModel, table=True):
    """A registered caller of the HTTP API."""

    __tablename__ = "api_client"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    key_prefix: str = Field(max_length=12, index=True, description="shown to operators, not secret")
    key_digest: str | None = Field(
        default=None,
        max_length=64,
        unique=True,
        index=True,
        description="SHA-256 of the key, how a request finds its client; the key is never stored",
    )
    key_hash: str | None = Field(
        default=None,
        max_length=128,
        description="PBKDF2 hash of a key issued before migration 0008, until its first use",
    )
    scopes: list[str] = Field(default_factory=list, sa_type=JSON)
    offices: list[str] = Field(
        default_factory=list, sa_type=JSON, description="CSW office codes a decider acts for"
    )
    rate_limit_per_minute: int = 600
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True)
class ActiveClient:
    """An authenticated, unrevoked client as a request sees it: who, for what, how often."""

    id: int
    name: str
    scopes: frozenset[str]
    rate_limit_per_minute: int
    offices: frozenset[str] = frozenset()


class ConsoleSessionRow(SQLModel, table=True):
    """A browser signed in to the console with a client's key (see
    :mod:`hub.console.sessions`): the digest of its session token, never the token."""

    __tablename__ = "console_session"

    token_digest: str = Field(
        primary_key=True, max_length=64, description="SHA-256 of the browser's session token"
    )
    client_id: int = Field(foreign_key="api_client.id", index=True)
    client_name: str = Field(max_length=64)
    csrf_token: str = Field(max_length=64, description="what every form of the session carries")
    created: float = Field(description="sign-in, seconds since the epoch")
    last_seen: float = Field(index=True, description="last request, seconds since the epoch")
    locale: str | None = Field(default=None, max_length=16)
    flashes: list[list[str]] = Field(default_factory=list, sa_type=JSON)
    watched: list[int] = Field(default_factory=list, sa_type=JSON)
