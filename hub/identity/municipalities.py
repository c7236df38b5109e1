"""Kosovo's municipality codes and the names people write them with, for external lists.

A list may say ``01``, ``1``, ``Prishtinë``, ``Prishtina`` (the Albanian definite form),
``Priština`` or ``Приштина``: all are compared by :func:`~hub.identity.normalize.name_key`.
"""

from __future__ import annotations

from hub.identity.normalize import name_key

MUNICIPALITY_NAMES: tuple[tuple[str, str, str, str], ...] = (
    ("01", "Prishtinë", "Prishtina", "Priština"),
    ("02", "Prizren", "Prizreni", "Prizren"),
    ("03", "Ferizaj", "Ferizaji", "Uroševac"),
    ("04", "Pejë", "Peja", "Peć"),
    ("05", "Gjakovë", "Gjakova", "Đakovica"),
    ("06", "Gjilan", "Gjilani", "Gnjilane"),
    ("07", "Mitrovicë", "Mitrovica", "Kosovska Mitrovica"),
    ("08", "Podujevë", "Podujeva", "Podujevo"),
    ("09", "Vushtrri", "Vushtrria", "Vučitrn"),
    ("10", "Suharekë", "Suhareka", "Suva Reka"),
    ("11", "Rahovec", "Rahoveci", "Orahovac"),
    ("12", "Drenas", "Drenasi", "Glogovac"),
    ("13", "Lipjan", "Lipjani", "Lipljan"),
    ("14", "Malishevë", "Malisheva", "Mališevo"),
    ("15", "Kamenicë", "Kamenica", "Kosovska Kamenica"),
    ("16", "Viti", "Vitia", "Vitina"),
    ("17", "Deçan", "Deçani", "Dečani"),
    ("18", "Istog", "Istogu", "Istok"),
    ("19", "Klinë", "Klina", "Klina"),
    ("20", "Skenderaj", "Skenderaji", "Srbica"),
    ("21", "Dragash", "Dragashi", "Dragaš"),
    ("22", "Fushë Kosovë", "Fushë Kosova", "Kosovo Polje"),
    ("23", "Kaçanik", "Kaçaniku", "Kačanik"),
    ("24", "Shtime", "Shtimja", "Štimlje"),
    ("25", "Obiliq", "Obiliqi", "Obilić"),
    ("26", "Leposaviq", "Leposaviqi", "Leposavić"),
    ("27", "Graçanicë", "Graçanica", "Gračanica"),
    ("28", "Han i Elezit", "Hani i Elezit", "Elez Han"),
    ("29", "Zveçan", "Zveçani", "Zvečan"),
    ("30", "Shtërpcë", "Shtërpca", "Štrpce"),
    ("31", "Junik", "Juniku", "Junik"),
    ("32", "Novobërdë", "Novobërda", "Novo Brdo"),
    ("33", "Zubin Potok", "Zubin Potoku", "Zubin Potok"),
    ("34", "Kllokot", "Kllokoti", "Klokot"),
    ("35", "Mamushë", "Mamusha", "Mamuša"),
    ("36", "Ranillug", "Ranillugu", "Ranilug"),
    ("37", "Partesh", "Parteshi", "Parteš"),
    ("38", "Mitrovicë e Veriut", "Mitrovica e Veriut", "Severna Mitrovica"),
)
"""``(code, Albanian name, its definite form, Serbian Latin name)``; Cyrillic is folded."""

_BY_KEY: dict[str, str] = {
    name_key(name): code for code, *names in MUNICIPALITY_NAMES for name in names
}
CODES: frozenset[str] = frozenset(code for code, *_ in MUNICIPALITY_NAMES)
"""``01``..``38``."""


def municipality_code(text: str) -> str | None:
    """The code of a municipality given by code (``01`` or ``1``) or by name; None if unknown."""
    text = text.strip()
    if text.isdigit():
        code = text.zfill(2)
        return code if code in CODES else None
    return _BY_KEY.get(name_key(text))
