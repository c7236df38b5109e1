"""Machinery shared by every simulated registry: state, change feed, idempotency, faults, admin."""
