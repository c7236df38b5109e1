"""Registering clients, authenticating keys, checking purposes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text, update
from sqlmodel import Session

from hub.access import keys, service
from hub.access.errors import Forbidden, Unauthenticated
from hub.access.models import ActiveClient, ApiClient
from hub.access.scopes import SCOPES
from hub.errors import InvalidInput, NotFound
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.store.prepared import LoopConnection, Reader, loop_reads


def _add(engine: Engine, name: str = "sas-portal", *scopes: str) -> str:
    with unit_of_work(engine) as session:
        _client, key = service.add_client(session, name=name, scopes=scopes or ["sa-status:read"])
    return key


def _authenticate(engine: Engine, header: str | None) -> str:
    return _active(engine, header).name


def _active(engine: Engine, header: str | None) -> ActiveClient:
    reads = LoopConnection(engine)
    try:
        with reads.reading() as reader:
            return service.authenticate(reader, authorization_header=header, engine=engine)
    finally:
        reads.close()


def _as_before_the_digest(engine: Engine, name: str, key: str) -> None:
    """Store the client's key as the hub did before migration 0008: a PBKDF2 hash, no digest."""
    with unit_of_work(engine) as session:
        session.execute(
            update(ApiClient)
            .where(ApiClient.name == name)  # type: ignore[arg-type]
            .values(key_digest=None, key_hash=keys.legacy_hash(key, iterations=2000))
        )


def _stored(engine: Engine, name: str) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT key_digest, key_hash FROM api_client WHERE name = :name"), {"name": name}
        )
        return dict(row.mappings().one())


@pytest.fixture
def pbkdf2_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every PBKDF2 computation made while the test runs."""
    calls: list[int] = []
    real = hashlib.pbkdf2_hmac

    def counting(*args: Any, **kwargs: Any) -> bytes:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)
    return calls


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the authentication runs, by the columns it selects."""
    seen: list[str] = []
    real_all = Reader.all

    def counting(self: Reader, statement: Any, **parameters: Any) -> Any:
        seen.append(",".join(statement.selected_columns.keys()))
        return real_all(self, statement, **parameters)

    monkeypatch.setattr(Reader, "all", counting)
    return seen


