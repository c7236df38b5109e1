"""A newcomer's mistakes at the ``hub`` command line: each prints one line saying what to
do and exits non-zero by the README's table, never a traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import server_url

CONFIGURATION, STORE, USAGE, FAILED = 3, 4, 2, 1


def _hub(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    hub = Path(sys.executable).with_name("hub")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    return subprocess.run(
        [str(hub), *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**environment, "HUB_LOG_FORMAT": "json", **(env or {})},
        check=False,
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one ``error:`` line of a failed run (log lines aside), checked for no traceback."""
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    others = [line for line in result.stderr.splitlines() if line and not line.startswith("{")]
    assert others == errors, output  # besides JSON log lines, nothing but that one line
    return errors[0]


@pytest.fixture
def held_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


@pytest.mark.postgres
def test_a_database_that_does_not_exist() -> None:
    url = server_url().rsplit("/", 1)[0] + "/ura_no_such_database"
    result = _hub("db", "upgrade", env={"HUB_DATABASE_URL": url})
    line = _one_line_error(result)
    assert result.returncode == STORE
    assert "ura_no_such_database" in line
    assert "HUB_DATABASE_URL" in line


def test_a_closed_port(held_port: int) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = int(probe.getsockname()[1])
    result = _hub(
        "db", "current", env={"HUB_DATABASE_URL": f"postgresql://ura@127.0.0.1:{closed}/ura"}
    )
    line = _one_line_error(result)
    assert result.returncode == STORE
    assert "refused" in line.lower()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("notaurl", "not a database URL"),
        ("mysql://ura@localhost/ura", "unsupported database 'mysql'"),
        ("nosuchdb://ura@localhost/ura", "unsupported database 'nosuchdb'"),
    ],
)
def test_a_database_url_the_hub_cannot_use(url: str, expected: str) -> None:
    result = _hub("db", "upgrade", env={"HUB_DATABASE_URL": url})
    line = _one_line_error(result)
    assert result.returncode == CONFIGURATION
    assert expected in line
    assert "HUB_DATABASE_URL" in line


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HUB_LOG_FORMAT", "xml"),
        ("HUB_AUDIT_LOCK_WAIT_SECONDS", "ten"),
        ("HUB_AUDIT_LOCK_WAIT_SECONDS", "-1"),
        ("HUB_EMIS__URL", "not-a-url"),
    ],
)
def test_a_bad_setting_names_its_variable(variable: str, value: str) -> None:
    result = _hub("db", "current", env={variable: value})
    line = _one_line_error(result)
    assert result.returncode == CONFIGURATION
    assert line.startswith(f"error: configuration: {variable}:")


def test_production_with_demo_secrets_is_refused_in_one_line() -> None:
    env = {"HUB_ENVIRONMENT": "production", "HUB_EMIS__PASSWORD": "EMIS-DEMO-SECRET"}
    result = _hub("db", "current", env=env)
    line = _one_line_error(result)
    assert result.returncode == CONFIGURATION
    assert "emis uses a demo password (HUB_EMIS__PASSWORD)" in line
    assert "HUB_LOG_PSEUDONYM_KEY" in line


def test_mocks_serve_with_malformed_faults(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{}")
    result = _hub("mocks", "serve", "--data", str(tmp_path), "--faults", "{bad")
    line = _one_line_error(result)
    assert result.returncode == USAGE
    assert "malformed JSON" in line


def test_mocks_serve_on_a_port_in_use(tmp_path: Path, held_port: int) -> None:
    (tmp_path / "manifest.json").write_text("{}")
    result = _hub("mocks", "serve", "--data", str(tmp_path), "--port-base", str(held_port))
    line = _one_line_error(result)
    assert result.returncode == CONFIGURATION
    assert f"127.0.0.1:{held_port}" in line
    assert "another port" in line


def test_hub_serve_on_a_port_in_use(tmp_path: Path, held_port: int) -> None:
    env = {"HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.sqlite3'}"}
    result = _hub("serve", "--port", str(held_port), env=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    errors = [e for e in events if e["level"] == "error"]
    assert len(errors) == 1
    assert "address already in use" in errors[0]["event"]


@pytest.mark.parametrize("target", ["existing-file", "unwritable"])
def test_fixtures_generate_where_it_cannot_write(tmp_path: Path, target: str) -> None:
    if target == "existing-file":
        out = tmp_path / "taken"
        out.write_text("")
    else:
        if os.geteuid() == 0:
            out = Path("/proc/ura-hub-cannot-write-here")
        else:
            locked = tmp_path / "locked"
            locked.mkdir(mode=0o500)
            out = locked / "out"
    result = _hub("fixtures", "generate", "--persons", "20", "--out", str(out))
    line = _one_line_error(result)
    assert result.returncode == FAILED
    assert str(out) in line


def test_an_unmigrated_store_says_to_upgrade(tmp_path: Path) -> None:
    database = tmp_path / "empty.sqlite3"
    result = _hub(
        "audit",
        "export",
        "--person",
        "1234567897",
        env={"HUB_DATABASE_URL": f"sqlite:///{database}"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    assert "1234567897" not in output
    assert "hub db upgrade" in output


def test_version_and_short_help() -> None:
    version = _hub("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("hub ")
    short = _hub("-h")
    assert short.returncode == 0
    assert "Usage" in short.stdout


def test_a_usage_error_exits_2() -> None:
    result = _hub("db", "nonsense")
    assert result.returncode == USAGE
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [("serve", "--port", "8799"), ("worker",), ("ingest",)])
def test_every_command_that_needs_the_store_exits_4_when_it_is_away(
    command: tuple[str, ...],
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = int(probe.getsockname()[1])
    env = {"HUB_DATABASE_URL": f"postgresql://ura@127.0.0.1:{closed}/ura"}
    result = _hub(*command, env=env)
    _one_line_error(result)
    assert result.returncode == STORE


def test_a_registry_that_is_down_is_failed_work_in_one_line(tmp_path: Path) -> None:
    env = {  # nothing listens on port 9
        "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        "HUB_EMIS__URL": "http://127.0.0.1:9",
        "HUB_EMIS__MAX_ATTEMPTS": "1",
    }
    result = _hub("registries", "read", env=env)
    line = _one_line_error(result)
    assert result.returncode == 1
    assert "emis" in line.lower()
    assert "cannot connect" in line
