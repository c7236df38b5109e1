"""A throw-away PostgreSQL database per test session, on the developer's/CI's server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
START_HINT = "start it with: pg_ctlcluster --skip-systemctl-redirect 15 main start"


def server_url() -> str:
    """The server tests use: ``HUB_TEST_DATABASE_URL`` or the local default."""
    return os.environ.get("HUB_TEST_DATABASE_URL", DEFAULT_URL)


def _admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def unavailable(reason: str) -> None:
    """Skip when PostgreSQL is unreachable — except on CI, where that is a failure."""
    message = f"PostgreSQL unreachable at {server_url()}: {reason}; {START_HINT}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextmanager
def temporary_database() -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    url = server_url()
    name = f"ura_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(_admin_dsn(url), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        unavailable(str(exc).strip().splitlines()[0])
        raise  # unreachable: unavailable() skips or fails
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
