"""Responsiveness: while a reply streams (32,000 tokens as fast as possible, or 2,000 at
100 tokens/s), how long a key typed in the composer takes to appear on screen (median and
worst). A worst case far above the median is a moment the screen froze."""

from __future__ import annotations

import argparse
import json
import string
import time

from common import Server, Terminal, median, ready


def one_run(server: Server, tokens: int, keys: int, rate: int | None = None) -> list[float]:
    term = Terminal(server.url)
    delays: list[float] = []
    try:
        term.wait_for(ready, timeout=30)
        term.wait_idle()
        term.send(f"long {tokens}" + (f" rate {rate}" if rate else ""), literal=True)
        term.send("Enter")
        term.wait_for(lambda s: "streaming" in s, timeout=30)
        typed = ""
        for index in range(keys):
            char = string.ascii_lowercase[index % 26]
            typed += char
            sent = time.time()
            term.send(char, literal=True)
            shown = term.wait_for(lambda s, t=typed: t in s, timeout=30, interval=0.002)
            delays.append(shown - sent)
            if "streaming" not in term.screen():
                break
    finally:
        term.close()
    return delays


def run(tokens: int, keys: int, runs: int, rate: int | None = None) -> dict[str, float]:
    server = Server()
    try:
        medians, worsts = [], []
        for _ in range(runs):
            delays = one_run(server, tokens, keys, rate)
            medians.append(median(delays))
            worsts.append(max(delays))
            print(f"  {len(delays)} keys while streaming: median {median(delays) * 1000:.0f} ms, "
                  f"worst {max(delays) * 1000:.0f} ms", flush=True)
    finally:
        server.stop()
    result = {"keystroke_echo_median_ms": round(median(medians) * 1000, 1),
              "keystroke_echo_worst_ms": round(max(worsts) * 1000, 1)}
    speed = f" at {rate} tokens/s" if rate else ", as fast as possible"
    print(f"keystroke echo while {tokens:,} tokens stream{speed}: median {result['keystroke_echo_median_ms']} ms, "
          f"worst {result['keystroke_echo_worst_ms']} ms (over {runs} runs)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=32000)
    parser.add_argument("--keys", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rate", type=int, help="tokens per second (default: as fast as possible)")
    parser.add_argument("--json")
    args = parser.parse_args()
    result = run(args.tokens, args.keys, args.runs, args.rate)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
