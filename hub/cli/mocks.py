"""``hub mocks``: the simulated registries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mocks.__main__ import main as mocks_main

app = typer.Typer(help="Simulated registries.", no_args_is_help=True)


@app.command("serve")
def serve(
    data: Annotated[Path, typer.Option("--data", help="folder from `hub fixtures generate`")],
    port_base: Annotated[int, typer.Option("--port-base", help="EMIS on P ... CMS on P+4")] = 8100,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="accept requests without credentials")
    ] = False,
    faults: Annotated[
        str, typer.Option("--faults", help='JSON: {"sas": {"error_rate": 0.2}}')
    ] = "{}",
) -> None:
    """Serve EMIS, SAS, TAK, CRA and CMS on consecutive ports until interrupted."""
    argv = ["serve", "--data", str(data), "--port-base", str(port_base), "--host", host]
    argv += ["--faults", faults] + (["--no-auth"] if no_auth else [])
    raise typer.Exit(mocks_main(argv))
