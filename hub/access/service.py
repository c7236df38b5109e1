"""Registering API clients, checking their keys and their purposes.

Keyword-only functions that never commit: the edge (a CLI command, a request)
owns the unit of work.
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections.abc import Sequence

from sqlalchemy import Engine, Table, and_, bindparam, exists, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from hub.access import keys
from hub.access.errors import Forbidden, Unauthenticated
from hub.access.models import ActiveClient, ApiClient
from hub.access.scopes import OFFICE_BOUND, SCOPES, Scope, is_scope
from hub.errors import InvalidInput, NotFound
from hub.log import get_logger
from hub.store.engine import unit_of_work
from hub.store.prepared import Reader, Reads, Row
from hub.store.types import utc_now

log = get_logger("access")

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_OFFICE = re.compile(r"CSW-[0-9]{2}")
_BEARER = re.compile(r"Bearer[ \t]+(\S+)[ \t]*", re.IGNORECASE)


def add_client(
    session: Session,
    *,
    name: str,
    scopes: Sequence[str],
    rate_limit_per_minute: int = 600,
    offices: Sequence[str] = (),
) -> tuple[ApiClient, str]:
    """Register a client; returns it and its key, which exists nowhere else afterwards.

    ``offices``: the CSW office codes (``CSW-07``) a deciding client acts for; required with
    an office-bound scope (``suspension:decide``).
    """
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"client name {name!r} is not valid",
            field="name",
            hint="use 1-64 lowercase letters, digits, '.', '_', '-'; begin with a letter or digit",
        )
    _check_scopes(scopes)
    _check_offices(scopes, offices)
    if rate_limit_per_minute < 1:
        raise InvalidInput(
            "the rate limit must be at least 1 request per minute", field="rate_limit_per_minute"
        )
    if _by_name(session, name) is not None:
        raise InvalidInput(
            f"a client named {name!r} exists already",
            field="name",
            hint="choose another name, or revoke the old client and use a new name",
        )
    key = keys.generate_key()
    client = ApiClient(
        name=name,
        key_prefix=keys.key_prefix(key),
        key_digest=keys.digest(key),
        scopes=sorted(set(scopes)),
        offices=sorted(set(offices)),
        rate_limit_per_minute=rate_limit_per_minute,
    )
    session.add(client)
    session.flush()
    return client, key


def list_clients(session: Session, *, include_revoked: bool = True) -> list[ApiClient]:
    """Every client by name; revoked ones too unless told otherwise."""
    statement = select(ApiClient).order_by(col(ApiClient.name))
    if not include_revoked:
        statement = statement.where(col(ApiClient.revoked_at).is_(None))
    return list(session.exec(statement))


def get_by_name(session: Session, *, name: str) -> ApiClient:
    """The client called ``name``, or :class:`NotFound`."""
    client = _by_name(session, name)
    if client is None:
        raise NotFound(f"no client named {name!r}", hint="see `hub clients list`")
    return client


def revoke_client(session: Session, *, name: str) -> ApiClient:
    """Revoke a client's key from now on; revoking twice keeps the first time."""
    client = get_by_name(session, name=name)
    if client.revoked_at is None:
        client.revoked_at = utc_now()
        session.add(client)
        session.flush()
    return client


def authenticate(
    reader: Reader, *, authorization_header: str | None, engine: Engine | None = None
) -> ActiveClient:
    """The active client whose key is in ``Authorization: Bearer KEY``, or :class:`Unauthenticated`.

    One indexed read by the key's digest (:mod:`hub.access.keys`), the same whatever the
    key: a wrong key, a known prefix with a wrong rest, or a revoked key cost what a right
    one costs. For synchronous callers (the CLI, the console's sign-in); the API awaits
    :func:`authenticate_async`. A key issued before migration 0008 is verified here by
    PBKDF2, and its digest stored when ``engine`` is given (:func:`_upgrade_legacy`).
    """
    key = _bearer_key(authorization_header)
    lookup = _lookup(key)
    found = _resolve(reader.all(CLIENTS_BY_KEY, **lookup), lookup["digest"])
    if isinstance(found, ActiveClient):
        return found
    return _upgrade_legacy(engine, key, found)


