"""Registering clients, authenticating keys, checking purposes, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from hub.access import keys, service
from hub.access.cache import VerifiedKeyCache
from hub.access.errors import Forbidden, Unauthenticated
from hub.access.models import ActiveClient
from hub.access.scopes import SCOPES
from hub.errors import InvalidInput, NotFound
from hub.store.engine import unit_of_work
from hub.store.prepared import LoopConnection


def _add(engine: Engine, name: str = "sas-portal", *scopes: str) -> str:
    with unit_of_work(engine) as session:
        _client, key = service.add_client(session, name=name, scopes=scopes or ["sa-status:read"])
    return key


def _authenticate(engine: Engine, header: str | None, cache: VerifiedKeyCache) -> str:
    return _active(engine, header, cache).name


def _active(engine: Engine, header: str | None, cache: VerifiedKeyCache) -> ActiveClient:
    reads = LoopConnection(engine)
    try:
        with reads.reading() as reader:
            return service.authenticate(reader, authorization_header=header, cache=cache)
    finally:
        reads.close()


def test_the_key_is_returned_once_and_only_its_hash_is_stored(engine: Engine) -> None:
    key = _add(engine, "sas-portal", "sa-status:read", "certificate:read", "sa-status:read")
    with engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM api_client")).mappings().one()
    stored = " ".join(str(value) for value in row.values())
    assert key[4:] not in stored
    assert key[12:] not in stored
    assert row["key_prefix"] == key[:12]
    assert keys.verify_key(key, row["key_hash"])
    with Session(engine) as session:
        (client,) = service.list_clients(session)
    assert client.scopes == ["certificate:read", "sa-status:read"]
    assert client.rate_limit_per_minute == 600


def test_authenticate_accepts_the_key_and_refuses_the_rest(engine: Engine) -> None:
    key = _add(engine)
    cache = VerifiedKeyCache()
    assert _authenticate(engine, f"Bearer {key}", cache) == "sas-portal"
    assert _authenticate(engine, f"bearer  {key} ", cache) == "sas-portal"
    cases = {
        None: "missing",
        "": "missing",
        key: "malformed",
        f"Basic {key}": "malformed",
        "Bearer not-a-key": "malformed",
        f"Bearer {keys.generate_key()}": "unknown",
        f"Bearer {key[:-1]}{'A' if key[-1] != 'A' else 'B'}": "unknown",
    }
    for header, reason in cases.items():
        with pytest.raises(Unauthenticated) as refused:
            _authenticate(engine, header, VerifiedKeyCache())
        assert refused.value.reason == reason, header
        assert key not in str(refused.value)


def test_a_revoked_key_is_refused_at_once_even_when_cached(engine: Engine) -> None:
    key = _add(engine)
    cache = VerifiedKeyCache()
    assert _authenticate(engine, f"Bearer {key}", cache) == "sas-portal"
    with unit_of_work(engine) as session:
        revoked = service.revoke_client(session, name="sas-portal")
        first_time = revoked.revoked_at
    with unit_of_work(engine) as session:
        assert service.revoke_client(session, name="sas-portal").revoked_at == first_time
    for fresh in (cache, VerifiedKeyCache()):
        with pytest.raises(Unauthenticated) as refused:
            _authenticate(engine, f"Bearer {key}", fresh)
        assert refused.value.reason == "revoked"


def test_a_cached_key_skips_pbkdf2(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    key = _add(engine)
    cache = VerifiedKeyCache()
    calls: list[str] = []
    real_verify = keys.verify_key

    def counting(candidate: str, stored: str) -> bool:
        calls.append(stored)
        return real_verify(candidate, stored)

    monkeypatch.setattr(keys, "verify_key", counting)
    for _ in range(5):
        _authenticate(engine, f"Bearer {key}", cache)
    assert len(calls) == 1


def test_a_cached_key_expires(engine: Engine) -> None:
    now = [0.0]
    cache = VerifiedKeyCache(ttl=60, clock=lambda: now[0])
    key = _add(engine)
    _authenticate(engine, f"Bearer {key}", cache)
    assert cache.get(keys.fingerprint(key)) is not None
    now[0] = 61.0
    assert cache.get(keys.fingerprint(key)) is None


def test_unknown_scopes_bad_names_and_duplicates_are_refused(engine: Engine) -> None:
    _add(engine, "cms-desk")
    refusals = [
        ({"name": "x", "scopes": ["sa-status:read", "person:write"]}, "person:write"),
        ({"name": "x", "scopes": []}, "at least one scope"),
        ({"name": "Bad Name", "scopes": ["person:read"]}, "not valid"),
        ({"name": "cms-desk", "scopes": ["person:read"]}, "exists already"),
        ({"name": "x", "scopes": ["person:read"], "rate_limit_per_minute": 0}, "at least 1"),
    ]
    for arguments, message in refusals:
        with unit_of_work(engine) as session, pytest.raises(InvalidInput) as refused:
            service.add_client(session, **arguments)  # type: ignore[arg-type]
        assert message in str(refused.value)
    with Session(engine) as session:
        assert [c.name for c in service.list_clients(session)] == ["cms-desk"]
        with pytest.raises(NotFound):
            service.revoke_client(session, name="nobody")


def test_a_client_may_use_only_its_purposes(engine: Engine) -> None:
    key = _add(engine, "employment-office", "certificate:read", "person:read")
    client = _active(engine, f"Bearer {key}", VerifiedKeyCache())
    service.require_scope(client, "certificate:read")
    service.require_scope(client, "person:read")
    for scope in set(SCOPES) - {"certificate:read", "person:read"}:
        with pytest.raises(Forbidden) as refused:
            service.require_scope(client, scope)  # type: ignore[arg-type]
        assert refused.value.scope == scope
        assert refused.value.client == "employment-office"
