"""Reading the registries' change feeds (and, from the connectors issue on, ingesting them)."""
