"""Prometheus metrics: what this process counts as it works, and what the store holds.

Two kinds, both in the text format ``GET /metrics`` serves (and ``hub worker
--metrics-port``):

- *process* metrics, counted where the work happens, cheaply: API requests by route
  template, status and client (the access-log middleware); audit entries committed per
  group (the audit recorder); registry calls' durations and errors by kind (the
  connectors' resilience layer); delivery durations per registry (the dispatcher);
  each registry's circuit breaker. A process reports its own: scrape every API and
  worker process.
- *store* metrics, read from the database at scrape time with one grouped query each:
  flow runs and the records they pulled, outbox messages by registry and state, jobs by
  kind and state. They are the same whichever process is scraped.

Labels never carry personal data: routes are templates, clients are API client names.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from hub.log import get_logger

log = get_logger("metrics")

PROCESS = CollectorRegistry(auto_describe=True)
"""This process's own metrics (plus the standard process, platform and GC collectors)."""

for _standard in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    PROCESS.register(_standard)

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

API_REQUESTS = Counter(
    "hub_api_requests",
    "API requests answered, by method, route template, status and API client",
    ["method", "route", "status", "client"],
    registry=PROCESS,
)
API_SECONDS = Histogram(
    "hub_api_request_seconds",
    "Time to answer an API request, by route template",
    ["route"],
    buckets=_SECONDS,
    registry=PROCESS,
)
AUDIT_GROUP = Histogram(
    "hub_audit_group_entries",
    "Audit entries committed in one transaction (reads answered together share one)",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
    registry=PROCESS,
)
REGISTRY_CALL_SECONDS = Histogram(
    "hub_registry_call_seconds",
    "Time of one call (one attempt) to a registry, by registry and operation",
    ["registry", "operation"],
    buckets=_SECONDS,
    registry=PROCESS,
)
REGISTRY_ERRORS = Counter(
    "hub_registry_errors",
    "Failed registry calls (attempts), by registry and kind: unavailable, rejected, "
    "contract_violation, circuit_open",
    ["registry", "kind"],
    registry=PROCESS,
)
DELIVERY_SECONDS = Histogram(
    "hub_delivery_seconds",
    "Time to deliver one outbox message to its registry, by registry and result",
    ["registry", "result"],
    buckets=_SECONDS,
    registry=PROCESS,
)


INGEST_RECORDS = Counter(
    "hub_ingest_records",
    "Records pulled from the registries' change feeds by this process, by registry and "
    "result: read, mapped, ignored, quarantined",
    ["registry", "result"],
    registry=PROCESS,
)


def count_ingested(reports: Iterable[Any]) -> None:
    """Count the records of finished ingestions (:class:`hub.ingest.run.IngestReport`)."""
    for report in reports:
        for result in ("read", "mapped", "ignored", "quarantined"):
            INGEST_RECORDS.labels(report.registry, result).inc(getattr(report, result))


_REQUEST_SERIES: dict[tuple[str, str, int, str | None], tuple[Any, Any]] = {}
"""The counter and histogram children of each (method, route, status, client) seen:
``labels()`` validates and locks on every call, several microseconds a request. Bounded
as the labels are (routes are templates, clients registered names); never cleared, as
the children live in the registry for the life of the process anyway."""


def observe_request(
    method: str | None, route: str, status: int, client: str | None, seconds: float
) -> None:
    """Count one answered API request (called by the access-log middleware)."""
    verb = method if method in _METHODS else "OTHER"  # a client chooses the method: bounded
    key = (verb, route, status, client)
    series = _REQUEST_SERIES.get(key)
    if series is None:
        series = (
            API_REQUESTS.labels(verb, route, str(status), client or ""),
            API_SECONDS.labels(route),
        )
        _REQUEST_SERIES[key] = series
    series[0].inc()
    series[1].observe(seconds)


def registry_error_kind(error: BaseException) -> str:
    """The kind label of a failed registry call."""
    from hub.errors import ContractViolation, RegistryRejected, RegistryUnavailable

    if isinstance(error, RegistryUnavailable):
        return "circuit_open" if error.code == "circuit_open" else "unavailable"
    if isinstance(error, RegistryRejected):
        return "rejected"
    if isinstance(error, ContractViolation):
        return "contract_violation"
    return "other"


