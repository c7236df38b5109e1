"""Simulated registries (EMIS, SAS, TAK, CRA, CMS) that speak only their published contracts.

The mocks are separate systems: they never import :mod:`hub`.
"""
