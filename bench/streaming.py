"""Streaming: a loopback server streams long replies into t502 in tmux.

Replies of Markdown with code (headings, lists, tables, fences) as fast as the server can
send them (2,000, 8,000, 32,000 tokens), the same at 100 tokens/s, and plain prose at 20
tokens/s, the speed people read. For each: the time from the server's last byte to the
last token on screen, and t502's CPU seconds per 1,000 tokens; then how CPU grows from
8,000 to 32,000 tokens (linear growth is a ratio near 4).
"""

from __future__ import annotations

import argparse
import json
import time

from common import Server, Terminal, median, ready


def one_reply(server: Server, tokens: int, rate: int | None, kind: str = "long") -> dict[str, float]:
    term = Terminal(server.url)
    try:
        term.wait_for(ready, timeout=30)
        term.wait_idle()
        cpu_before = term.cpu_seconds()
        seen = len(server.last_bytes)
        prompt = f"{kind} {tokens}" + (f" rate {rate}" if rate else "")
        term.send(prompt, literal=True)
        term.send("Enter")
        # The screen is read (a tmux process each time) only once the server is done, so
        # that reading it does not take CPU from t502 while the reply streams in.
        while len(server.last_bytes) <= seen:
            time.sleep(0.002)
        last_byte = server.last_bytes[seen]
        visible_at = term.wait_for(lambda s: "END-OF-REPLY" in s and "streaming" not in s, timeout=900)
        term.wait_idle()
        cpu = term.cpu_seconds() - cpu_before
        return {"behind_last_byte_s": round(visible_at - last_byte, 3), "cpu_s": round(cpu, 3),
                "cpu_s_per_1000_tokens": round(cpu / tokens * 1000, 4)}
    finally:
        term.close()


CASES = [("fast", "long", None), ("code_100_per_s", "long", 100), ("prose_20_per_s", "prose", 20)]
"""(label, reply kind, tokens per second or None for as fast as possible)."""


def run(sizes: list[int], runs: int, paced: dict[str, int]) -> dict[str, object]:
    """``sizes``: the fast replies' lengths; ``paced``: label → length of the paced cases."""
    server = Server()
    results: dict[str, object] = {}
    try:
        for label, kind, rate in CASES:
            for tokens in (sizes if rate is None else [paced[label]] if label in paced else []):
                samples = [one_reply(server, tokens, rate, kind) for _ in range(runs)]
                summary = {key: median([s[key] for s in samples]) for key in samples[0]}
                summary["worst_behind_last_byte_s"] = max(s["behind_last_byte_s"] for s in samples)
                results[f"{label}_{tokens}"] = summary
                print(f"{label:>16} {tokens:>6} tokens: on screen {summary['behind_last_byte_s']:.3f} s "
                      f"after the last byte (worst {summary['worst_behind_last_byte_s']:.3f}), "
                      f"CPU {summary['cpu_s']:.2f} s = {summary['cpu_s_per_1000_tokens']:.3f} s per 1,000 tokens",
                      flush=True)
        if len(sizes) >= 2:
            small, large = f"fast_{sizes[-2]}", f"fast_{sizes[-1]}"
            ratio = results[large]["cpu_s"] / results[small]["cpu_s"]  # type: ignore[index]
            results["cpu_growth_ratio"] = round(ratio, 2)
            print(f"CPU grows {ratio:.2f}x from {sizes[-2]:,} to {sizes[-1]:,} tokens "
                  f"(linear: {sizes[-1] / sizes[-2]:.0f}x)")
    finally:
        server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[2000, 8000, 32000])
    parser.add_argument("--code", type=int, default=2000, help="tokens of code-heavy Markdown at 100/s (0: skip)")
    parser.add_argument("--prose", type=int, default=1000, help="tokens of prose at 20/s (0: skip)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    paced = {label: n for label, n in (("code_100_per_s", args.code), ("prose_20_per_s", args.prose)) if n}
    results = run(args.sizes, args.runs, paced)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
