"""The service layer alone taking in a 32,000-token flood: no terminal, no UI.

Two figures, to compare a change to the SSE decoder or the stream reader before and after:

- the SSE decoder by itself, fed the same 4 MB stream three ways: 64 KiB reads (a fast
  server), one event per read (how relays send: an HTTP chunk per event), and 1,000-byte
  reads that cut lines and characters anywhere;
- ``ChatClient.stream_chat`` taking the whole reply from the loopback server (in a process
  of its own, so its CPU is not counted): the client's CPU seconds and wall time.

    .venv/bin/python bench/service_flood.py --runs 21

The machine is shared, so the best of many runs is the figure to compare; the median
shows how noisy the runs were.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import Server  # noqa: E402
from loopback import chunk, sse, usage_chunk  # noqa: E402
from scripted_replies import markdown_tokens  # noqa: E402

from t502_tui.service import ContentDelta  # noqa: E402
from t502_tui.service.client import ChatClient  # noqa: E402
from t502_tui.service.sse import SSEDecoder  # noqa: E402


def flood(tokens: int) -> list[str]:
    items: list[dict[str, Any]] = [chunk(role="assistant", content="")]
    items += [chunk(t) for t in markdown_tokens(tokens)]
    items += [chunk(finish="stop"), usage_chunk(10, tokens)]
    return [str(piece) for piece in sse(*items)]


def decode(pieces: list[bytes]) -> None:
    decoder = SSEDecoder()
    for piece in pieces:
        decoder.feed(piece)
    decoder.close()


async def stream(url: str, tokens: int) -> tuple[float, float]:
    """CPU and wall seconds of one streamed reply of ``tokens`` tokens."""
    async with ChatClient(url, "sk-bench") as client:
        cpu, wall = time.process_time(), time.perf_counter()
        count = 0
        async for event in client.stream_chat([{"role": "user", "content": f"long {tokens}"}], "m"):
            count += isinstance(event, ContentDelta)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert count == len(markdown_tokens(tokens)), count
    return cpu, wall


def report(name: str, times: list[float]) -> None:
    print(f"  {name:<36} {min(times) * 1000:6.1f} ms  {statistics.median(times) * 1000:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=32000)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    events = flood(args.tokens)
    raw = "".join(events).encode()
    print(f"{args.tokens:,} tokens, {len(events):,} events, {len(raw) / 1e6:.1f} MB;"
          f" best and median of {args.runs} runs")
    ways = {
        "64 KiB reads": [raw[i:i + 65536] for i in range(0, len(raw), 65536)],
        "one event per read": [e.encode() for e in events],
        "1,000-byte reads": [raw[i:i + 1000] for i in range(0, len(raw), 1000)],
    }
    for name, pieces in ways.items():
        def measure(pieces: list[bytes] = pieces) -> float:
            start = time.perf_counter()
            decode(pieces)
            return time.perf_counter() - start
        report(f"SSE decoder, {name}", [measure() for _ in range(args.runs)])
    server = Server()
    try:
        results = [asyncio.run(stream(server.url, args.tokens)) for _ in range(args.runs)]
    finally:
        server.stop()
    report("stream_chat from loopback, CPU", [cpu for cpu, _ in results])
    report("stream_chat from loopback, wall", [wall for _, wall in results])


if __name__ == "__main__":
    main()
