"""The ``hub`` command line: thin adapters over the hub's services."""
