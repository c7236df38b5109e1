"""``hub serve`` (HTTP API + scheduler + dispatcher) and ``hub worker`` (no HTTP)."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from hub.api import create_app
from hub.errors import HubError
from hub.log import get_logger
from hub.settings import Settings, get_settings
from hub.store.engine import make_engine
from hub.store.migrate import upgrade
from hub.sync.scheduler import HubScheduler

log = get_logger("cli")


def serve(
    host: Annotated[str, typer.Option("--host", help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
) -> None:
    """Serve the HTTP API, and run the scheduler and dispatcher, until interrupted."""
    settings, engine = _prepare()
    scheduler = _scheduler(engine, settings)
    # its lifespan starts and stops the scheduler
    app = create_app(settings, scheduler=scheduler, owns_process=True)
    log.info("serve_starting", host=host, port=port)
    # log_config=None: uvicorn keeps the logging the hub configured
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def worker() -> None:
    """Run the scheduler and dispatcher without HTTP until SIGINT or SIGTERM."""
    settings, engine = _prepare()
    scheduler = _scheduler(engine, settings)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("worker_stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    scheduler.start()
    log.info("worker_started")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        scheduler.shutdown(wait=True)  # running jobs finish; claims are settled or expire
    log.info("worker_stopped")


def _prepare() -> tuple[Settings, Engine]:
    settings = get_settings()
    try:
        engine = make_engine(settings.database_url)
        upgrade(engine)
    except HubError as error:
        Console(stderr=True).print(f"[red]cannot start:[/red] {error}")
        raise typer.Exit(1) from error
    except SQLAlchemyError as error:
        Console(stderr=True).print(
            f"[red]cannot start:[/red] the database cannot be reached ({type(error).__name__}); "
            "check HUB_DATABASE_URL and that the database server is up"
        )
        raise typer.Exit(1) from error
    return settings, engine


def _scheduler(engine: Engine, settings: Settings) -> HubScheduler:
    try:
        return HubScheduler(engine, settings)
    except HubError as error:
        Console(stderr=True).print(f"[red]cannot start:[/red] {error}")
        raise typer.Exit(1) from error
