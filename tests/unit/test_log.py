"""Logs are structured, JSON off a terminal, and never carry a personal number in clear."""

from __future__ import annotations

import io
import json

from hub.log import configure_logging, get_logger, pseudonym


def test_json_lines_off_a_terminal_with_personal_numbers_masked() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", fmt="auto", stream=stream)
    get_logger("test").info("lookup failed for 1234567897", personal_no="1234567897", count=3)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert "1234567897" not in stream.getvalue()
    assert line["personal_no"] == pseudonym("1234567897")
    assert line["event"] == f"lookup failed for {pseudonym('1234567897')}"
    assert line["count"] == 3
    assert line["level"] == "info"
    assert line["component"] == "test"


def test_pseudonyms_are_stable_and_distinct() -> None:
    assert pseudonym("1234567897") == pseudonym("1234567897")
    assert pseudonym("1234567897") != pseudonym("2234567896")