def key_lookup(authorization_header: str | None) -> dict[str, str]:
    """The parameters of :data:`CLIENTS_BY_KEY` for the key in ``Authorization: Bearer KEY``,
    before any read; :class:`Unauthenticated` for no key or one not shaped as a key."""
    return _lookup(_bearer_key(authorization_header))


def client_of(rows: Sequence[Row], lookup: dict[str, str]) -> ActiveClient | None:
    """The active client of :data:`CLIENTS_BY_KEY`'s ``rows``; :class:`Unauthenticated` for
    an unknown or revoked key; None for a key issued before migration 0008, which
    :func:`authenticate_async` verifies and upgrades."""
    found = _resolve(rows, lookup["digest"])
    return found if isinstance(found, ActiveClient) else None


async def authenticate_async(
    reads: Reads, *, authorization_header: str | None, engine: Engine
) -> ActiveClient:
    """:func:`authenticate` for code on the event loop: one awaited indexed read.

    A key issued before migration 0008 (no digest yet) is verified by PBKDF2 in a worker
    thread, one such verification at a time per process, and upgraded to a digest, so that
    the key never costs it again; the loop never runs PBKDF2.
    """
    key = _bearer_key(authorization_header)
    lookup = _lookup(key)
    found = _resolve(await reads.all(CLIENTS_BY_KEY, **lookup), lookup["digest"])
    if isinstance(found, ActiveClient):
        return found
    from anyio import to_thread  # here: the CLI imports this module and never gets here

    async with _legacy_lock():
        return await to_thread.run_sync(_upgrade_legacy, engine, key, found)


def require_scope(client: ActiveClient, scope: Scope) -> None:
    """Refuse (:class:`Forbidden`) a client whose scopes do not include ``scope``."""
    if scope not in SCOPES:
        raise ValueError(f"{scope!r} is not a scope")
    if scope not in client.scopes:
        raise Forbidden(
            f"client {client.name!r} is not registered for the purpose {scope!r}",
            client=client.name,
            scope=scope,
        )


def _check_scopes(scopes: Sequence[str]) -> None:
    if not scopes:
        raise InvalidInput(
            "a client needs at least one scope",
            field="scopes",
            hint=f"choose from {', '.join(SCOPES)}",
        )
    unknown = [scope for scope in scopes if not is_scope(scope)]
    if unknown:
        raise InvalidInput(
            f"unknown scope {unknown[0]!r}",
            field="scopes",
            hint=f"choose from {', '.join(SCOPES)}",
        )


def _check_offices(scopes: Sequence[str], offices: Sequence[str]) -> None:
    bad = [office for office in offices if not _OFFICE.fullmatch(office)]
    if bad:
        raise InvalidInput(
            f"office code {bad[0]!r} is not valid",
            field="offices",
            hint="give a CSW office code such as CSW-07 (the centre of municipality 07)",
        )
    if OFFICE_BOUND & set(scopes) and not offices:
        raise InvalidInput(
            "a client that decides for social work centres must name its offices",
            field="offices",
            hint="add --office CSW-nn for each centre the client acts for",
        )


