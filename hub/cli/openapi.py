"""``hub openapi``: print or write the API's OpenAPI document (the contract file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.api.contract import openapi_document, render


def openapi(
    out: Annotated[
        Path | None, typer.Option("--out", help="write here, e.g. contracts/hub-openapi.yaml")
    ] = None,
) -> None:
    """The HTTP API's OpenAPI 3.1 document, as YAML."""
    text = render(openapi_document())
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}")
