"""Logs are structured, JSON off a terminal, and never carry a personal number in clear:
not in strings, numbers, nested values, nor in the standard library's records."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from hub.api.request_id import new_prefix
from hub.log import configure_logging, get_logger, mask_value, pseudonym, set_pseudonym_key

PN = "1234567897"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Logging into a string for one test, then back to stderr."""
    out = io.StringIO()
    configure_logging(level="INFO", fmt="json", stream=out, pseudonym_key="test-key")
    yield out
    configure_logging(level="INFO", fmt="json")


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_off_a_terminal_with_personal_numbers_masked() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", fmt="auto", stream=stream)
    get_logger("test").info(f"lookup failed for {PN}", personal_no=PN, count=3)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert PN not in stream.getvalue()
    assert line["personal_no"] == pseudonym(PN)
    assert line["event"] == f"lookup failed for {pseudonym(PN)}"
    assert line["count"] == 3
    assert line["level"] == "info"
    assert line["component"] == "test"
    configure_logging(level="INFO", fmt="json")


def test_pseudonyms_are_stable_and_distinct() -> None:
    assert pseudonym(PN) == pseudonym(PN)
    assert pseudonym(PN) != pseudonym("2234567896")


def test_pseudonyms_are_keyed_not_a_bare_hash() -> None:
    set_pseudonym_key("first-key")
    first = pseudonym(PN)
    set_pseudonym_key("second-key")
    second = pseudonym(PN)
    assert first != second
    # hashing every candidate number without the key does not find it
    assert hashlib.sha256(PN.encode()).hexdigest()[:16] not in (first, second)
    set_pseudonym_key("first-key")
    assert pseudonym(PN) == first
    set_pseudonym_key(None)  # empty: the key stays
    assert pseudonym(PN) == first


def test_nested_values_are_masked() -> None:
    masked = mask_value(
        {"people": [PN, {"pn": int(PN)}, (PN,)], PN: {"deep": [[f"x {PN} y"]]}, "n": 7}
    )
    text = json.dumps(masked)
    assert PN not in text
    assert masked["people"][0] == pseudonym(PN)
    assert masked["people"][1] == {"pn": pseudonym(PN)}
    assert masked[pseudonym(PN)] == {"deep": [[f"x {pseudonym(PN)} y"]]}
    assert masked["n"] == 7


def test_nested_event_values_are_masked_in_the_log(stream: io.StringIO) -> None:
    get_logger("test").info("batch", persons=[PN, {"personal_no": int(PN)}], ok=True)
    assert PN not in stream.getvalue()
    line = _lines(stream)[-1]
    assert line["persons"] == [pseudonym(PN), {"personal_no": pseudonym(PN)}]
    assert line["ok"] is True


def test_stdlib_records_go_through_the_same_masking(stream: io.StringIO) -> None:
    logging.getLogger("sqlalchemy.engine").error("failed [parameters: (%r,)]", PN)
    try:
        raise RuntimeError(f"no such table for {PN}")
    except RuntimeError:
        logging.getLogger("alembic.runtime.migration").exception("migration failed")
    lines = _lines(stream)
    assert PN not in stream.getvalue()
    assert lines[-2]["logger"] == "sqlalchemy.engine"
    assert lines[-2]["event"] == f"failed [parameters: ('{pseudonym(PN)}',)]"
    assert lines[-2]["level"] == "error"
    assert pseudonym(PN) in lines[-1]["exception"]


def test_configuring_again_keeps_one_handler(stream: io.StringIO) -> None:
    configure_logging(level="INFO", fmt="json", stream=stream)
    logging.getLogger("uvicorn.error").warning("once")
    assert sum(1 for line in _lines(stream) if line["event"] == "once") == 1


def test_a_made_request_id_reads_the_same_in_the_logs(stream: io.StringIO) -> None:
    """A process whose random prefix held ten decimal digits in a row ("3e2790557300")
    logged its request ids pseudonymised: the id in the answer's header found no line."""
    draws = iter([bytes.fromhex("3e2790557300"), bytes.fromhex("3e27a0557300")])
    prefix = new_prefix(lambda size: next(draws))
    assert prefix == "3e27a0557300"
    request_id = f"{prefix}-1"
    get_logger("test").info("request", request_id=request_id)
    assert _lines(stream)[-1]["request_id"] == request_id
