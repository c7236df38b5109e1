"""Console sessions: a client key, checked once at sign-in, becomes a server-side session.

The browser holds only a random session token (256 bits) in an HttpOnly, SameSite=Strict
cookie; the store keeps the token's SHA-256 (table ``console_session``), so the tokens
themselves live nowhere on the server. Every API process reads the same sessions: a user
signed in on one process is signed in on all of them, and a sign-out ends the session
everywhere. A session ends when it is idle for ``idle_seconds`` (measured to within
:data:`TOUCH_SECONDS`), at the latest ``lifetime_seconds`` after sign-in, and at sign-out.
Each session has its own CSRF token, which every form carries.

The client behind a session is read again on every request (see
:mod:`hub.console.web`): a revoked key, or a changed scope or office, takes effect at once.
The store is called from worker threads, never on the event loop: it waits for the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.engine import Engine

from hub.access.models import ConsoleSessionRow

SESSION_COOKIE = "ura_console"
SIGN_IN_COOKIE = "ura_console_sign_in"
"""The sign-in form's own CSRF token (double submit), before any session exists."""

IDLE_SECONDS = 15 * 60
LIFETIME_SECONDS = 8 * 60 * 60
TOUCH_SECONDS = 10.0
"""A session's last request is written at most this often: pages that poll every second
would otherwise write every second."""
MAX_SESSIONS = 10_000
MAX_FLASHES = 5
MAX_WATCHED = 20

_TABLE: Table = ConsoleSessionRow.__table__  # type: ignore[attr-defined]


@dataclass
class ConsoleSession:
    """What the server remembers of one signed-in browser, as one request read it.

    A change (a message for the next page, a language, a followed message) is written to
    the store at once, so the next request finds it on whichever process answers it.
    """

    client_id: int
    client_name: str
    csrf_token: str
    created: float
    last_seen: float
    locale: str | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)
    watched: list[int] = field(default_factory=list)
    """Outbox messages this user sent again, whose delivery the dead-letter page follows."""
    store: SessionStore | None = field(default=None, repr=False, compare=False)
    digest: str = field(default="", repr=False, compare=False)

    def flash(self, kind: str, text: str) -> None:
        """A message for the next page this user sees (``kind``: ok, error, info)."""
        self.flashes = [*self.flashes, (kind, text)][-MAX_FLASHES:]
        self._save()

    def take_flashes(self) -> list[tuple[str, str]]:
        """The waiting messages, once."""
        taken, self.flashes = self.flashes, []
        if taken:
            self._save()
        return taken

    def watch(self, message_ids: list[int]) -> None:
        """Follow these outbox messages on the dead-letter page."""
        merged = [*message_ids, *(i for i in self.watched if i not in message_ids)]
        self.watched = merged[:MAX_WATCHED]
        self._save()

    def choose_locale(self, locale: str | None) -> None:
        """Show this user's pages in ``locale`` (None: as the browser asks)."""
        self.locale = locale
        self._save()

    def csrf_ok(self, submitted: str | None) -> bool:
        """Whether a form carried this session's CSRF token (constant-time)."""
        return submitted is not None and hmac.compare_digest(
            submitted.encode(), self.csrf_token.encode()
        )

    def _save(self) -> None:
        if self.store is not None:
            self.store.save(self)


