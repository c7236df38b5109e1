"""Simulated SAS (social assistance) behind its SOAP contract ``urn:rks:sas:v1``."""
