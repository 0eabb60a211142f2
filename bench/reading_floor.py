"""The floor at reading speed: what taking in a reply at 20 and at 100 tokens/s costs
before anything is drawn, in CPU seconds per 1,000 tokens.

- ``bare``: an asyncio socket reading the stream and parsing each event's JSON, the least
  any Python client can do (no HTTP parsing, no decompression, no timeouts);
- ``client``: t502's own HTTP client (httpx, SSE, the events a turn is fed), no UI.

A server that sends a token per network packet wakes the client once per token. At 20
tokens/s t502's client reads each packet as it comes: this is the part of
``streaming.py``'s ``prose_20_per_s`` figure that no drawing can save. Faster, it lets
packets gather between reads (``TRICKLE_PACE`` in ``t502_tui/service/client.py``).
"""

from __future__ import annotations

import asyncio
import json
import resource
from urllib.parse import urlsplit

from common import Server, median, runs_main

from t502_tui.service.client import ChatClient

RATES = (20, 100)
"""Tokens a second: prose at the speed people read, and a fast model."""
SECONDS = 10


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _bare(url: str, prompt: str) -> float:
    """CPU seconds from the first byte of the reply to its end, over a bare socket."""
    address = urlsplit(url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    body = json.dumps({"model": "gpt-5", "stream": True, "messages": [{"role": "user", "content": prompt}]})
    writer.write((f"POST {address.path}/chat/completions HTTP/1.1\r\nHost: {address.netloc}\r\n"
                  f"Authorization: Bearer sk-bench\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode())
    await writer.drain()
    started = None
    while data := await reader.read(65536):
        started = _cpu() if started is None else started
        for line in data.split(b"\n"):
            if line.startswith(b"data: {"):
                json.loads(line[6:])
    writer.close()
    return _cpu() - (started or _cpu())


async def _client(url: str, prompt: str) -> float:
    """CPU seconds from the first event of the reply to its end, through t502's client."""
    async with ChatClient(url, "sk-bench") as client:
        started = None
        async for _ in client.stream_chat([{"role": "user", "content": prompt}], "gpt-5"):
            started = _cpu() if started is None else started
        return _cpu() - (started or _cpu())


def run(runs: int) -> dict[str, float]:
    """Each rate for SECONDS, ``runs`` times; the medians."""
    server = Server()
    results: dict[str, float] = {}
    try:
        for rate in RATES:
            tokens = rate * SECONDS
            prompt = f"prose {tokens} rate {rate}"
            for label, read in (("bare", _bare), ("client", _client)):
                per_1000 = median([asyncio.run(read(server.url, prompt)) / tokens * 1000 for _ in range(runs)])
                results[f"{label}_{rate}_per_s_cpu_s_per_1000_tokens"] = round(per_1000, 3)
                print(f"{label:>7} at {rate:>3} tokens/s: {per_1000:.3f} CPU s per 1,000 tokens "
                      f"(median of {runs})", flush=True)
    finally:
        server.stop()
    return results


if __name__ == "__main__":
    runs_main(__doc__, run)