def test_the_key_is_returned_once_and_only_its_digest_is_stored(engine: Engine) -> None:
    key = _add(engine, "sas-portal", "sa-status:read", "certificate:read", "sa-status:read")
    with engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM api_client")).mappings().one()
    stored = " ".join(str(value) for value in row.values())
    assert key[4:] not in stored
    assert key[12:] not in stored
    assert row["key_prefix"] == key[:12]
    assert row["key_digest"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["key_hash"] is None
    with Session(engine) as session:
        (client,) = service.list_clients(session)
    assert client.scopes == ["certificate:read", "sa-status:read"]
    assert client.rate_limit_per_minute == 600


def test_authenticate_accepts_the_key_and_refuses_the_rest(engine: Engine) -> None:
    key = _add(engine)
    assert _authenticate(engine, f"Bearer {key}") == "sas-portal"
    assert _authenticate(engine, f"bearer  {key} ") == "sas-portal"
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
            _authenticate(engine, header)
        assert refused.value.reason == reason, header
        assert key not in str(refused.value)


def test_a_revoked_key_is_refused_at_once(engine: Engine) -> None:
    key = _add(engine)
    assert _authenticate(engine, f"Bearer {key}") == "sas-portal"
    with unit_of_work(engine) as session:
        revoked = service.revoke_client(session, name="sas-portal")
        first_time = revoked.revoked_at
    with unit_of_work(engine) as session:
        assert service.revoke_client(session, name="sas-portal").revoked_at == first_time
    with pytest.raises(Unauthenticated) as refused:
        _authenticate(engine, f"Bearer {key}")
    assert refused.value.reason == "revoked"


def test_every_key_costs_one_indexed_read_and_no_key_stretching(
    engine: Engine, pbkdf2_calls: list[int], statements: list[str]
) -> None:
    """Right, wrong with a known prefix, unknown, revoked: the same single read, no PBKDF2."""
    key, revoked = _add(engine), _add(engine, "revoked-portal")
    with unit_of_work(engine) as session:
        service.revoke_client(session, name="revoked-portal")
    headers = {
        f"Bearer {key}": None,
        f"Bearer {key[:12]}{keys.generate_key()[12:]}": "unknown",
        f"Bearer {keys.generate_key()}": "unknown",
        f"Bearer {revoked}": "revoked",
    }
    for header, reason in headers.items():
        statements.clear()
        try:
            _authenticate(engine, header)
            outcome = None
        except Unauthenticated as refused:
            outcome = refused.reason
        assert outcome == reason
        assert len(statements) == 1, statements
    assert pbkdf2_calls == []


def test_a_wrong_key_costs_no_more_than_the_right_one(engine: Engine) -> None:
    """Measured in process over many interleaved calls: a wrong key with a known prefix, an
    unknown key and a revoked key each take about what the right key takes (PBKDF2 made
    them a hundred times slower)."""
    key, revoked = _add(engine), _add(engine, "revoked-portal")
    with unit_of_work(engine) as session:
        service.revoke_client(session, name="revoked-portal")
    kinds = {
        "right": f"Bearer {key}",
        "known prefix": f"Bearer {key[:12]}{keys.generate_key()[12:]}",
        "unknown": f"Bearer {keys.generate_key()}",
        "revoked": f"Bearer {revoked}",
    }
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    reads = LoopConnection(engine)
    try:
        for _ in range(200):
            for kind, header in kinds.items():
                started = time.perf_counter()
                with contextlib.suppress(Unauthenticated), reads.reading() as reader:
                    service.authenticate(reader, authorization_header=header, engine=engine)
                timings[kind].append(time.perf_counter() - started)
    finally:
        reads.close()
    right = statistics.median(timings["right"])
    for kind in ("known prefix", "unknown", "revoked"):
        assert statistics.median(timings[kind]) < 3 * right, (kind, timings[kind][:5], right)


def test_a_key_issued_before_the_digest_is_verified_once_then_by_its_digest(
    engine: Engine, pbkdf2_calls: list[int]
) -> None:
    key = _add(engine)
    _as_before_the_digest(engine, "sas-portal", key)
    pbkdf2_calls.clear()
    with pytest.raises(Unauthenticated) as refused:  # its prefix, another rest: PBKDF2, refused
        _authenticate(engine, f"Bearer {key[:12]}{keys.generate_key()[12:]}")
    assert refused.value.reason == "unknown"
    assert _stored(engine, "sas-portal")["key_digest"] is None
    calls = len(pbkdf2_calls)

    assert _authenticate(engine, f"Bearer {key}") == "sas-portal"
    assert len(pbkdf2_calls) == calls + 1
    assert _stored(engine, "sas-portal") == {"key_digest": keys.digest(key), "key_hash": None}
    for header in (f"Bearer {key}", f"Bearer {key[:12]}{keys.generate_key()[12:]}"):
        with contextlib.suppress(Unauthenticated):
            _authenticate(engine, header)
    assert len(pbkdf2_calls) == calls + 1  # upgraded: never again


def test_a_revoked_client_not_yet_upgraded_costs_no_pbkdf2(
    engine: Engine, pbkdf2_calls: list[int]
) -> None:
    key = _add(engine)
    _as_before_the_digest(engine, "sas-portal", key)
    with unit_of_work(engine) as session:
        service.revoke_client(session, name="sas-portal")
    pbkdf2_calls.clear()
    with pytest.raises(Unauthenticated) as refused:
        _authenticate(engine, f"Bearer {key}")
    assert refused.value.reason == "unknown"
    assert pbkdf2_calls == []


def test_the_loop_awaits_one_read_and_upgrades_an_old_key_in_a_thread(
    engine: Engine, pbkdf2_calls: list[int]
) -> None:
    key, old_key, revoked = _add(engine), _add(engine, "old-portal"), _add(engine, "gone")
    _as_before_the_digest(engine, "old-portal", old_key)
    with unit_of_work(engine) as session:
        service.revoke_client(session, name="gone")
    pbkdf2_calls.clear()
    loop_threads: list[bool] = []
    real_verify = keys.verify_legacy

    def watching(candidate: str, stored: str | None) -> bool:
        loop_threads.append(_on_a_loop())
        return real_verify(candidate, stored)

    async def scenario() -> list[str]:
        connection = LoopConnection(engine)
        reads = loop_reads(engine, connection)
        outcomes = []
        try:
            for header in (key, old_key, old_key, revoked, keys.generate_key()):
                try:
                    client = await service.authenticate_async(
                        reads, authorization_header=f"Bearer {header}", engine=engine
                    )
                    outcomes.append(client.name)
                except Unauthenticated as refused:
                    outcomes.append(refused.reason)
        finally:
            await reads.aclose()
            connection.close()
        return outcomes

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keys, "verify_legacy", watching)
        outcomes = asyncio.run(scenario())
    assert outcomes == ["sas-portal", "old-portal", "old-portal", "revoked", "unknown"]
    assert loop_threads == [False]  # once, in a worker thread
    assert len(pbkdf2_calls) == 1
    assert _stored(engine, "old-portal")["key_digest"] == keys.digest(old_key)


def _on_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def store_at_0007(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine, "0007")
    yield engine
    engine.dispose()


def test_migration_0008_keeps_the_keys_issued_before_it_working(
    store_at_0007: Engine, pbkdf2_calls: list[int]
) -> None:
    engine = store_at_0007
    key = keys.generate_key()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO api_client (name, key_prefix, key_hash, scopes, offices, "
                "rate_limit_per_minute, created_at) VALUES ('old-portal', :prefix, :hash, "
                "'[\"sa-status:read\"]', '[]', 600, '2026-01-01 00:00:00+00:00')"
            ),
            {"prefix": keys.key_prefix(key), "hash": keys.legacy_hash(key, iterations=2000)},
        )
    upgrade(engine)
    pbkdf2_calls.clear()
    assert _stored(engine, "old-portal")["key_digest"] is None
    assert _authenticate(engine, f"Bearer {key}") == "old-portal"
    assert _stored(engine, "old-portal") == {"key_digest": keys.digest(key), "key_hash": None}
    assert _authenticate(engine, f"Bearer {key}") == "old-portal"
    assert len(pbkdf2_calls) == 1


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
    client = _active(engine, f"Bearer {key}")
    service.require_scope(client, "certificate:read")
    service.require_scope(client, "person:read")
    for scope in set(SCOPES) - {"certificate:read", "person:read"}:
        with pytest.raises(Forbidden) as refused:
            service.require_scope(client, scope)  # type: ignore[arg-type]
        assert refused.value.scope == scope
        assert refused.value.client == "employment-office"
