"""schemathesis against a live hub: every operation of the hub's published contract
(contracts/hub-openapi.yaml), with every check schemathesis has, answers as the contract says.

The hub is served by uvicorn on loopback over a copy of the filled store, as ``hub serve``
serves it; the client holds every scope and acts for every office of the store, so that each
operation is reached past its authorisation. Examples per operation are bounded (and the
seed fixed) to stay within CI's time; set ``HUB_SCHEMATHESIS_EXAMPLES`` (and
``HUB_SCHEMATHESIS_SEED``) for a longer or another run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, union
from sqlmodel import Session, col

from hub.access.scopes import SCOPES
from hub.access.service import add_client
from hub.api import create_app
from hub.api.contract import CONTRACT_FILE
from hub.canonical import BenefitCase, Suspension
from hub.store.engine import make_engine, unit_of_work
from mocks.core.server import RunningRegistries, serve_app
from tests.api.conftest import api_store  # noqa: F401 (a fixture)
from tests.support.registries import fast_settings

EXAMPLES = int(os.environ.get("HUB_SCHEMATHESIS_EXAMPLES", "8"))
SEED = os.environ.get("HUB_SCHEMATHESIS_SEED", "16")
BUDGET_SECONDS = 240
CONFIG = Path(__file__).with_name("schemathesis.toml")
"""Where the hub's own rules answer 422 to a request the contract admits (see the file)."""


@pytest.fixture(scope="module")
def live(
    api_store: Path,  # noqa: F811
    registries: RunningRegistries,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str]]:
    """The hub's URL and a key holding every scope, for every office of the store.

    No job worker shares the process: the flows and runs schemathesis starts stay queued
    (their 202, 409 and job rows are what the contract describes), not ingested for real."""
    folder = tmp_path_factory.mktemp("schemathesis")
    path = folder / "hub.sqlite3"
    path.write_bytes(api_store.read_bytes())
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        offices = _offices(session)
        _client, key = add_client(
            session,
            name="schemathesis",
            scopes=list(SCOPES),
            offices=offices,
            rate_limit_per_minute=1_000_000,
        )
    settings = fast_settings(registries).model_copy(update={"database_url": url})
    try:
        with serve_app(create_app(settings)) as served:
            yield served, key
    finally:
        engine.dispose()


def _offices(session: Session) -> list[str]:
    codes = session.execute(
        union(
            select(col(Suspension.office_code)).where(col(Suspension.office_code).is_not(None)),
            select(col(BenefitCase.office_code)).where(col(BenefitCase.office_code).is_not(None)),
        )
    ).scalars()
    found = sorted(str(code) for code in codes if code)
    assert found, "the filled store has offices"
    return found


def test_the_live_hub_keeps_its_contract(live: tuple[str, str], tmp_path: Path) -> None:
    url, key = live
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        str(CONTRACT_FILE),
        "--url",
        url,
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        SEED,
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=BUDGET_SECONDS,
            cwd=tmp_path,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"schemathesis did not finish in {BUDGET_SECONDS} s:\n{error.stdout!r}")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "No issues found" in output or "0 failures" in output or "passed" in output, output
