"""Kosovo's municipality codes and the names people write them with, for external lists.

The names come from the municipalities code list (hub/mappings/codelists).

A list may say ``01``, ``1``, ``Prishtinë``, ``Prishtina`` (the Albanian definite form),
``Priština`` or ``Приштина``: all are compared by :func:`~hub.identity.normalize.name_key`.
"""

from __future__ import annotations

from hub.identity.normalize import name_key
from hub.mappings.codelists import load_codelists


def _names() -> dict[str, str]:
    municipalities = load_codelists()["municipalities"]
    return {
        name_key(str(name)): code
        for code, entry in municipalities.codes.items()
        for name in (entry.label, entry.attribute("definite"), entry.attribute("serbian"))
    }


_BY_KEY: dict[str, str] = _names()
CODES: frozenset[str] = frozenset(_BY_KEY.values())
"""``01``..``38``."""


def municipality_code(text: str) -> str | None:
    """The code of a municipality given by code (``01`` or ``1``) or by name; None if unknown."""
    text = text.strip()
    if text.isdigit():
        code = text.zfill(2)
        return code if code in CODES else None
    return _BY_KEY.get(name_key(text))
