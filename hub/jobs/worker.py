"""A worker: claims queued jobs one at a time and runs them; any number may run at once."""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta

from sqlalchemy import Engine

from hub.jobs import queue
from hub.jobs.execute import HEARTBEAT_SECONDS, execute
from hub.log import get_logger
from hub.settings import Settings

log = get_logger("jobs")

STALE_AFTER = timedelta(seconds=HEARTBEAT_SECONDS * 6)
"""A running job whose worker has not beaten for this long is taken to be orphaned."""


def worker_name(suffix: str = "") -> str:
    """This process's name as a claimer: host, pid, and a suffix per thread."""
    return f"{socket.gethostname()}:{os.getpid()}{':' + suffix if suffix else ''}"


class JobWorker:
    """A thread that claims and runs jobs until stopped."""

    def __init__(
        self, engine: Engine, settings: Settings, *, poll_seconds: float = 1.0, name: str = "jobs"
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.poll_seconds = poll_seconds
        self.name = worker_name(name)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start claiming jobs in a thread of this process."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()
        log.info("job_worker_started", worker=self.name)

    def stop(self, *, timeout: float | None = None) -> None:
        """Stop claiming; the running job, if any, finishes first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        log.info("job_worker_stopped", worker=self.name)

    def run_once(self) -> bool:
        """Requeue orphaned jobs, then claim and run one job; False when none was queued."""
        requeued = queue.requeue_stale(self.engine, older_than=STALE_AFTER)
        if requeued:
            log.warning("jobs_requeued", jobs=requeued)
        job = queue.claim(self.engine, worker=self.name)
        if job is None:
            return False
        execute(self.engine, self.settings, job, worker=self.name)
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception as error:  # a store that is away: try again later
                log.error("job_worker_error", worker=self.name, error=type(error).__name__)
                worked = False
            if not worked:
                self._stop.wait(self.poll_seconds)
