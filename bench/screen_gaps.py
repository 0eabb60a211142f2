"""Frozen screen: while 2,000 tokens of code-heavy Markdown stream at 100 tokens/s, the
time between one change of the screen and the next (median, 95th percentile, longest),
read with `tmux capture-pane` every 3 ms. A gap is a moment the reader saw nothing move
though text was arriving; the target is none over 0.1 s.

Reading the screen this often takes CPU from t502, so `streaming.py` measures CPU apart.
"""

from __future__ import annotations

import time

from common import Server, Terminal, median, ready, runs_main

SETTLE = 2.0
"""Seconds into the reply before gaps are counted (the first frames load renderers)."""
WATCHED = 15.0
"""Seconds of the reply watched: it lasts about 20."""


def one_run(server: Server) -> list[float]:
    term = Terminal(server.url)
    gaps: list[float] = []
    try:
        term.wait_for(ready, timeout=30)
        term.wait_idle()
        term.send("long 2000 rate 100", literal=True)
        term.send("Enter")
        time.sleep(SETTLE)
        last, changed = term.screen(), time.perf_counter()
        end = changed + WATCHED
        while (now := time.perf_counter()) < end:
            screen = term.screen()
            if screen != last:
                gaps.append(now - changed)
                last, changed = screen, now
            time.sleep(0.003)
    finally:
        term.close()
    return sorted(gaps)


def run(runs: int) -> dict[str, float]:
    server = Server()
    try:
        samples = [one_run(server) for _ in range(runs)]
    finally:
        server.stop()
    results = {
        "gap_median_ms": round(median([median(g) for g in samples]) * 1000, 1),
        "gap_p95_ms": round(median([g[int(len(g) * 0.95)] for g in samples]) * 1000, 1),
        "gap_longest_ms": round(max(g[-1] for g in samples) * 1000, 1),
        "gaps_over_100_ms_per_run": round(median([sum(x > 0.1 for x in g) for g in samples]), 1),
    }
    print(f"screen changes while 2,000 tokens stream at 100 tokens/s: median gap {results['gap_median_ms']:.0f} ms, "
          f"95th percentile {results['gap_p95_ms']:.0f} ms, longest {results['gap_longest_ms']:.0f} ms, "
          f"{results['gaps_over_100_ms_per_run']:.0f} gaps over 100 ms per run (median of {runs})", flush=True)
    return results


if __name__ == "__main__":
    runs_main(__doc__, run)
