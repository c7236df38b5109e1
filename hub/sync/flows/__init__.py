"""The sync flows: each derives, set-based, what its target registries must be told.

A flow reads the canonical store (filled by ingestion from its source), decides,
and returns outbox messages with deterministic idempotency keys; the runner
queues them in one transaction with the run's record. Deriving from the whole
state, keyed, makes a flow safe to run again at any time: what was already
decided is not queued twice, and what a crashed run missed is decided now.
"""

from hub.sync.flows.base import FlowResult, OutboxDraft
from hub.sync.flows.registry import FLOWS, FlowName

__all__ = ["FLOWS", "FlowName", "FlowResult", "OutboxDraft"]
