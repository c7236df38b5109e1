"""The sync flows: each derives, set-based, what its target registries must be told.

A flow reads the canonical store (filled by ingestion from its source), decides,
and returns outbox messages with deterministic idempotency keys; the runner
queues them in one transaction with the run's record and the flow's new marks.
A flow derives what changed since its marks (and what the passing of days made
due), never all of history again (:mod:`hub.sync.flows.changes`); the keys make
it safe to run again at any time: what was already decided is not queued twice,
and what a crashed run missed is still after its marks, decided next time.
"""

from hub.sync.flows.base import FlowResult, OutboxDraft
from hub.sync.flows.registry import FLOWS, FlowName

__all__ = ["FLOWS", "FlowName", "FlowResult", "OutboxDraft"]
