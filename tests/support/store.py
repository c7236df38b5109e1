"""A canonical store filled from the mock registries, for tests that read or reconcile it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import col

from hub.canonical import Suspension
from hub.decisions.service import confirm
from hub.ingest.pipeline import ingest_all
from hub.policy.activation import add_months
from hub.settings import Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.sync.runner import decide_flow
from mocks.core.server import RunningRegistries
from tests.support.registries import fast_settings


def fill_store(url: str, registries: RunningRegistries, as_of: date) -> Engine:
    """Ingest every registry into the store at ``url``, let the hub propose suspensions, and
    confirm each proposal as its CSW would (from the day after the last refusal).

    The confirmed suspensions' deliveries are queued, and nobody dispatches them: SAS never
    applies them, as in the data.
    """
    engine = make_engine(url)
    upgrade(engine)
    settings: Settings = fast_settings(registries).model_copy(update={"policy_profile": "XK"})
    assert ingest_all(engine, settings).ok
    decide_flow(engine, settings, "suspensions", as_of=as_of)
    confirm_every_proposal(engine)
    return engine


def confirm_every_proposal(engine: Engine) -> None:
    """Confirm each open proposal as its CSW would, from the proposed day."""
    with unit_of_work(engine) as session:
        proposals = session.execute(
            select(Suspension).where(col(Suspension.status) == "proposed")
        ).scalars()
        for proposal in proposals:
            # for the longest the profile allows: every planted refusal falls in the last
            # 330 days, so each suspension is still running on the data's reference day
            longest = proposal.evidence["policy"]["suspension_months_bounds"][1]
            confirm(
                session,
                proposal,
                actor="csw-test",
                starts_on=proposal.suspended_from,
                ends_on=add_months(proposal.suspended_from, longest) - timedelta(days=1),
                reason="no strong reason for the refusals",
            )


def filled_template(
    registries: RunningRegistries, as_of: date, folder: Path, name: str = "template.sqlite3"
) -> Path:
    """A SQLite file filled by :func:`fill_store`, checkpointed so that it can be copied."""
    path = folder / name
    engine = fill_store(f"sqlite:///{path}", registries, as_of)
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path
