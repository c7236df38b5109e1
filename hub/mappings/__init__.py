"""Declarative mapping files (source fields -> canonical) and code lists; see the connectors issue."""
