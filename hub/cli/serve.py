"""``hub serve`` (HTTP API + scheduler + dispatcher + a job worker: the all-in-one) and
``hub worker`` (scheduler + dispatcher + job worker, no HTTP; run as many as needed).

In production the API runs alone (``uvicorn --factory hub.api.main:app_from_environment``)
and queues jobs; ``hub worker`` processes run them."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer
import uvicorn
from sqlalchemy import Engine

from hub.api import create_app
from hub.jobs.worker import JobWorker
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
    """Serve the HTTP API with the scheduler, dispatcher and a job worker, until interrupted."""
    settings, engine = _prepare()
    scheduler = _scheduler(engine, settings)
    # its lifespan starts and stops the scheduler
    jobs = JobWorker(engine, settings)
    app = create_app(settings, scheduler=scheduler, jobs=jobs, owns_process=True)
    log.info("serve_starting", host=host, port=port)
    # log_config=None: uvicorn keeps the logging the hub configured
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def worker(
    metrics_port: Annotated[
        int,
        typer.Option(
            "--metrics-port", min=0, max=65535, help="serve GET /metrics on this port (0: off)"
        ),
    ] = 0,
    metrics_host: Annotated[
        str, typer.Option("--metrics-host", help="interface of --metrics-port")
    ] = "127.0.0.1",
) -> None:
    """Run the scheduler, dispatcher and a job worker without HTTP until SIGINT or SIGTERM."""
    settings, engine = _prepare()
    if metrics_port:
        _serve_metrics(engine, metrics_host, metrics_port)
    scheduler = _scheduler(engine, settings)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("worker_stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    jobs = JobWorker(engine, settings)
    scheduler.start()
    jobs.start()
    log.info("worker_started")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        jobs.stop()  # the running job finishes; a killed worker's job is requeued by another
        scheduler.shutdown(wait=True)  # running jobs finish; claims are settled or expire
    log.info("worker_stopped")


def _serve_metrics(engine: Engine, host: str, port: int) -> None:
    """This worker's metrics (and the store's) at http://host:port/metrics, in a daemon
    thread that ends with the process."""
    from prometheus_client import start_http_server

    from hub.metrics import registry_for

    start_http_server(port, addr=host, registry=registry_for(engine))
    log.info("worker_metrics", host=host, port=port)


def _prepare() -> tuple[Settings, Engine]:
    """Settings and a migrated store; a store that cannot be reached (4) or a setting that is
    wrong (3) ends through the CLI's error boundary with its one line and exit code."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return settings, engine


def _scheduler(engine: Engine, settings: Settings) -> HubScheduler:
    return HubScheduler(engine, settings)
