"""Console sessions: a client key, checked once at sign-in, becomes a server-side session.

The browser holds only a random session token (256 bits) in an HttpOnly, SameSite=Strict
cookie; the store keeps the token's SHA-256, so the tokens themselves live nowhere on the
server. A session ends when it is idle for ``idle_seconds``, at the latest
``lifetime_seconds`` after sign-in, at sign-out, and when the hub restarts (sessions are
held in the process's memory: run the console on one API process, or pin a user's
requests to one). Each session has its own CSRF token, which every form carries.

The client behind a session is read again on every request (see
:mod:`hub.console.auth`): a revoked key, or a changed scope or office, takes effect at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SESSION_COOKIE = "ura_console"
SIGN_IN_COOKIE = "ura_console_sign_in"
"""The sign-in form's own CSRF token (double submit), before any session exists."""

IDLE_SECONDS = 15 * 60
LIFETIME_SECONDS = 8 * 60 * 60
MAX_SESSIONS = 10_000
MAX_FLASHES = 5
MAX_WATCHED = 20


@dataclass
class ConsoleSession:
    """What the server remembers of one signed-in browser."""

    client_id: int
    client_name: str
    csrf_token: str
    created: float
    last_seen: float
    locale: str | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)
    watched: list[int] = field(default_factory=list)
    """Outbox messages this user sent again, whose delivery the dead-letter page follows."""

    def flash(self, kind: str, text: str) -> None:
        """A message for the next page this user sees (``kind``: ok, error, info)."""
        self.flashes = [*self.flashes, (kind, text)][-MAX_FLASHES:]

    def take_flashes(self) -> list[tuple[str, str]]:
        """The waiting messages, once."""
        taken, self.flashes = self.flashes, []
        return taken

    def watch(self, message_ids: list[int]) -> None:
        """Follow these outbox messages on the dead-letter page."""
        merged = [*message_ids, *(i for i in self.watched if i not in message_ids)]
        self.watched = merged[:MAX_WATCHED]

    def csrf_ok(self, submitted: str | None) -> bool:
        """Whether a form carried this session's CSRF token (constant-time)."""
        return submitted is not None and hmac.compare_digest(
            submitted.encode(), self.csrf_token.encode()
        )


class SessionStore:
    """Sessions by the hash of their token, thread-safe; ``clock`` is injectable for tests."""

    def __init__(
        self,
        *,
        idle_seconds: float = IDLE_SECONDS,
        lifetime_seconds: float = LIFETIME_SECONDS,
        capacity: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.lifetime_seconds = lifetime_seconds
        self._capacity = capacity
        self._clock = clock
        self._sessions: dict[bytes, ConsoleSession] = {}
        self._lock = threading.Lock()

    def create(self, *, client_id: int, client_name: str) -> tuple[str, ConsoleSession]:
        """A new session and the token the browser is to hold; the oldest goes when full."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        session = ConsoleSession(
            client_id=client_id,
            client_name=client_name,
            csrf_token=secrets.token_urlsafe(32),
            created=now,
            last_seen=now,
        )
        with self._lock:
            self._expire(now)
            while len(self._sessions) >= self._capacity:
                oldest = min(self._sessions, key=lambda k: self._sessions[k].last_seen)
                del self._sessions[oldest]
            self._sessions[_digest(token)] = session
        return token, session

    def get(self, token: str | None) -> ConsoleSession | None:
        """The live session of ``token`` (its idle time restarts), or None."""
        if not token:
            return None
        key = _digest(token)
        now = self._clock()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[key]
                return None
            session.last_seen = now
            return session

    def drop(self, token: str | None) -> None:
        """End the session of ``token`` (sign-out)."""
        if token:
            with self._lock:
                self._sessions.pop(_digest(token), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _expired(self, session: ConsoleSession, now: float) -> bool:
        return (
            now - session.last_seen > self.idle_seconds
            or now - session.created > self.lifetime_seconds
        )

    def _expire(self, now: float) -> None:
        for key in [k for k, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[key]


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


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class SignInThrottle:
    """Failed sign-ins per browser address: after ``limit`` in ``window`` seconds, wait.

    Keys are random and long, so this does not guard them from guessing; it keeps a
    script from spending the hub's PBKDF2 time, and makes such a script visible in the log.
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
