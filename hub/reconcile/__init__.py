"""Reconciliation runs: the registries compared through the canonical store, set-based."""
