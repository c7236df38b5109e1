"""Entry point of the ``hub`` command."""

from __future__ import annotations

import typer

from hub.cli import (
    audit,
    clients,
    db,
    demo,
    fixtures,
    ingest,
    link,
    mocks,
    openapi,
    outbox,
    quarantine,
    reconcile,
    registries,
    report,
    review,
    serve,
    sync,
)
from hub.log import configure_logging
from hub.settings import get_settings

app = typer.Typer(
    name="hub",
    help="Ura — the registry interoperability hub.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(db.app, name="db")
app.add_typer(fixtures.app, name="fixtures")
app.add_typer(mocks.app, name="mocks")
app.add_typer(registries.app, name="registries")
app.add_typer(review.app, name="review")
app.add_typer(quarantine.app, name="quarantine")
app.add_typer(outbox.app, name="outbox")
app.add_typer(sync.app, name="sync")
app.add_typer(audit.app, name="audit")
app.add_typer(clients.app, name="clients")
app.add_typer(reconcile.app, name="reconcile")
app.add_typer(report.app, name="report")
app.command(name="demo")(demo.demo)
app.command(name="ingest")(ingest.ingest)
app.command(name="link")(link.link)
app.command(name="openapi")(openapi.openapi)
app.command(name="serve")(serve.serve)
app.command(name="worker")(serve.worker)


@app.callback()
def _configure() -> None:
    """Ura — the registry interoperability hub."""
    settings = get_settings()
    configure_logging(level=settings.log_level, fmt=settings.log_format)
