"""``python -m mocks serve --data DIR --port-base P``: serve the five simulated registries."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mocks.core.faults import FaultConfig
from mocks.core.server import DEMO_AUTH, REGISTRIES, serve_all


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m mocks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve EMIS, SAS, TAK, CRA, CMS on port-base..+4")
    serve.add_argument(
        "--data", type=Path, required=True, help="folder from `hub fixtures generate`"
    )
    serve.add_argument("--port-base", type=int, default=8100)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--no-auth", action="store_true", help="accept requests without credentials")
    serve.add_argument(
        "--faults", default="{}", help='JSON {"sas": {"error_rate": 0.1}, ...} of FaultConfig'
    )
    args = parser.parse_args(argv)
    if not (args.data / "manifest.json").exists():
        print(
            f"error: {args.data} holds no generated population; "
            "run `hub fixtures generate --out DIR` first",
            file=sys.stderr,
        )
        return 2
    requested = json.loads(args.faults).items()
    faults = {name: FaultConfig.model_validate(cfg) for name, cfg in requested}
    unknown = set(faults) - set(REGISTRIES)
    if unknown:
        print(f"error: unknown registry in --faults: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    serve_all(
        args.data,
        port_base=args.port_base,
        host=args.host,
        faults=faults,
        auth=None if args.no_auth else DEMO_AUTH,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
