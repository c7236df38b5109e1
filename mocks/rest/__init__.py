"""REST plumbing shared by the JSON registries (TAK, CRA, CMS).

- :mod:`mocks.rest.problems` — RFC 9457 problem+json errors and their handlers;
- :mod:`mocks.rest.types` — field types and base models the contracts share;
- :mod:`mocks.rest.feed` — opaque cursors and the ``GET /v1/changes`` factory;
- :mod:`mocks.rest.writes` — ``Idempotency-Key`` handling over the ledger;
- :mod:`mocks.rest.app` — assembling one registry's app from its declaration;
"""
