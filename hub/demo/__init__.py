"""``hub demo``: a population, the five mock registries, and the hub run against them."""
