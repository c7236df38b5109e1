"""CRA (civil registration agency) simulated REST registry."""
