"""Declarative record shapes: which record key fills which XML element, in contract order.

A registry declares each published type once (``RecordShape(NS, "caseNo", ...)``);
rendering walks that declaration with ``lxml.etree.SubElement`` only, so a page of
a thousand changes renders in milliseconds. ``None`` values are left out: every
optional element of the contracts is omitted rather than sent empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


def snake_case(tag: str) -> str:
    """The record key a contract element reads from by default (``cswOffice`` -> ``csw_office``)."""
    return _CAMEL_BOUNDARY.sub("_", tag).lower()


@dataclass(frozen=True)
class Field:
    """One element of a shape: its tag, the record key it reads, and how to nest."""

    tag: str
    key: str | None = None
    nested: RecordShape | None = None
    many: bool = False


class RecordShape:
    """An XML complex type of a contract, filled from a registry record (a dict)."""

    def __init__(self, namespace: str, *fields: str | Field) -> None:
        self.namespace = namespace
        self._fields: list[tuple[str, str, RecordShape | None, bool]] = []
        for item in fields:
            spec = Field(item) if isinstance(item, str) else item
            self._fields.append(
                (
                    f"{{{namespace}}}{spec.tag}",
                    spec.key or snake_case(spec.tag),
                    spec.nested,
                    spec.many,
                )
            )

    def render(self, parent: etree._Element, tag: str, record: Mapping[str, Any]) -> etree._Element:
        """Append ``<tag>`` (a local name in this shape's namespace) filled from ``record``."""
        element = etree.SubElement(parent, f"{{{self.namespace}}}{tag}")
        self.fill(element, record)
        return element

    def fill(self, element: etree._Element, record: Mapping[str, Any]) -> None:
        """Append this shape's elements to ``element``."""
        sub = etree.SubElement
        get = record.get
        for qname, key, nested, many in self._fields:
            value = get(key)
            if value is None:
                continue
            if nested is None and not many:  # the common case, kept tight: pages are hot
                sub(element, qname).text = value if type(value) is str else _lexical(value)
                continue
            for item in value if many else (value,):
                if nested is not None:
                    nested.fill(sub(element, qname), item)
                else:
                    sub(element, qname).text = _lexical(item)


def _lexical(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
