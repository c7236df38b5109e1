"""Simulated EMIS (Employment Agency) behind its SOAP contract ``urn:rks:emis:v1``."""
