"""Persistence: engine and sessions, column types, Alembic migrations."""
