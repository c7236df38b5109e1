"""Realistic noise for the external lists of ``bench/link.py``, independent of the linker.

Nothing here imports ``hub``: the spellings, transliterations, typos and municipality
names are this module's own, so the bench cannot flatter the linker by sharing its folding.

A *noisy* row suffers each kind of noise independently with its probability (the harder
setting doubles every one): the other community's spelling (Albanian ``Krasniqi`` as
Serbian ``Krasnići``, Serbian ``Nikolić`` as Albanian ``Nikoliq``), Cyrillic (Serbian or
Macedonian), diacritics stripped (``đ`` as ``dj`` or ``d``, ``ç`` as ``c`` or ``ch``), one or
two typing errors (also in short names), first and last names swapped, all capitals, a
blank or a wrong municipality, and at most one date error (a day off, day and month
exchanged, one year digit wrong). Municipalities are written as a list writes them: a
code, an Albanian or Serbian name, an older or official alias, with or without
diacritics.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from datetime import date
from functools import cache

from rapidfuzz.distance import OSA

from fixtures.municipalities import MUNICIPALITIES


@dataclass(frozen=True)
class Setting:
    """How often each kind of noise strikes a noisy row."""

    name: str
    exact_share: float
    other_spelling: float = 0.10
    cyrillic: float = 0.05
    stripped: float = 0.35
    typo: float = 0.15
    swapped_names: float = 0.04
    capitals: float = 0.08
    blank_municipality: float = 0.15
    wrong_municipality: float = 0.04
    day_off: float = 0.05
    day_month: float = 0.04
    year_digit: float = 0.03

    def doubled(self, name: str, exact_share: float) -> Setting:
        """Every noise twice as likely."""
        return replace(
            self,
            name=name,
            exact_share=exact_share,
            **{
                field: min(2 * getattr(self, field), 1.0)
                for field in (
                    "other_spelling", "cyrillic", "stripped", "typo", "swapped_names",
                    "capitals", "blank_municipality", "wrong_municipality", "day_off",
                    "day_month", "year_digit",
                )
            },
        )  # fmt: skip


MILD = Setting("mild", exact_share=0.30)
HARDER = MILD.doubled("harder", exact_share=0.10)


@dataclass(frozen=True)
class Row:
    """One identity as a list writes it."""

    first: str
    last: str
    birth: date
    municipality: str


# -- spellings ------------------------------------------------------------------------

_ALBANIAN_AS_SERBIAN = {
    "xh": "dž", "sh": "š", "zh": "ž", "gj": "đ", "dh": "d", "th": "t", "ll": "l", "rr": "r",
    "ç": "č", "q": "ć", "ë": "e", "y": "i", "x": "dz",
}  # fmt: skip
_SERBIAN_AS_ALBANIAN = {
    "dž": "xh", "š": "sh", "ž": "zh", "đ": "gj", "č": "ç", "ć": "q", "lj": "lj", "nj": "nj",
}  # fmt: skip


@cache
def _pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(sorted(keys, key=len, reverse=True)), re.IGNORECASE)


def _rewrite(text: str, table: dict[str, str]) -> str:
    pattern = _pattern(tuple(table))

    def swap(match: re.Match[str]) -> str:
        found = match.group()
        out = table[found.lower()]
        return out[:1].upper() + out[1:] if found[0].isupper() else out

    return pattern.sub(swap, text)


def other_spelling(text: str) -> str:
    """An Albanian name as a Serbian clerk spells it, or a Serbian one as an Albanian does."""
    if any(c in text.lower() for c in "čćšžđ"):
        return _rewrite(text, _SERBIAN_AS_ALBANIAN)
    return _rewrite(text, _ALBANIAN_AS_SERBIAN)


_STRIPPED = {"č": "c", "ć": "c", "š": "s", "ž": "z", "ë": "e", "ü": "u", "é": "e"}


def stripped(text: str, rng: random.Random) -> str:
    """Diacritics lost on a foreign keyboard: ``đ`` as ``dj`` or ``d``, ``ç`` as ``c``/``ch``."""
    d = rng.choice(("dj", "d"))
    c = rng.choice(("c", "c", "ch"))
    out = []
    for char in text:
        lower = char.lower()
        if lower == "đ":
            plain = d
        elif lower == "ç":
            plain = c
        else:
            plain = _STRIPPED.get(lower, lower)
        out.append(plain.capitalize() if char.isupper() else plain)
    return "".join(out)


_LATIN_TO_CYRILLIC = {
    "lj": "љ", "nj": "њ", "dž": "џ", "a": "а", "b": "б", "v": "в", "g": "г", "d": "д",
    "đ": "ђ", "e": "е", "ž": "ж", "z": "з", "i": "и", "j": "ј", "k": "к", "l": "л",
    "m": "м", "n": "н", "o": "о", "p": "п", "r": "р", "s": "с", "t": "т", "ć": "ћ",
    "u": "у", "f": "ф", "h": "х", "c": "ц", "č": "ч", "š": "ш",
}  # fmt: skip
_MACEDONIAN = {"ћ": "ќ", "ђ": "ѓ", "Ћ": "Ќ", "Ђ": "Ѓ", "дз": "ѕ", "Дз": "Ѕ"}


def cyrillic(text: str, macedonian: bool) -> str:
    """A name in Serbian (or Macedonian) Cyrillic, via its Serbian Latin spelling."""
    latin = text if any(c in text.lower() for c in "čćšžđ") else other_spelling(text)
    latin = latin.replace("ë", "e").replace("Ë", "E")
    out = _rewrite(latin, _LATIN_TO_CYRILLIC)
    if macedonian:
        for serbian, own in _MACEDONIAN.items():
            out = out.replace(serbian, own)
    return out


_CYRILLIC_TO_LATIN = {c: lat for lat, c in _LATIN_TO_CYRILLIC.items()}


def latin(text: str) -> str:
    """A Serbian Cyrillic name in Serbian Latin."""
    out = []
    for char in text:
        plain = _CYRILLIC_TO_LATIN.get(char.lower(), char.lower())
        out.append(plain.capitalize() if char.isupper() else plain)
    return "".join(out)


# -- typing errors ------------------------------------------------------------------------

_LATIN_LETTERS = "abcdefghijklmnoprstuvzëçšž"
_CYRILLIC_LETTERS = "абвгдежзијклмнопрстуфхцчш"


def typo(text: str, rng: random.Random) -> str:
    """One typing error: a letter wrong, missing, doubled or two letters exchanged."""
    if len(text) < 2:
        return text
    letters = _CYRILLIC_LETTERS if re.search("[\u0400-\u04ff]", text) else _LATIN_LETTERS
    at = rng.randrange(1, len(text)) if rng.random() < 0.8 else 0
    kind = rng.choice(("substitute", "delete", "insert", "transpose"))
    if kind == "substitute":
        new = rng.choice([c for c in letters if c != text[at].lower()])
        return text[:at] + (new.upper() if text[at].isupper() else new) + text[at + 1 :]
    if kind == "delete" and len(text) > 3:
        return text[:at] + text[at + 1 :]
    if kind == "transpose" and at + 1 < len(text):
        return text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    return text[:at] + rng.choice(letters) + text[at:]


# -- dates ------------------------------------------------------------------------------


def day_month_swapped(born: date) -> date | None:
    """Day and month exchanged, when that is another valid date."""
    if born.day > 12 or born.day == born.month:
        return None
    return date(born.year, born.day, born.month)


def year_digit(born: date, rng: random.Random) -> date:
    """One digit of the year wrong: mostly the last, sometimes the one before."""
    power = 1 if rng.random() < 0.7 else 10
    digit = (born.year // power) % 10
    new = rng.choice([d for d in range(10) if d != digit and abs(d - digit) <= 2])
    year = born.year + (new - digit) * power
    try:
        return born.replace(year=year)
    except ValueError:  # 29 February
        return born.replace(year=year, day=28)


# -- municipalities -------------------------------------------------------------------

_SERBIAN_NAMES = (
    "Priština", "Prizren", "Uroševac", "Peć", "Đakovica", "Gnjilane", "Kosovska Mitrovica",
    "Podujevo", "Vučitrn", "Suva Reka", "Orahovac", "Glogovac", "Lipljan", "Mališevo",
    "Kosovska Kamenica", "Vitina", "Dečani", "Istok", "Klina", "Srbica", "Dragaš",
    "Kosovo Polje", "Kačanik", "Štimlje", "Obilić", "Leposavić", "Gračanica", "Elez Han",
    "Zvečan", "Štrpce", "Junik", "Novo Brdo", "Zubin Potok", "Klokot", "Mamuša", "Ranilug",
    "Parteš", "Severna Mitrovica",
)  # fmt: skip
_ALIASES = {
    "07": ("Južna Mitrovica", "Mitrovica e Jugut"),
    "12": ("Gllogoc",),
    "28": ("Đeneral Janković",),
    "38": ("Mitrovica e Veriut",),
}
CODES = tuple(m.code for m in MUNICIPALITIES)


def municipality_text(code: str, rng: random.Random, noisy: bool) -> str:
    """How a list names a municipality: code, Albanian, Serbian or an alias."""
    index = int(code) - 1
    forms = [code, code.lstrip("0"), MUNICIPALITIES[index].name, _SERBIAN_NAMES[index]]
    forms += list(_ALIASES.get(code, ()))
    text = rng.choice(forms)
    if noisy and rng.random() < 0.4:
        text = stripped(text, rng)
    return text


# -- rows -----------------------------------------------------------------------------


def noisy_row(row: Row, code: str | None, setting: Setting, rng: random.Random) -> Row:
    """The row after the setting's noise (see the module docstring)."""
    first, last = latin(row.first), latin(row.last)
    if rng.random() < 0.5 and row.first != first:
        first, last = row.first, row.last  # registered in Cyrillic, kept so
    if rng.random() < setting.other_spelling:
        first, last = other_spelling(first), other_spelling(last)
    if rng.random() < setting.cyrillic:
        macedonian = rng.random() < 0.3
        first, last = cyrillic(first, macedonian), cyrillic(last, macedonian)
    elif rng.random() < setting.stripped:
        first, last = stripped(first, rng), stripped(last, rng)
    if rng.random() < setting.typo:
        which = rng.random()
        edits = 2 if rng.random() < 0.25 else 1
        for _ in range(edits):
            if which < 0.6:
                first = typo(first, rng)
            if which >= 0.45:
                last = typo(last, rng)
    if rng.random() < setting.capitals:
        first, last = first.upper(), last.upper()
    if rng.random() < setting.swapped_names:
        first, last = last, first
    return Row(first, last, _noisy_date(row.birth, setting, rng), _municipality(code, setting, rng))


