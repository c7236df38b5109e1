"""The append-only, hash-chained audit log of every read and delivery of personal data."""