_CLIENT: Table = ApiClient.__table__  # type: ignore[attr-defined]
_GRANT = (
    _CLIENT.c.id,
    _CLIENT.c.name,
    _CLIENT.c.scopes,
    _CLIENT.c.rate_limit_per_minute,
    _CLIENT.c.offices,
    _CLIENT.c.revoked_at,
    _CLIENT.c.key_digest,
    _CLIENT.c.key_hash,
)
CLIENTS_BY_KEY = core_select(*_GRANT).where(
    or_(
        _CLIENT.c.key_digest == bindparam("digest"),
        and_(  # keys issued before migration 0008, until their first use
            _CLIENT.c.key_digest.is_(None),
            _CLIENT.c.key_prefix == bindparam("prefix"),
            _CLIENT.c.revoked_at.is_(None),
        ),
    )
)
"""The client of a key's digest (unique), and any not yet upgraded client of its prefix
(parameters: :func:`key_lookup`)."""
KEY_IS_ACTIVE = exists().where(
    _CLIENT.c.key_digest == bindparam("digest"), _CLIENT.c.revoked_at.is_(None)
)
"""True for the digest of a known, unrevoked key: the condition of a read sent together
with the key's look-up (:func:`hub.api.persons.views.read_view`), so that nothing is read
for a wrong or revoked key."""
_UPGRADE = (
    update(_CLIENT)
    .where(_CLIENT.c.id == bindparam("client_id"), _CLIENT.c.key_digest.is_(None))
    .values(key_digest=bindparam("digest"), key_hash=None)
)
_LEGACY_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _lookup(key: str) -> dict[str, str]:
    return {"digest": keys.digest(key), "prefix": keys.key_prefix(key)}


def _resolve(rows: Sequence[Row], key_digest: str) -> ActiveClient | list[Row]:
    """The client whose digest is the key's (refused if revoked), else the clients whose
    key is still a PBKDF2 hash and shares the key's prefix (none: the key is unknown)."""
    for row in rows:
        if keys.same_digest(key_digest, row["key_digest"]):
            return _active(row)
    legacy = [row for row in rows if row["key_digest"] is None and row["key_hash"]]
    if not legacy:
        raise _unknown()
    return legacy


def _upgrade_legacy(engine: Engine | None, key: str, candidates: Sequence[Row]) -> ActiveClient:
    """Verify ``key`` against the PBKDF2 hashes of ``candidates`` (tens of milliseconds) and,
    with ``engine``, store the key's digest in place of the hash: once only per client."""
    for row in candidates:
        if keys.verify_legacy(key, row["key_hash"]):
            if engine is not None:
                with unit_of_work(engine) as session:
                    session.execute(_UPGRADE, {"client_id": row["id"], "digest": keys.digest(key)})
                log.info("api_key_upgraded", client=row["name"])
            return _active(row)
    raise _unknown()


def _legacy_lock() -> asyncio.Lock:
    """One PBKDF2 verification at a time per event loop: unknown keys sharing a prefix of a
    client not yet upgraded cannot take more than one worker thread."""
    loop = asyncio.get_running_loop()
    lock = _LEGACY_LOCKS.get(loop)
    if lock is None:
        lock = _LEGACY_LOCKS[loop] = asyncio.Lock()
    return lock


def _unknown() -> Unauthenticated:
    return Unauthenticated(
        "the API key is not valid", reason="unknown", hint="check the key, or ask for a new one"
    )


def _by_name(session: Session, name: str) -> ApiClient | None:
    return session.exec(select(ApiClient).where(col(ApiClient.name) == name)).first()


def _bearer_key(header: str | None) -> str:
    if header is None or not header.strip():
        raise Unauthenticated(
            "no API key", reason="missing", hint="send the header Authorization: Bearer <key>"
        )
    match = _BEARER.fullmatch(header.strip())
    if match is None or not keys.looks_like_key(match.group(1)):
        raise Unauthenticated(
            "the Authorization header does not carry an API key",
            reason="malformed",
            hint="send Authorization: Bearer <key>, the key as `hub clients add` printed it",
        )
    return match.group(1)


def _active(row: Row) -> ActiveClient:
    if row["revoked_at"] is not None:
        raise Unauthenticated(
            f"the API key of client {row['name']!r} was revoked",
            reason="revoked",
            hint="ask an operator for a new client",
        )
    return ActiveClient(
        id=row["id"],
        name=row["name"],
        scopes=frozenset(row["scopes"]),
        rate_limit_per_minute=row["rate_limit_per_minute"],
        offices=frozenset(row["offices"] or ()),
    )
