"""Time the synthetic population generator.

    python bench/generate.py --persons 100000

prints ``generate: 100000 persons in 9.8 s (target 30 s) ratio 0.33``; the target is 30 s
per 100,000 persons and the ratio is seconds / target (below 1 is good).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fixtures.generate import generate_population

TARGET_SECONDS_PER_100K = 30.0


def main(argv: list[str] | None = None) -> int:
    """Generate into a temporary folder and print the timing line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    target = TARGET_SECONDS_PER_100K * args.persons / 100_000
    with tempfile.TemporaryDirectory(prefix="ura-bench-") as folder:
        start = time.perf_counter()
        generate_population(persons=args.persons, seed=args.seed, out=Path(folder))
        seconds = time.perf_counter() - start
    print(
        f"generate: {args.persons} persons in {seconds:.1f} s "
        f"(target {target:.0f} s) ratio {seconds / target:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