class SessionStore:
    """Sessions by the digest of their token, in the store; ``clock`` (seconds since the
    epoch, shared by every process) is injectable for tests."""

    def __init__(
        self,
        engine: Engine,
        *,
        idle_seconds: float = IDLE_SECONDS,
        lifetime_seconds: float = LIFETIME_SECONDS,
        capacity: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.lifetime_seconds = lifetime_seconds
        self._engine = engine
        self._capacity = capacity
        self._clock = clock

    def create(
        self, *, client_id: int, client_name: str, locale: str | None = None
    ) -> tuple[str, ConsoleSession]:
        """A new session and the token the browser is to hold; ended sessions go, and the
        least recently seen ones when :data:`MAX_SESSIONS` are live."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        session = ConsoleSession(
            client_id=client_id,
            client_name=client_name,
            csrf_token=secrets.token_urlsafe(32),
            created=now,
            last_seen=now,
            locale=locale,
            store=self,
            digest=_digest(token),
        )
        with self._engine.begin() as connection:
            connection.execute(delete(_TABLE).where(self._ended(now)))
            live = connection.execute(select(func.count()).select_from(_TABLE)).scalar_one()
            if live >= self._capacity:
                oldest = (
                    select(_TABLE.c.token_digest)
                    .order_by(_TABLE.c.last_seen)
                    .limit(live - self._capacity + 1)
                )
                connection.execute(delete(_TABLE).where(_TABLE.c.token_digest.in_(oldest)))
            connection.execute(
                insert(_TABLE).values(
                    token_digest=session.digest,
                    client_id=client_id,
                    client_name=client_name,
                    csrf_token=session.csrf_token,
                    created=now,
                    last_seen=now,
                    locale=locale,
                    flashes=[],
                    watched=[],
                )
            )
        return token, session

    def get(self, token: str | None) -> ConsoleSession | None:
        """The live session of ``token`` (its idle time restarts), or None; an ended one goes."""
        if not token:
            return None
        digest = _digest(token)
        now = self._clock()
        with self._engine.connect() as connection:
            row = connection.execute(
                select(_TABLE).where(_TABLE.c.token_digest == digest)
            ).one_or_none()
        if row is None:
            return None
        session = _session(row._mapping, self, digest)
        if self._is_ended(session, now):
            self.drop(token)
            return None
        if now - session.last_seen >= TOUCH_SECONDS:
            with self._engine.begin() as connection:
                connection.execute(
                    update(_TABLE)
                    .where(_TABLE.c.token_digest == digest, _TABLE.c.last_seen < now)
                    .values(last_seen=now)
                )
            session.last_seen = now
        return session

    def save(self, session: ConsoleSession) -> None:
        """Write what the user changed in ``session`` (language, messages, followed ones)."""
        with self._engine.begin() as connection:
            connection.execute(
                update(_TABLE)
                .where(_TABLE.c.token_digest == session.digest)
                .values(
                    locale=session.locale,
                    flashes=[list(pair) for pair in session.flashes],
                    watched=list(session.watched),
                )
            )

    def drop(self, token: str | None) -> None:
        """End the session of ``token`` (sign-out, or a revoked client)."""
        if token:
            with self._engine.begin() as connection:
                connection.execute(delete(_TABLE).where(_TABLE.c.token_digest == _digest(token)))

    def __len__(self) -> int:
        """Sessions in the store, ended ones not yet removed included."""
        with self._engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(_TABLE)).scalar_one())

    def _is_ended(self, session: ConsoleSession, now: float) -> bool:
        return (
            now - session.last_seen > self.idle_seconds
            or now - session.created > self.lifetime_seconds
        )

    def _ended(self, now: float) -> Any:
        return (_TABLE.c.last_seen < now - self.idle_seconds) | (
            _TABLE.c.created < now - self.lifetime_seconds
        )


def _session(row: Any, store: SessionStore, digest: str) -> ConsoleSession:
    return ConsoleSession(
        client_id=row["client_id"],
        client_name=row["client_name"],
        csrf_token=row["csrf_token"],
        created=row["created"],
        last_seen=row["last_seen"],
        locale=row["locale"],
        flashes=[(str(kind), str(text)) for kind, text in row["flashes"] or []],
        watched=[int(i) for i in row["watched"] or []],
        store=store,
        digest=digest,
    )


def new_sign_in_token() -> str:
    """The sign-in form's CSRF token, also set as :data:`SIGN_IN_COOKIE`."""
    return secrets.token_urlsafe(32)


def same_token(cookie: str | None, submitted: str | None) -> bool:
    """Whether the sign-in form and its cookie carry the same token (constant-time)."""
    return (
        bool(cookie)
        and bool(submitted)
        and hmac.compare_digest(str(cookie).encode(), str(submitted).encode())
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SignInThrottle:
    """Failed sign-ins per browser address: after ``limit`` in ``window`` seconds, wait.

    Keys are 256 random bits, so this does not guard them from guessing (nor need it); it
    slows a script down and makes it visible in the log. Each process counts its own: behind
    N processes an address may fail up to N times ``limit`` before all of them refuse it.
    """

    def __init__(
        self, *, limit: int = 10, window: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, address: str) -> bool:
        """Whether ``address`` failed too often lately."""
        with self._lock:
            return len(self._recent(address)) >= self.limit

    def failed(self, address: str) -> None:
        """Count a failed sign-in from ``address``."""
        with self._lock:
            self._failures[address] = [*self._recent(address), self._clock()]
            if len(self._failures) > MAX_SESSIONS:  # forget the quietest addresses
                for key in sorted(self._failures, key=lambda k: self._failures[k][-1])[:100]:
                    del self._failures[key]

    def _recent(self, address: str) -> list[float]:
        since = self._clock() - self.window
        return [at for at in self._failures.get(address, []) if at > since]
