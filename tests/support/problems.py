"""Checking the hub API's problem+json answers as a caller would."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEMS = "https://ura.example/problems/"


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """An RFC 9457 problem with a stable type, the request id, and no stack trace."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    problem: dict[str, Any] = response.json()
    assert problem["type"] == PROBLEMS + slug
    assert problem["status"] == status
    assert problem["request_id"] == response.headers["x-request-id"]
    return problem
