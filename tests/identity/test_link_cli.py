"""``hub link FILE.csv --out RESULT.csv`` as an operator runs it on an external list."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import col
from typer.testing import CliRunner

from fixtures.noise import (
    BIRTH_DATE_OFF_BY_ONE,
    DAY_MONTH_SWAP,
    NO_DIACRITICS,
    SERBIAN_LATIN,
    TRANSPOSED,
    Identity,
    apply_variant,
)
from fixtures.transliteration import cyrillic_to_serbian
from hub.audit.models import AuditEntry
from hub.canonical import PersonIdentifier
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.cli.main import app
from hub.mappings.codelists import load_codelists
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from tests.identity.support import load_population, read_jsonl

HEADER = "first_name,last_name,birth_date,municipality,personal_no"
runner = CliRunner()


@pytest.fixture(scope="module")
def database(
    tmp_path_factory: pytest.TempPathFactory, generated: tuple[Path, dict[str, Any]]
) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('link') / 'hub.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    load_population(engine, generated[0])
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def people(generated: tuple[Path, dict[str, Any]]) -> list[dict[str, Any]]:
    """Persons a list may name: alive, once in the registry, a birth day that can be swapped."""
    twice = {
        n
        for p in generated[1]["planted"]["person_with_two_personal_numbers"]
        for n in p["personal_nos"]
    }
    return [
        p
        for p in read_jsonl(generated[0] / "cra" / "persons.jsonl")
        if p["personal_no"] not in twice
        and int(p["birth_date"][8:]) < 12
        and p["status"] == "alive"
    ]


def _line(
    person: dict[str, Any], *variants: str, municipality: str | None = None, pn: str = ""
) -> str:
    first, last = (
        cyrillic_to_serbian(person["first_name"]),
        cyrillic_to_serbian(person["last_name"]),
    )
    noisy = Identity(first, last, date.fromisoformat(person["birth_date"]).toordinal())
    for variant in variants:
        noisy = apply_variant(noisy, variant)
    born = date.fromordinal(noisy.birth).isoformat()
    place = municipality or person["municipality_code"]
    return f"{noisy.first_name},{noisy.last_name},{born},{place},{pn}"


def _name(person: dict[str, Any]) -> str:
    """The municipality as a list would write it: ``Prishtina`` rather than ``01``."""
    entry = load_codelists()["municipalities"].codes[person["municipality_code"]]
    return str(entry.attribute("definite"))


def _run(tmp_path: Path, database: str, content: bytes) -> tuple[Any, dict[int, dict[str, str]]]:
    source, out = tmp_path / "list.csv", tmp_path / "result.csv"
    source.write_bytes(content)
    result = runner.invoke(
        app, ["link", str(source), "--out", str(out)], env={"HUB_DATABASE_URL": database}
    )
    if not out.exists():
        return result, {}
    with out.open(encoding="utf-8", newline="") as handle:
        return result, {int(row["line"]): row for row in csv.DictReader(handle)}


def test_an_external_list_is_linked_row_by_row(
    tmp_path: Path, database: str, people: list[dict[str, Any]]
) -> None:
    exact, numbered, noisy = people[:4], people[4:6], people[10:16]
    variants = [NO_DIACRITICS, SERBIAN_LATIN, TRANSPOSED, DAY_MONTH_SWAP, BIRTH_DATE_OFF_BY_ONE]
    lines = [
        HEADER,
        *(_line(p) for p in exact),  # lines 2-5
        *(_line(p, pn=p["personal_no"]) for p in numbered),  # 6-7
        *(_line(p, v) for p, v in zip(noisy, variants, strict=False)),  # 8-12
        _line(noisy[5], TRANSPOSED, BIRTH_DATE_OFF_BY_ONE, municipality=_name(noisy[5])),  # 13
        "Zamir,Qwertyuiop,1977-07-07,01,",  # 14: nobody
        "Arta,Xhymshiti,2001-02-30,02,",  # 15: impossible date
        "Arta,Xhymshiti,2001-02-03",  # 16: a column missing
        ",Krasniqi,1990-01-01,01,",  # 17: a value missing
        "Arta,Xhymshiti,2001-02-03,Atlantis,",  # 18: unknown municipality
    ]
    content = "\ufeff" + "\n".join(lines) + "\n"
    bad = b"Dren,Krasniq\xeb,1990-01-01,01,\n"  # 19: Latin-1, not UTF-8
    tail = _line(exact[0]) + "\n"  # 20: still linked after a bad line
    tail += '"Besa,Gashi,1990-01-01,01,\n'  # 21: a stray quote
    tail += _line(exact[1]) + "\n"  # 22: still linked after it
    result, rows = _run(tmp_path, database, content.encode() + bad + tail.encode())

    assert result.exit_code == 1, result.output  # some rows failed
    assert "21 rows" in result.output  # the header is not a row
    assert "thresholds from the model: link from p" in result.output
    assert "5 rows could not be linked" in result.output
    expected_numbers = {
        **{2 + i: p["personal_no"] for i, p in enumerate(exact)},
        **{6 + i: p["personal_no"] for i, p in enumerate(numbered)},
        **{8 + i: p["personal_no"] for i, p in enumerate(noisy[:5])},
        13: noisy[5]["personal_no"],
        20: exact[0]["personal_no"],
        22: exact[1]["personal_no"],
    }
    for line, number in expected_numbers.items():
        assert (rows[line]["decision"], rows[line]["personal_no"]) == ("link", number), line
        assert rows[line]["error"] == ""
    assert rows[6]["score"] == "1.000"
    assert rows[6]["input_personal_no"] == numbered[0]["personal_no"]
    assert "birth exact" in rows[2]["reasons"]
    assert (rows[14]["decision"], rows[14]["personal_no"], rows[14]["error"]) == ("none", "", "")
    assert (rows[18]["decision"], rows[18]["error"]) == ("none", "")
    assert rows[18]["warning"].startswith("line 18: municipality 'Atlantis' is not known")
    errors = {line: rows[line]["error"] for line in (15, 16, 17, 19, 21)}
    assert errors[15] == (
        "line 15: birth_date '2001-02-30' is not a valid date (YYYY-MM-DD or DD.MM.YYYY)"
    )
    assert errors[16] == "line 16: expected 5 columns, found 3"
    assert errors[17] == "line 17: missing first_name"
    assert errors[19] == "line 19: last_name is not valid UTF-8 text"
    assert errors[21].startswith("line 21: not CSV")
    assert all(rows[line]["decision"] == "none" for line in errors)
    assert list(next(iter(rows.values()))) == [
        "line", "first_name", "last_name", "birth_date", "municipality", "input_personal_no",
        "personal_no", "score", "decision", "reasons", "warning", "error",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "place",
    ["Južna Mitrovica", "Đeneral Janković", "Dakovica", "Deneral Jankovic", "Atlantis"],
)
def test_a_municipality_written_any_way_or_unknown_never_costs_the_row(
    tmp_path: Path, database: str, people: list[dict[str, Any]], place: str
) -> None:
    person = people[20]
    result, rows = _run(
        tmp_path, database, f"{HEADER}\n{_line(person, municipality=place)}\n".encode()
    )
    assert result.exit_code == 0, result.output
    assert (rows[2]["decision"], rows[2]["personal_no"]) == ("link", person["personal_no"])
    if place == "Atlantis":
        assert rows[2]["warning"] == (
            "line 2: municipality 'Atlantis' is not known; matched without it"
            " (use a code 01-38 or a municipality name)"
        )
        assert "municipality 'Atlantis'" in result.output
        assert "municipality missing" not in rows[2]["reasons"]  # neutral: not listed
    else:
        assert rows[2]["warning"] == ""


def test_the_output_path_is_checked_before_any_work(tmp_path: Path) -> None:
    source = tmp_path / "list.csv"
    source.write_text(HEADER + "\n")
    missing_store = tmp_path / "nowhere" / "hub.sqlite3"
    result = runner.invoke(
        app,
        ["link", str(source), "--out", str(tmp_path / "no-such-folder" / "result.csv")],
        env={"HUB_DATABASE_URL": f"sqlite:///{missing_store}"},
    )
    assert result.exit_code == 2
    assert "no folder" in result.output
    assert not missing_store.parent.exists()


def test_a_missing_store_is_refused_not_created(tmp_path: Path) -> None:
    source = tmp_path / "list.csv"
    source.write_text(HEADER + "\n")
    missing_store = tmp_path / "nowhere" / "hub.sqlite3"
    result = runner.invoke(
        app,
        ["link", str(source), "--out", str(tmp_path / "result.csv")],
        env={"HUB_DATABASE_URL": f"sqlite:///{missing_store}"},
    )
    assert result.exit_code == 4
    assert "no hub store at" in result.output
    assert not missing_store.exists()
    assert not missing_store.parent.exists()
    assert not (tmp_path / "result.csv").exists()


def test_a_missing_file_is_refused(tmp_path: Path, database: str) -> None:
    result = runner.invoke(
        app,
        ["link", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "out.csv")],
        env={"HUB_DATABASE_URL": database},
    )
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_a_header_without_required_columns_is_refused(tmp_path: Path, database: str) -> None:
    result, rows = _run(tmp_path, database, b"first_name,last_name,born\nA,B,2000-01-01\n")
    assert result.exit_code == 2
    assert "lacks birth_date, municipality" in result.output
    assert rows == {}


def test_every_person_the_result_file_names_is_audited(
    tmp_path: Path, database: str, people: list[dict[str, Any]]
) -> None:
    named = people[20:23]
    content = "\n".join([HEADER, *(_line(p) for p in named), "Zamir,Qwertyuiop,1977-07-07,01,"])
    engine = make_engine(database)
    before = _link_reads(engine)
    result, rows = _run(tmp_path, database, (content + "\n").encode())
    assert result.exit_code == 0, result.output
    written = {row["personal_no"] for row in rows.values() if row["personal_no"]}
    assert written == {p["personal_no"] for p in named}
    after = _link_reads(engine)
    audited = after[len(before) :]
    with unit_of_work(engine) as session:
        numbers = dict(
            session.execute(
                select(col(PersonIdentifier.person_id), col(PersonIdentifier.value)).where(
                    col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME
                )
            ).all()
        )
    assert sorted(numbers[entry.person_id] for entry in audited) == sorted(written)
    assert {(e.actor, e.purpose, e.target) for e in audited} == {("cli", "link", "hub link")}
    engine.dispose()


def _link_reads(engine: Engine) -> list[AuditEntry]:
    with unit_of_work(engine) as session:
        entries = list(
            session.execute(
                select(AuditEntry)
                .where(col(AuditEntry.purpose) == "link")
                .order_by(col(AuditEntry.id))
            ).scalars()
        )
        for entry in entries:
            session.expunge(entry)
        return entries
