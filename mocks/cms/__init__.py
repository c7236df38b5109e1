"""CMS (reintegration case management) simulated REST registry."""
