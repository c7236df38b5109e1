"""``hub clients`` as an operator runs it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hub.access import keys, service
from hub.access.errors import Unauthenticated
from hub.cli.main import app
from hub.store.engine import make_engine
from hub.store.migrate import upgrade
from hub.store.prepared import LoopConnection

runner = CliRunner()


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    return {"HUB_DATABASE_URL": database_url, "HUB_LOG_FORMAT": "json", "COLUMNS": "200"}


def test_add_prints_the_key_as_the_last_line_list_shows_no_secret_revoke_stops_it(
    env: dict[str, str],
) -> None:
    added = runner.invoke(
        app,
        ["clients", "add", "sas-portal", "--scope", "sa-status:read", "--scope",
         "certificate:read", "--rate-limit", "120"],
        env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    key = added.stdout.strip().splitlines()[-1]
    assert keys.looks_like_key(key)
    assert "shown only this once" in added.stderr

    engine = make_engine(env["HUB_DATABASE_URL"])
    reads = LoopConnection(engine)
    with reads.reading() as reader:
        client = service.authenticate(reader, authorization_header=f"Bearer {key}")
        assert client.rate_limit_per_minute == 120

    listing = runner.invoke(app, ["clients", "list"], env=env)
    assert listing.exit_code == 0, listing.output
    assert "sas-portal" in listing.stdout
    assert key[:12] in listing.stdout
    assert "certificate:read, sa-status:read" in listing.stdout
    assert key not in listing.output
    assert "pbkdf2" not in listing.output

    revoked = runner.invoke(app, ["clients", "revoke", "sas-portal"], env=env)
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in revoked.stdout
    with reads.reading() as reader, pytest.raises(Unauthenticated):
        service.authenticate(reader, authorization_header=f"Bearer {key}")
    reads.close()
    engine.dispose()


def test_operator_mistakes_are_explained(env: dict[str, str]) -> None:
    unknown = runner.invoke(app, ["clients", "add", "x", "--scope", "person:write"], env=env)
    assert unknown.exit_code == 2
    assert "person:write" in unknown.stderr
    assert "sa-status:read" in unknown.stderr
    assert unknown.stdout == ""
    missing = runner.invoke(app, ["clients", "revoke", "nobody"], env=env)
    assert missing.exit_code == 1
    assert "no client named 'nobody'" in missing.stderr
    empty = runner.invoke(app, ["clients", "list"], env=env)
    assert "no clients" in empty.stdout