def _noisy_date(born: date, setting: Setting, rng: random.Random) -> date:
    draw = rng.random()
    if draw < setting.day_off:
        return date.fromordinal(born.toordinal() + rng.choice((-1, 1)))
    draw -= setting.day_off
    if draw < setting.day_month:
        return day_month_swapped(born) or born
    draw -= setting.day_month
    if draw < setting.year_digit:
        return year_digit(born, rng)
    return born


def _municipality(code: str | None, setting: Setting, rng: random.Random) -> str:
    draw = rng.random()
    if code is None or draw < setting.blank_municipality:
        return ""
    if draw < setting.blank_municipality + setting.wrong_municipality:
        code = rng.choice([c for c in CODES if c != code])
    return municipality_text(code, rng, noisy=True)


def exact_row(row: Row, code: str | None, rng: random.Random) -> Row:
    """The identity as registered, the municipality as a list names it."""
    return replace(row, municipality=municipality_text(code, rng, noisy=False) if code else "")


# -- telling persons apart -------------------------------------------------------------


@cache
def fold(text: str) -> str:
    """A coarse comparison key of this module's own: Latin, no diacritics, lower case."""
    plain = stripped(_rewrite(latin(text), _ALBANIAN_AS_SERBIAN), random.Random(0))
    return re.sub("[^a-z]", "", plain.lower().replace("dj", "d").replace("ch", "c"))


def distance(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment)."""
    return int(OSA.distance(a, b))


def dates_within_noise(born: date) -> list[date]:
    """The dates the date noise can make of ``born`` (and ``born`` itself)."""
    near = [born, date.fromordinal(born.toordinal() - 1), date.fromordinal(born.toordinal() + 1)]
    swapped = day_month_swapped(born)
    if swapped is not None:
        near.append(swapped)
    for power in (1, 10):
        digit = (born.year // power) % 10
        for new in range(10):
            if new != digit:
                try:
                    near.append(born.replace(year=born.year + (new - digit) * power))
                except ValueError:
                    continue
    return near
