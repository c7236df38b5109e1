"""Sync flows, the transactional outbox and its dispatcher, the scheduler; see the sync issue."""
