"""Name keys: one key per name whatever the script or keyboard, different names apart."""

from __future__ import annotations

import pytest

from fixtures import names
from fixtures.transliteration import (
    albanian_to_serbian_latin,
    serbian_to_cyrillic,
    strip_diacritics,
)
from hub.identity.municipalities import municipality_code
from hub.identity.normalize import name_key, spelling_key
from hub.mappings.codelists import load_codelists

SAME = [
    ("Krasniqi", "Krasnići", "Krasnici", "Краснићи"),
    ("Hoxha", "Hodža", "Hodza", "Хоџа"),
    ("Gashi", "Гаши", "Gaši", "GASHI"),
    ("Thaçi", "Tači", "Thaci", "Тачи"),
    ("Gjergji", "Đerđi", "Djerdji", "Ђерђи"),
    ("Xhemajl", "Džemajl", "Dzemajl"),
    ("Zhuri", "Žuri", "Zuri"),
    ("Qëndrim", "Ćendrim", "Qendrim"),
    ("Dhurata", "Durata"),
    ("Lladrovci", "Ladrovci"),
    ("Rrustemi", "Rustemi"),
    ("Ylber", "Ilber"),
    ("Ljubica", "Љубица", "LJUBICA"),
    ("Njegoš", "Његош", "Njegos"),
    ("Džunić", "Џунић", "Dzunic"),
    ("Đorđević", "Ђорђевић", "Djordjevic"),
    ("Shkëlzen", "Škelzen", "Skelzen"),
    ("Fushë Kosovë", "fushe  kosove", "Fushë-Kosovë"),
    ("Gjergji", "Ѓерѓи", "Đerđi"),  # Macedonian Cyrillic: ѓ
    ("Maliqi", "Малиќи", "Malići"),  # Macedonian Cyrillic: ќ
    ("Xhemajl", "Џемајл"),  # џ in both alphabets
    ("Thaçi", "Thachi", "Thaci"),  # ç on an English keyboard
    ("Đorđe", "Djordje", "Dorde", "Ђорђе"),  # đ typed as dj or as d
    ("Ѕвездан", "Dzvezdan"),  # Macedonian ѕ
]

DIFFERENT = [
    ("Gashi", "Gjoshi"),
    ("Hoxha", "Hoti"),
    ("Krasniqi", "Kryeziu"),
    ("Arbër", "Arbëresha"),
    ("Jovanović", "Janković"),
    ("Liridon", "Liridona"),
]


@pytest.mark.parametrize("spellings", SAME, ids=lambda s: s[0])
def test_spellings_of_one_name_share_a_key(spellings: tuple[str, ...]) -> None:
    assert len({name_key(s) for s in spellings}) == 1, [name_key(s) for s in spellings]


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_names_keep_different_keys(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


def test_keys_are_plain_lower_case_ascii_letters() -> None:
    assert name_key("  Hajrullahu-Berisha  ") == "hajrulahu berisa"
    assert name_key("O'Neil 2nd") == "oneil nd"
    assert name_key("") == ""
    assert name_key(None) == ""


def test_every_generated_name_survives_every_registry_spelling() -> None:
    serbian = names.SERBIAN_MALE + names.SERBIAN_FEMALE + names.SERBIAN_SURNAMES
    albanian = names.ALBANIAN_MALE + names.ALBANIAN_FEMALE + names.ALBANIAN_SURNAMES
    for name in albanian + serbian:
        variants = {strip_diacritics(name), albanian_to_serbian_latin(name)}
        if name in serbian:
            variants.add(serbian_to_cyrillic(name))
        assert {name_key(v) for v in variants} == {name_key(name)}, name


@pytest.mark.parametrize(
    ("spelt", "same", "other"),
    [
        ("Thaçi", ("THACI", "Thaci"), "Thaqi"),
        ("Ymeri", ("YMERI",), "Imeri"),
        ("Đorđević", ("Djordjevic", "Ђорђевић"), "Dordevic"),
    ],
)
def test_spelling_keys_ignore_script_case_and_diacritics_but_not_orthography(
    spelt: str, same: tuple[str, ...], other: str
) -> None:
    assert {spelling_key(s) for s in same} == {spelling_key(spelt)}
    assert spelling_key(other) != spelling_key(spelt)
    assert name_key(other) == name_key(spelt)  # matching still folds them together


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("01", "01"),
        ("1", "01"),
        ("Prishtinë", "01"),
        ("Prishtina", "01"),
        ("PRISHTINE", "01"),
        ("Priština", "01"),
        ("Ђаковица", "05"),
        ("Mitrovica e Veriut", "38"),
        ("Kosovska Mitrovica", "07"),
        ("Južna Mitrovica", "07"),
        ("Juzna Mitrovica", "07"),
        ("Đeneral Janković", "28"),
        ("Deneral Jankovic", "28"),
        ("Dakovica", "05"),
        ("Djakovica", "05"),
        ("Gllogoc", "12"),
        ("39", None),
        ("Atlantis", None),
    ],
)
def test_municipality_by_code_or_name(text: str, code: str | None) -> None:
    assert municipality_code(text) == code


def test_every_municipality_name_maps_to_its_own_code() -> None:
    for code, entry in load_codelists()["municipalities"].codes.items():
        spellings = (entry.label, entry.attribute("definite"), entry.attribute("serbian"))
        assert {municipality_code(s) for s in spellings} == {code}
