"""Connectors: one module per registry over one shared resilient transport.

Above this package nothing imports an httpx or zeep exception: every foreign
error is translated into :mod:`hub.errors` here.
"""
