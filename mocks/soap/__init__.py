"""SOAP plumbing shared by the SOAP registries (EMIS, SAS).

- :mod:`mocks.soap.faults` — the declared faults as exceptions;
- :mod:`mocks.soap.envelope` — safe parsing of requests, envelope and fault rendering;
- :mod:`mocks.soap.reader` — typed, validating access to a request's fields;
- :mod:`mocks.soap.records` — declarative record shapes rendered as XML;
- :mod:`mocks.soap.feed` — the ``GetChanges`` operation over a registry store;
- :mod:`mocks.soap.writes` — idempotent writes answered with an ``Acknowledgement``;
- :mod:`mocks.soap.state` — identifier sequences and tolerant store lookups;
- :mod:`mocks.soap.contract` — a published WSDL/XSD pair and its served form;
- :mod:`mocks.soap.service` — the HTTP endpoint: dispatch, ``?wsdl``, error rendering;
- :mod:`mocks.soap.app` — one registry's app assembled from its declaration;
- :mod:`mocks.soap.testing` — zeep and raw-XML helpers for tests over real HTTP.
"""
