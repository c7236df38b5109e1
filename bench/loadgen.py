"""A closed-loop HTTP/1.1 load generator: N keep-alive connections, each sending its next
request as soon as the previous answer is read, for a fixed time.

    python bench/loadgen.py --port P --paths FILE [--header 'Name: value'] \
        [--concurrency 64] [--warmup 2] [--seconds 10] [--latencies FILE]

Prints one JSON line: requests, errors (non-2xx or broken connections), rps, p50_ms,
p99_ms; with ``--latencies``, writes every answered request's latency (ms, one a line)
there too, for a caller that pools several runs. It speaks HTTP over raw asyncio streams
instead of httpx on purpose: on a 2-core machine the generator shares the CPU with the
server, and httpx spends several times more CPU per request, which would measure the
client rather than the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

CONNECT_GAP = 0.005
"""Seconds between opening two connections."""


@dataclass
class Tally:
    """What one run measured."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    streams: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    requests: list[bytes],
    offset: int,
    tally: Tally,
    start: float,
    stop: float,
) -> None:
    reader, writer = streams
    index = offset
    try:
        while True:
            sent = time.perf_counter()
            if sent >= stop:
                return
            writer.write(requests[index % len(requests)])
            index += 1
            try:
                status = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                tally.errors += 1
                return
            done = time.perf_counter()
            if done >= start:
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
                if 200 <= status < 300:
                    tally.latencies.append(done - sent)
                else:
                    tally.errors += 1
    finally:
        writer.close()


async def run(
    *,
    port: int,
    paths: list[str],
    headers: list[str],
    concurrency: int,
    warmup: float,
    seconds: float,
    latencies_file: Path | None = None,
) -> dict[str, object]:
    """Drive the server and measure the ``seconds`` after ``warmup``."""
    extra = "".join(f"{header}\r\n" for header in headers)
    requests = [
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode() for path in paths
    ]
    tally = Tally()
    # Connections open one by one, as separate client systems would, not in one burst: a
    # uvicorn worker accepts every pending connection at once, so a burst can land all of
    # them on one worker while the others idle.
    connections = []
    for _ in range(concurrency):
        connections.append(await asyncio.open_connection("127.0.0.1", port))
        await asyncio.sleep(CONNECT_GAP)
    now = time.perf_counter()
    start, stop = now + warmup, now + warmup + seconds
    step = max(1, len(requests) // concurrency)
    await asyncio.gather(
        *(
            _connection(streams, requests, i * step, tally, start, stop)
            for i, streams in enumerate(connections)
        )
    )
    latencies = sorted(tally.latencies)
    n = len(latencies)
    if latencies_file is not None:
        latencies_file.write_text("".join(f"{1000 * value:.4f}\n" for value in latencies))
    return {
        "requests": n,
        "errors": tally.errors,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "rps": n / seconds,
        "p50_ms": 1000 * statistics.median(latencies) if n else None,
        "p99_ms": 1000 * latencies[min(n - 1, int(0.99 * n))] if n else None,
    }


def main() -> None:
    """Parse the command line, run, print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--paths", type=Path, required=True, help="one request path a line")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--latencies", type=Path, default=None)
    args = parser.parse_args()
    paths = [line for line in args.paths.read_text().splitlines() if line]
    result = asyncio.run(
        run(
            port=args.port,
            paths=paths,
            headers=args.header,
            concurrency=args.concurrency,
            warmup=args.warmup,
            seconds=args.seconds,
            latencies_file=args.latencies,
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
