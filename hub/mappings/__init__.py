"""Declarative mapping files (source fields to canonical ones) and code lists."""
