"""``hub reconcile`` as an operator runs it: run, read the findings, apply one."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from hub.cli.main import app
from hub.reconcile.detectors import KINDS

runner = CliRunner()


def test_run_lists_findings_and_applies_one(store_url: str) -> None:
    env = {"HUB_DATABASE_URL": store_url, "HUB_LOG_FORMAT": "json"}
    dry = runner.invoke(app, ["reconcile", "run", "--dry-run", "--as-of", "2026-10-31"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "(counted, not stored)" in dry.output

    result = runner.invoke(app, ["reconcile", "run", "--as-of", "2026-10-31"], env=env)
    assert result.exit_code == 0, result.output
    assert all(kind in result.output for kind in KINDS)
    match = re.search(r"run (\d+): (\d+) findings", result.output)
    assert match is not None
    assert int(match[2]) > 0
    run_id = match[1]

    listed = runner.invoke(
        app, ["reconcile", "findings", run_id, "--kind", "dead_person_still_paid"], env=env
    )
    assert listed.exit_code == 0, listed.output
    assert "SAS RecordDeath" in listed.output
    assert "jobseeker_with_active_payroll" not in listed.output
    finding_id = re.findall(r"│ (\d+) +│ dead_person", listed.output)[0]

    applied = runner.invoke(app, ["reconcile", "apply", run_id, finding_id], env=env)
    assert applied.exit_code == 0, applied.output
    assert "SAS RecordDeath queued" in applied.output
    again = runner.invoke(app, ["reconcile", "apply", run_id, finding_id], env=env)
    assert again.exit_code == 1
    assert "already" in again.output or "applied" in again.output


def test_bad_input_is_refused_with_a_reason(store_url: str) -> None:
    env = {"HUB_DATABASE_URL": store_url, "HUB_LOG_FORMAT": "json"}
    bad_date = runner.invoke(app, ["reconcile", "run", "--as-of", "31.10.2026"], env=env)
    assert bad_date.exit_code == 2
    assert "YYYY-MM-DD" in bad_date.output
    missing = runner.invoke(app, ["reconcile", "findings", "404"], env=env)
    assert missing.exit_code == 1
    assert "no reconciliation run 404" in missing.output
