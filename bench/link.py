"""Time linking an external list against the canonical persons, and raw pair scoring.

    python bench/link.py --persons 100000 --rows 100000

generates a population, loads its CRA persons into a temporary SQLite store, writes a list
of ``--rows`` rows (exact, with personal number, noisy, absent) and links it with the
service behind ``hub link``. Prints

    link: 100000 rows in 21.3 s (target 60 s) ratio 0.36
    score: 1,000,000 pairs in 0.8 s (1,250,000 pairs/s)

The target is 60 s per 100,000 rows; the ratio is seconds / target (below 1 is good).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sqlalchemy import insert

from fixtures.generate import generate_population
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
from hub.canonical import Person, PersonIdentifier
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.identity.linking import link_file
from hub.identity.records import Candidate, IdentityFrame, KnownPerson
from hub.identity.scoring import score_pairs
from hub.settings import Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade

TARGET_SECONDS_PER_100K = 60.0
SCORED_PAIRS = 1_000_000
_VARIANTS = (NO_DIACRITICS, SERBIAN_LATIN, TRANSPOSED, DAY_MONTH_SWAP, BIRTH_DATE_OFF_BY_ONE)
_NOW = datetime(2026, 10, 31, tzinfo=UTC)


def _persons(folder: Path) -> list[dict[str, Any]]:
    with (folder / "cra" / "persons.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def load_store(url: str, persons: list[dict[str, Any]]) -> None:
    """The CRA persons as golden records with their personal numbers, in two INSERTs."""
    engine = make_engine(url)
    upgrade(engine)
    stamps = {"created_at": _NOW, "updated_at": _NOW}
    with unit_of_work(engine) as session:
        connection = session.connection()
        connection.execute(
            insert(Person),
            [
                {
                    "id": i,
                    "first_name": p["first_name"],
                    "last_name": p["last_name"],
                    "birth_date": date.fromisoformat(p["birth_date"]),
                    "sex": p["sex"],
                    "municipality_code": p["municipality_code"],
                    **stamps,
                }
                for i, p in enumerate(persons, start=1)
            ],
        )
        connection.execute(
            insert(PersonIdentifier),
            [
                {
                    "person_id": i,
                    "scheme": PERSONAL_NO_SCHEME,
                    "value": p["personal_no"],
                    "source_registry": "cra",
                    "as_of": _NOW,
                    "recorded_at": _NOW,
                }
                for i, p in enumerate(persons, start=1)
            ],
        )
    engine.dispose()


def write_list(path: Path, persons: list[dict[str, Any]], rows: int, seed: int) -> list[str | None]:
    """60 % exact, 10 % with personal number, 20 % noisy, 10 % absent persons.

    Returns each row's true personal number (None for an absent person).
    """
    rng = random.Random(seed)
    lines = ["first_name,last_name,birth_date,municipality,personal_no"]
    truth: list[str | None] = []
    for n in range(rows):
        person = rng.choice(persons)
        first = cyrillic_to_serbian(person["first_name"])
        last = cyrillic_to_serbian(person["last_name"])
        identity = Identity(first, last, date.fromisoformat(person["birth_date"]).toordinal())
        kind = n % 10
        if kind in (7, 8):
            identity = apply_variant(identity, rng.choice(_VARIANTS), rng.choice((-1, 1)))
        if kind == 9:
            identity = Identity(f"Absent{n}", identity.last_name, identity.birth - 400)
        truth.append(None if kind == 9 else person["personal_no"])
        number = person["personal_no"] if kind == 6 else ""
        born = date.fromordinal(identity.birth).isoformat()
        lines.append(
            f"{identity.first_name},{identity.last_name},{born},"
            f"{person['municipality_code']},{number}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return truth


def accuracy(result: Path, truth: list[str | None]) -> str:
    """Precision of the links and recall over rows naming a registered person."""
    with result.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    links = [(r["personal_no"], truth[int(r["line"]) - 2]) for r in rows if r["decision"] == "link"]
    correct = sum(found == true for found, true in links)
    present = sum(true is not None for true in truth)
    return f"precision {correct / max(len(links), 1):.4f} recall {correct / max(present, 1):.4f}"


def time_link(url: str, source: Path, out: Path) -> tuple[float, str]:
    """Seconds to link the list as ``hub link`` does, and the counts."""
    engine = make_engine(url)
    start = time.perf_counter()
    with unit_of_work(engine) as session:
        report = link_file(session, source=source, out=out, settings=Settings())
    seconds = time.perf_counter() - start
    engine.dispose()
    counts = (
        f"{report.linked} linked, {report.review} review, {report.none} none, "
        f"{report.errors} errors"
    )
    return seconds, counts


def time_scoring(persons: list[dict[str, Any]], pairs: int, seed: int) -> float:
    """Seconds to score ``pairs`` random candidate/person pairs."""
    known = [
        KnownPerson(
            i,
            p["personal_no"],
            p["first_name"],
            p["last_name"],
            date.fromisoformat(p["birth_date"]),
            p["sex"],
            p["municipality_code"],
        )
        for i, p in enumerate(persons)
    ]
    frame = IdentityFrame.build(known)
    candidates = IdentityFrame.build(
        [Candidate(str(p.person_id), p.last_name, p.first_name, p.birth_date) for p in known]
    )
    rng = np.random.default_rng(seed)
    left = rng.integers(0, len(candidates), pairs)
    right = rng.integers(0, len(frame), pairs)
    start = time.perf_counter()
    score_pairs(candidates, frame, left, right)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Generate, load, link and score; print the two timing lines."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ura-bench-") as tmp:
        folder = Path(tmp)
        generate_population(persons=args.persons, seed=args.seed, out=folder / "population")
        persons = _persons(folder / "population")
        url = f"sqlite:///{folder / 'hub.sqlite3'}"
        load_store(url, persons)
        truth = write_list(folder / "list.csv", persons, args.rows, args.seed)
        seconds, counts = time_link(url, folder / "list.csv", folder / "result.csv")
        counts += "; " + accuracy(folder / "result.csv", truth)
    target = TARGET_SECONDS_PER_100K * max(args.rows, 1) / 100_000
    print(
        f"link: {args.rows} rows in {seconds:.1f} s (target {target:.0f} s) "
        f"ratio {seconds / target:.2f} ({counts})"
    )
    scoring = time_scoring(persons, SCORED_PAIRS, args.seed)
    print(
        f"score: {SCORED_PAIRS:,} pairs in {scoring:.1f} s ({SCORED_PAIRS / scoring:,.0f} pairs/s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
