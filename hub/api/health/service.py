"""Readiness: the database is reachable and migrated; registries' breakers and the
scheduler are reported, but an open breaker does not make the hub unready (it still
answers from its own store, and deliveries wait in the outbox)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

import hub
from hub.api.health.models import DatabaseCheck, Readiness
from hub.connectors.resilience import BreakerState, breaker_states
from hub.settings import REGISTRY_NAMES
from hub.store.migrate import current_revision, head_revision
from hub.sync.scheduler import HubScheduler


def check_database(*, engine: Engine) -> DatabaseCheck:
    """Ask the database for its migration revision."""
    head = head_revision(engine)
    try:
        revision = current_revision(engine)
    except (SQLAlchemyError, OSError) as error:
        return DatabaseCheck(reachable=False, head=head, error=type(error).__name__)
    return DatabaseCheck(reachable=True, revision=revision, head=head)


def get_breakers() -> dict[str, str]:
    """Every registry's breaker state; a registry not called yet is closed."""
    states = breaker_states()
    return {name: str(states.get(name, BreakerState.CLOSED)) for name in REGISTRY_NAMES}


def get_readiness(*, engine: Engine, scheduler: HubScheduler | None) -> Readiness:
    """The readiness of this process."""
    database = check_database(engine=engine)
    ready = database.reachable and database.revision == database.head
    return Readiness(
        status="ready" if ready else "not-ready",
        version=hub.__version__,
        database=database,
        registries=get_breakers(),
        scheduler=scheduler.status() if scheduler is not None else None,
    )


def not_ready_detail(database: DatabaseCheck) -> str:
    """What an operator must do about a database that is not ready."""
    if not database.reachable:
        return (
            f"the database cannot be reached ({database.error}): check HUB_DATABASE_URL "
            "and that the database server is up"
        )
    return (
        f"the database is at revision {database.revision or '(empty)'} but this hub needs "
        f"{database.head}: run `hub db upgrade`"
    )
