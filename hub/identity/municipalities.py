"""Kosovo's municipality codes and the names people write them with, for external lists.

The names come from the municipalities code list (hub/mappings/codelists): the label, the
definite form, the Serbian name and the ``aliases`` (``Južna Mitrovica``, ``Đeneral
Janković`` ...).

A list may say ``01``, ``1``, ``Prishtinë``, ``Prishtina`` (the Albanian definite form),
``Priština``, ``Приштина`` or ``Dakovica`` (``đ`` typed as ``d``): all are compared by
:func:`~hub.identity.normalize.name_key`.
"""

from __future__ import annotations

from hub.identity.normalize import name_key
from hub.mappings.codelists import load_codelists


def _names() -> dict[str, str]:
    municipalities = load_codelists()["municipalities"]
    by_key: dict[str, str] = {}
    for code, entry in municipalities.codes.items():
        aliases = (entry.model_extra or {}).get("aliases", [])
        for name in (
            entry.label,
            entry.attribute("definite"),
            entry.attribute("serbian"),
            *aliases,
        ):
            key = name_key(str(name))
            if by_key.setdefault(key, code) != code:
                raise ValueError(f"municipality name {name!r} names both {by_key[key]} and {code}")
    return by_key


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
