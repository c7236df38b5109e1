"""The ``hub`` command as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli.main import app
from hub.settings import REGISTRY_NAMES
from hub.store.engine import make_engine
from hub.store.migrate import current_revision, head_revision
from mocks.core.server import RunningRegistries

runner = CliRunner()


def _hub(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``hub`` console script as a user would, without a terminal."""
    hub = Path(sys.executable).with_name("hub")
    return subprocess.run(
        [str(hub), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "HUB_LOG_FORMAT": "json", **(env or {})},
        check=False,
    )


def test_db_upgrade_brings_an_empty_database_to_head(database_url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"], env={"HUB_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    engine = make_engine(database_url)
    assert current_revision(engine) == head_revision(engine)
    assert "database at revision" in result.output


def test_db_current_tells_the_operator_to_upgrade(sqlite_url: str) -> None:
    result = runner.invoke(app, ["db", "current"], env={"HUB_DATABASE_URL": sqlite_url})
    assert result.exit_code == 1
    assert "hub db upgrade" in result.output


def test_fixtures_generate_writes_five_registries_and_a_manifest(tmp_path: Path) -> None:
    result = _hub("fixtures", "generate", "--persons", "300", "--seed", "5", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert {p.name for p in tmp_path.iterdir()} == {
        "cra",
        "emis",
        "sas",
        "tak",
        "cms",
        "manifest.json",
    }
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["persons"] == 300
    assert "300 persons (seed 5)" in result.stdout
    # off a terminal, progress is structured log lines on stderr, not a bar
    assert any(json.loads(line).get("event") == "progress" for line in result.stderr.splitlines())


def test_mocks_serve_refuses_a_folder_without_population(tmp_path: Path) -> None:
    result = _hub("mocks", "serve", "--data", str(tmp_path), "--port-base", "18100", timeout=30)
    assert result.returncode == 2
    assert "hub fixtures generate" in result.stderr


@pytest.mark.slow
def _registry_env(registries: RunningRegistries, database: Path) -> dict[str, str]:
    env = {f"HUB_{name.upper()}__URL": registries.url(name) for name in REGISTRY_NAMES}
    return {**env, "HUB_DATABASE_URL": f"sqlite:///{database}"}


def test_hub_ingest_then_quarantine_list(registries: RunningRegistries, tmp_path: Path) -> None:
    env = _registry_env(registries, tmp_path / "hub.sqlite3")
    result = _hub("ingest", "--source", "tak", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "TAK" in result.stdout
    assert "complete" in result.stdout
    # off a terminal, progress is structured log lines, never personal numbers
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any(line.get("event") == "ingested" and line.get("registry") == "tak" for line in lines)
    listing = _hub("quarantine", "list", env=env)
    assert listing.returncode == 0
    assert "the quarantine is empty" in listing.stdout


def test_hub_ingest_refuses_an_unknown_source(tmp_path: Path) -> None:
    result = _hub(
        "ingest", "--source", "nope", env={"HUB_DATABASE_URL": f"sqlite:///{tmp_path}/h.db"}
    )
    assert result.returncode == 2
    assert "use one of emis, sas, tak, cra, cms" in result.stderr


def test_hub_ingest_reports_an_unreachable_registry_and_what_to_do(tmp_path: Path) -> None:
    env = {
        "HUB_DATABASE_URL": f"sqlite:///{tmp_path}/h.db",
        "HUB_CRA__URL": "http://127.0.0.1:9",
        "HUB_CRA__MAX_ATTEMPTS": "1",
    }
    result = _hub("ingest", "--source", "cra", env=env)
    assert result.returncode == 1
    assert "cannot connect" in result.stdout
    assert "running `hub ingest` again resumes" in result.stderr
