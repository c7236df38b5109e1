"""Registering API clients, checking their keys and their purposes.

Keyword-only functions that never commit: the edge (a CLI command, a request)
owns the unit of work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import Table, bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from hub.access import keys
from hub.access.cache import DEFAULT_CACHE, VerifiedKeyCache
from hub.access.errors import Forbidden, Unauthenticated
from hub.access.models import ActiveClient, ApiClient
from hub.access.scopes import OFFICE_BOUND, SCOPES, Scope, is_scope
from hub.errors import InvalidInput, NotFound
from hub.store.prepared import Reader, Row
from hub.store.types import utc_now

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
        key_hash=keys.hash_key(key),
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
    reader: Reader,
    *,
    authorization_header: str | None,
    cache: VerifiedKeyCache = DEFAULT_CACHE,
) -> ActiveClient:
    """The active client whose key is in ``Authorization: Bearer KEY``, or :class:`Unauthenticated`.

    The client is found by its key prefix (indexed) and the key verified against
    its PBKDF2 hash; a verified key is cached (see :mod:`hub.access.cache`), but
    revocation is checked on every call, by one read of the client's row.
    """
    key = _bearer_key(authorization_header)
    fingerprint = keys.fingerprint(key)
    hit = cache.get(fingerprint)
    if hit is not None:
        row = reader.one(_CLIENT_BY_ID, client_id=hit.client_id)
        if row is not None and row["key_hash"] == hit.key_hash:
            return _active(row)
        cache.discard(fingerprint)
    for row in reader.all(_CLIENTS_BY_PREFIX, prefix=keys.key_prefix(key)):
        if keys.verify_key(key, row["key_hash"]):
            active = _active(row)
            cache.put(fingerprint, client_id=active.id, key_hash=row["key_hash"])
            return active
    raise Unauthenticated(
        "the API key is not valid", reason="unknown", hint="check the key, or ask for a new one"
    )


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
    _CLIENT.c.key_hash,
    _CLIENT.c.scopes,
    _CLIENT.c.rate_limit_per_minute,
    _CLIENT.c.offices,
    _CLIENT.c.revoked_at,
)
_CLIENT_BY_ID = core_select(*_GRANT).where(_CLIENT.c.id == bindparam("client_id"))
_CLIENTS_BY_PREFIX = core_select(*_GRANT).where(_CLIENT.c.key_prefix == bindparam("prefix"))


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
