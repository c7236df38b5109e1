"""Ura: the interoperability hub for social-protection and employment registries."""

__version__ = "0.1.0"
