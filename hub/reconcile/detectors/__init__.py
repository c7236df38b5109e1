"""The finding kinds: one module per kind, each one set-based query over the canonical store.

:data:`DETECTORS` lists them in the order a run executes them (and reports progress).
"""

from __future__ import annotations

from hub.reconcile.detectors import (
    certificates,
    deaths,
    duplicates,
    payroll,
    returnees,
    suspensions,
)
from hub.reconcile.detectors.base import Detector, FindingDraft

DETECTORS: dict[str, Detector] = {
    payroll.KIND: payroll.detect,
    deaths.KIND: deaths.detect,
    certificates.KIND: certificates.detect,
    suspensions.KIND: suspensions.detect,
    returnees.KIND: returnees.detect,
    duplicates.KIND: duplicates.detect,
}
"""Finding kind -> its detector."""

KINDS: tuple[str, ...] = tuple(DETECTORS)

__all__ = ["DETECTORS", "KINDS", "Detector", "FindingDraft"]
