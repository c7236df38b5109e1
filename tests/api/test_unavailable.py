"""When the store or the audit log cannot serve a read, the caller gets a 503 to retry,
and no personal data leaves the hub unaudited."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from hub.api import create_app
from hub.audit.models import AuditEntry
from hub.settings import Settings
from mocks.core.server import RunningRegistries, serve_app
from tests.api.conftest import PERSON_ROUTES, running_hub
from tests.conftest import Population
from tests.support.problems import assert_problem
from tests.support.registries import first_record


def test_an_unreachable_store_answers_503_store_unavailable() -> None:
    settings = Settings(environment="test", database_url="postgresql://hub@127.0.0.1:1/nowhere")
    with (
        serve_app(create_app(settings)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        assert client.get("/healthz").status_code == 200  # the process is alive
        response = client.get(
            PERSON_ROUTES["sa-status:read"].format(personal_no="1234567897"),
            headers={"Authorization": "Bearer ura_" + "k" * 43},
        )
    problem = assert_problem(response, 503, "store-unavailable")
    assert "check HUB_DATABASE_URL" in problem["detail"]


def test_a_read_whose_audit_entry_cannot_be_written_is_refused_with_503(
    api_store: Path, registries: RunningRegistries, population: Population, tmp_path: Path
) -> None:
    personal_no = str(
        first_record(population.dir, "sas", "beneficiaries", having="case_no")["personal_no"]
    )
    path = PERSON_ROUTES["sa-status:read"].format(personal_no=personal_no)
    held, release = threading.Event(), threading.Event()
    # a short patience, for the test
    with running_hub(api_store, registries, tmp_path, audit_lock_wait_seconds=0.3) as hub:
        engine = hub.engine

        def hold_the_audit_log() -> None:  # as a long transaction of another process would
            with engine.connect() as connection:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                held.set()
                release.wait(30)
                connection.rollback()

        holder = threading.Thread(target=hold_the_audit_log)
        before = _audit_entries(engine)
        with hub.client(hub.new_key("sa-status:read")) as client:
            holder.start()
            assert held.wait(10)
            started = time.monotonic()
            refused = client.get(path)
            waited = time.monotonic() - started
            release.set()
            holder.join()
            answered = client.get(path)
        problem = assert_problem(refused, 503, "audit-unavailable")
        assert "locked by another writer for 0.3 s" in problem["detail"]
        assert personal_no not in refused.text
        assert 0.3 <= waited < 5  # its own patience, not the default ten seconds
        assert answered.status_code == 200
        assert _audit_entries(engine) == before + 1  # the answered read only


def _audit_entries(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one())
