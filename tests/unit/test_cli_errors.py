"""The ``hub`` command's error boundary: one line, one exit code from one table."""

from __future__ import annotations

import errno
import json
import subprocess
import sys

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from typer.testing import CliRunner

import hub
from hub.cli import errors
from hub.cli.main import COMMANDS, app, load_command
from hub.errors import (
    ConfigurationError,
    InvalidInput,
    NotFound,
    RegistryUnavailable,
    StoreUnavailable,
)
from hub.log import pseudonym
from hub.settings import Settings

runner = CliRunner()


def _explained(error: BaseException) -> errors.Explained:
    explained = errors.explain(error)
    assert explained is not None
    return explained


def test_hub_errors_map_to_the_exit_code_table() -> None:
    assert _explained(InvalidInput("bad", field="x")).exit_code == errors.EXIT_USAGE
    assert _explained(ConfigurationError("bad")).exit_code == errors.EXIT_CONFIGURATION
    assert _explained(StoreUnavailable("down")).exit_code == errors.EXIT_STORE
    assert _explained(NotFound("none")).exit_code == errors.EXIT_FAILED
    unavailable = RegistryUnavailable("timed out", registry="sas", operation="GetChanges")
    assert _explained(unavailable) == errors.Explained(
        "sas.GetChanges: timed out", errors.EXIT_FAILED
    )


def test_a_settings_error_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_AUDIT_LOCK_WAIT_SECONDS", "soon")
    with pytest.raises(ValidationError) as raised:
        Settings()
    explained = _explained(raised.value)
    assert explained.exit_code == errors.EXIT_CONFIGURATION
    assert explained.message.startswith("configuration: HUB_AUDIT_LOCK_WAIT_SECONDS:")


@pytest.mark.parametrize(
    "name", ["HUB_IDENTITY__LINK_THRESHOLD", "HUB_OUTBOX__BATCHSIZE", "HUB_SAS__PASSWRD"]
)
def test_a_variable_that_names_no_setting_of_its_group_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A misspelt or retired setting would otherwise change nothing, and nobody would know."""
    monkeypatch.setenv(name, "0.9")
    with pytest.raises(ValidationError) as raised:
        Settings()
    explained = _explained(raised.value)
    assert explained.exit_code == errors.EXIT_CONFIGURATION
    assert explained.message.startswith(f"configuration: {name}: not a setting of the hub")


def test_database_url_errors_are_configuration() -> None:
    with pytest.raises(ArgumentError) as bad_url:
        make_url("notaurl")
    with pytest.raises(NoSuchModuleError) as no_driver:
        create_engine("nosuchdb://u@h/db")
    for error in (bad_url.value, no_driver.value):
        explained = _explained(error)
        assert explained.exit_code == errors.EXIT_CONFIGURATION
        assert "HUB_DATABASE_URL" in explained.message


def test_an_unreachable_or_unmigrated_store_is_exit_4() -> None:
    refused = OperationalError("SELECT 1", {}, Exception("connection refused\ndetail"))
    missing = OperationalError(
        "SELECT * FROM person WHERE personal_no = ?", ("1234567897",), Exception("no such table")
    )
    assert _explained(refused).exit_code == errors.EXIT_STORE
    assert "connection refused" in _explained(refused).message
    assert "hub db upgrade" in _explained(missing).message
    assert "1234567897" not in _explained(missing).message


def test_os_errors_say_what_to_do() -> None:
    in_use = _explained(OSError(errno.EADDRINUSE, "address already in use", "127.0.0.1:8000"))
    assert in_use.exit_code == errors.EXIT_CONFIGURATION
    assert "another port" in in_use.message
    denied = _explained(PermissionError(errno.EACCES, "Permission denied", "/root/x"))
    assert denied.exit_code == errors.EXIT_FAILED
    assert "/root/x" in denied.message


def test_malformed_json_is_a_usage_error() -> None:
    with pytest.raises(json.JSONDecodeError) as raised:
        json.loads("{bad")
    assert _explained(raised.value).exit_code == errors.EXIT_USAGE


def test_an_unexpected_error_is_reported_as_a_bug_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert errors.explain(TypeError("x")) is None
    assert errors.report(TypeError("no 1234567897 here\nsecond line")) == errors.EXIT_FAILED
    printed = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert printed == [
        f"error: unexpected TypeError: no {pseudonym('1234567897')} here "
        "(a bug: report it with the log above)"
    ]


def test_the_printed_line_is_one_line_and_masked() -> None:
    assert errors.one_line("a\n  b 1234567897\tc") == f"a b {pseudonym('1234567897')} c"
    assert len(errors.one_line("x" * 5000)) == 400


def test_version_and_short_help() -> None:
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0
    assert version.output.strip() == f"hub {hub.__version__}"
    short = runner.invoke(app, ["-h"])
    assert short.exit_code == 0
    assert "Usage" in short.output
    assert runner.invoke(app, ["db", "-h"]).exit_code == 0


def test_the_boundary_turns_a_settings_error_into_one_line() -> None:
    result = runner.invoke(app, ["db", "current"], env={"HUB_LOG_FORMAT": "xml"})
    assert result.exit_code == errors.EXIT_CONFIGURATION
    assert result.output.strip().startswith("error: configuration: HUB_LOG_FORMAT:")


def test_the_help_table_matches_each_command() -> None:
    for name, (target, short_help) in COMMANDS.items():
        command = load_command(name, target)
        assert command.name == name
        assert (command.help or "").strip().splitlines()[0] == short_help, name


def test_help_loads_no_command_module() -> None:
    code = (
        "import sys\n"
        "from hub.cli.main import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'fastapi', 'zeep', 'matplotlib', 'sqlalchemy', 'pydantic', 'mocks'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
