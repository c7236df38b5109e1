"""TAK (tax administration) simulated REST registry."""