class _Breakers(Collector):
    """Each registry's circuit breaker in this process: 1 for its current state."""

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        from hub.connectors.resilience import BreakerState, breaker_states
        from hub.settings import REGISTRY_NAMES

        family = self._family()
        states = breaker_states()
        for registry in REGISTRY_NAMES:
            current = states.get(registry, BreakerState.CLOSED)
            for state in BreakerState:
                family.add_metric([registry, str(state)], 1.0 if state == current else 0.0)
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "hub_breaker_state",
            "Circuit breaker of each registry in this process: 1 for its current state",
            labels=["registry", "state"],
        )


PROCESS.register(_Breakers())


class StoreMetrics(Collector):
    """What the store holds, read at scrape time: one grouped query per family."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterable[Metric]:
        started = time.perf_counter()
        try:
            families = list(self._families())
            up = 1.0
        except SQLAlchemyError as error:  # a scrape must answer while the store is away
            log.warning("metrics_store_unavailable", error=type(error).__name__)
            families, up = [], 0.0
        yield from families
        yield GaugeMetricFamily(
            "hub_store_up", "Whether the store answered this scrape's queries", value=up
        )
        yield GaugeMetricFamily(
            "hub_store_scrape_seconds",
            "Time the store's queries of this scrape took",
            value=time.perf_counter() - started,
        )

    def _families(self) -> Iterator[Metric]:
        from hub.jobs.models import Job
        from hub.sync.models import OutboxMessage, SyncRun

        running = and_(col(SyncRun.finished_at).is_(None), col(SyncRun.error).is_(None))
        with self.engine.connect() as connection:
            runs = connection.execute(
                select(
                    col(SyncRun.flow),
                    func.count(),
                    func.sum(_when(col(SyncRun.error).is_not(None))),
                    func.sum(_when(running)),
                    func.coalesce(func.sum(col(SyncRun.pulled)), 0),
                ).group_by(col(SyncRun.flow))
            ).all()
            messages = connection.execute(
                select(
                    col(OutboxMessage.target_registry), col(OutboxMessage.state), func.count()
                ).group_by(col(OutboxMessage.target_registry), col(OutboxMessage.state))
            ).all()
            jobs = connection.execute(
                select(col(Job.kind), col(Job.state), func.count()).group_by(
                    col(Job.kind), col(Job.state)
                )
            ).all()
        yield from _run_families(runs)
        outbox = GaugeMetricFamily(
            "hub_outbox_messages",
            "Outbox messages by target registry and state",
            labels=["registry", "state"],
        )
        for registry, state, count in messages:
            outbox.add_metric([registry, state], count)
        yield outbox
        queued = GaugeMetricFamily("hub_jobs", "Jobs by kind and state", labels=["kind", "state"])
        for kind, state, count in jobs:
            queued.add_metric([kind, state], count)
        yield queued


def _when(condition: Any) -> Any:
    return case((condition, 1), else_=0)


def _run_families(rows: Iterable[Any]) -> Iterator[Metric]:
    runs = CounterMetricFamily(
        "hub_flow_runs",
        "Sync flow runs by flow and outcome (done, failed, running)",
        labels=["flow", "outcome"],
    )
    pulled = CounterMetricFamily(
        "hub_flow_records_pulled",
        "Canonical records the flows' runs considered, by flow",
        labels=["flow"],
    )
    for flow, count, failed, running, considered in rows:
        failed, running = int(failed or 0), int(running or 0)
        runs.add_metric([flow, "done"], count - failed - running)
        runs.add_metric([flow, "failed"], failed)
        runs.add_metric([flow, "running"], running)
        pulled.add_metric([flow], int(considered))
    yield runs
    yield pulled


class _Forward(Collector):
    """Another registry's metrics, collected into this one."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        return self.source.collect()


def registry_for(engine: Engine) -> CollectorRegistry:
    """A registry of this process's metrics and the metrics of the store at ``engine``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Forward(PROCESS))
    registry.register(StoreMetrics(engine))
    return registry


def exposition(registry: CollectorRegistry, accept: str | None = None) -> tuple[bytes, str]:
    """The registry's metrics and their content type, in the format ``accept`` (an HTTP
    Accept header) asks for: the Prometheus text format 0.0.4 unless OpenMetrics is."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
