"""Reconciliation over the API: start a run, follow it, read and apply its findings."""

from hub.api.reconciliations.views import router

__all__ = ["router"]
