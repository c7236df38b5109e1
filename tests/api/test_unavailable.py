"""When the store or the audit log cannot serve a read, the caller gets a 503 to retry,
and no personal data leaves the hub unaudited."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from hub.api import create_app
from hub.audit.models import AuditEntry
from hub.audit.recorder import AuditRecorder
from hub.settings import Settings
from hub.store.engine import make_engine
from mocks.core.server import RunningRegistries, serve_app
from tests.api.conftest import _key_maker
from tests.conftest import Population
from tests.support.problems import assert_problem
from tests.support.registries import fast_settings, first_record

SA_ROUTE = "/v1/persons/{}/social-assistance"


def test_an_unreachable_store_answers_503_store_unavailable() -> None:
    settings = Settings(environment="test", database_url="postgresql://hub@127.0.0.1:1/nowhere")
    with (
        serve_app(create_app(settings)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        assert client.get("/healthz").status_code == 200  # the process is alive
        response = client.get(
            SA_ROUTE.format("1234567897"), headers={"Authorization": "Bearer ura_" + "k" * 43}
        )
    problem = assert_problem(response, 503, "store-unavailable")
    assert "check HUB_DATABASE_URL" in problem["detail"]


def test_a_read_whose_audit_entry_cannot_be_written_is_refused_with_503(
    api_store: Path, registries: RunningRegistries, population: Population, tmp_path: Path
) -> None:
    path = tmp_path / "hub.sqlite3"
    shutil.copyfile(api_store, path)
    settings = fast_settings(registries).model_copy(update={"database_url": f"sqlite:///{path}"})
    engine = make_engine(settings.database_url)
    key = _key_maker(engine)("sa-status:read")
    personal_no = str(
        first_record(population.dir, "sas", "beneficiaries", having="case_no")["personal_no"]
    )
    app = create_app(settings)
    app.state.audit = AuditRecorder(engine, lock_wait=0.3)  # a short patience, for the test
    held, release = threading.Event(), threading.Event()

    def hold_the_audit_log() -> None:  # as a long transaction of another process would
        with engine.connect() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            held.set()
            release.wait(30)
            connection.rollback()

    holder = threading.Thread(target=hold_the_audit_log)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        with engine.connect() as connection:
            before = connection.execute(select(func.count()).select_from(AuditEntry)).scalar()
        holder.start()
        assert held.wait(10)
        started = time.monotonic()
        refused = client.get(SA_ROUTE.format(personal_no))
        waited = time.monotonic() - started
        release.set()
        holder.join()
        answered = client.get(SA_ROUTE.format(personal_no))
    problem = assert_problem(refused, 503, "audit-unavailable")
    assert "locked by another writer" in problem["detail"]
    assert personal_no not in refused.text
    assert 0.3 <= waited < 5  # its own patience, not the default ten seconds
    assert answered.status_code == 200
    with engine.connect() as connection:
        after = connection.execute(select(func.count()).select_from(AuditEntry)).scalar()
    assert after == before + 1  # the answered read only
    engine.dispose()
