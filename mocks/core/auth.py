"""Credentials a simulated registry demands (HTTP basic or an API-key header)."""

from __future__ import annotations

import base64
import hmac
from typing import Literal

from pydantic import BaseModel


class AuthConfig(BaseModel):
    """The credential a registry accepts."""

    kind: Literal["basic", "api_key"]
    username: str = ""
    password: str = ""
    header: str = "X-API-Key"
    api_key: str = ""

    def accepts(self, headers: dict[str, str]) -> bool:
        """Whether the request headers (lower-case names) carry the right credential."""
        if self.kind == "api_key":
            return hmac.compare_digest(headers.get(self.header.lower(), ""), self.api_key)
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return hmac.compare_digest(headers.get("authorization", ""), f"Basic {expected}")
