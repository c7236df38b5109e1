"""Name keys for matching: one spelling per name, whatever script or keyboard wrote it.

``Krasniqi``, ``Krasnići`` and ``Krasnici`` share the key ``krasnici``; ``Gashi``,
``Гаши`` and ``Gaši`` share ``gasi``. The steps, in order:

1. NFC and lower case;
2. Serbian and Macedonian Cyrillic to Serbian Latin (``cyrtranslit``: ``љ њ џ ђ`` become
   ``lj nj dž đ``; Macedonian ``ќ ѓ ѕ`` become ``ć đ dz`` first);
3. Albanian orthography folded to its Serbian-Latin phonetic equivalent (table below);
   ``ch`` (``ç`` on an English keyboard) and Macedonian-Latin ``kj`` as well;
4. ``đ`` to ``dj`` (what a keyboard without diacritics types, and what ``anyascii`` would
   otherwise turn into a bare ``d``);
5. remaining diacritics folded with ``anyascii`` (``č ć`` to ``c``, ``š`` to ``s``, ``ž`` to
   ``z``, so ``dž`` becomes ``dz``);
6. hyphens to spaces, every other non-letter dropped, whitespace collapsed;
7. ``dj`` to ``d``: a keyboard without ``đ`` types ``Dakovica`` as often as ``Djakovica``.

The key is deliberately coarse; matching also compares :func:`spelling_key`, which keeps the
orthography (``Thaçi`` and ``Thaqi``, ``Imeri`` and ``Ymeri`` stay apart) and ignores only
script, case and diacritics, so an exact spelling counts more than a merely folded one.

Why the Albanian folding is safe: every folded letter or digraph (``xh zh sh gj dh th ll
rr ç q ë y x``) either never occurs in Serbian Latin or occurs only across a morpheme
boundary, which Kosovo's Serbian names do not have; so folding them can merge an Albanian
spelling with its Serbian rendering but never two different Serbian names. Digraphs are
replaced before single letters in one pass (``xh`` never becomes ``dzh``). Albanian ``c``,
``j``, ``nj`` and ``l`` already read as in Serbian and are left alone. What is *not* folded
is anything that changes the sound: ``Gashi`` and ``Gjoshi``, ``Hoxha`` and ``Hoti`` keep
different keys.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import cyrtranslit  # type: ignore[import-untyped]  # ships no type information
from anyascii import anyascii

_ALBANIAN_TO_SERBIAN: dict[str, str] = {
    "xh": "dž",
    "zh": "ž",
    "sh": "š",
    "gj": "đ",
    "dh": "d",
    "th": "t",
    "ll": "l",
    "rr": "r",
    "ç": "č",
    "q": "ć",
    "ë": "e",
    "y": "i",
    "x": "dz",
    "ch": "č",
    "kj": "ć",
}
_ALBANIAN = re.compile("|".join(sorted(_ALBANIAN_TO_SERBIAN, key=lambda k: (-len(k), k))))
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_MACEDONIAN = str.maketrans({"ќ": "ћ", "ѓ": "ђ", "ѕ": "дз"})
"""Macedonian letters to the Serbian Cyrillic ones ``cyrtranslit`` knows."""
_HYPHENS = re.compile(r"[-\u2010-\u2015_/]+")
_NON_LETTERS = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=65_536)
def name_key(text: str | None) -> str:
    """The matching key of a name or municipality; ``""`` for a missing or empty one."""
    if not text:
        return ""
    folded = _latin(text)
    folded = _ALBANIAN.sub(lambda match: _ALBANIAN_TO_SERBIAN[match.group()], folded)
    return _ascii(folded).replace("dj", "d")


@lru_cache(maxsize=65_536)
def spelling_key(text: str | None) -> str:
    """A name as spelt, whatever the script, case and diacritics; ``""`` if missing.

    ``Thaçi``, ``THACI`` and ``Thaci`` share ``thaci``; ``Thaqi`` keeps ``thaqi``.
    """
    if not text:
        return ""
    return _ascii(_latin(text))


def _latin(text: str) -> str:
    """NFC, lower case, Cyrillic (Serbian or Macedonian) as Serbian Latin."""
    folded = unicodedata.normalize("NFC", text).lower()
    if _CYRILLIC.search(folded):
        folded = str(cyrtranslit.to_latin(folded.translate(_MACEDONIAN), "sr"))
    return folded


def _ascii(text: str) -> str:
    """Diacritics folded (``đ`` as ``dj``), hyphens as spaces, other non-letters dropped."""
    folded = anyascii(text.replace("đ", "dj")).lower()
    folded = _NON_LETTERS.sub("", _HYPHENS.sub(" ", folded))
    return _SPACES.sub(" ", folded).strip()
