"""Startup: from launching t502 in a terminal to the first usable screen, with an empty
history and with 10,000 conversations / 200,000 messages; and t502's peak memory."""

from __future__ import annotations

import tempfile
from pathlib import Path

from big_store import build
from common import runs_main, Server, Terminal, median, ready


def one_start(server: Server, big: bool) -> tuple[float, float]:
    home = Path(tempfile.mkdtemp(prefix="t502-bench-"))
    if big:
        build(home / "data" / "t502" / "t502.db")
    term = Terminal(server.url, home=home)
    try:
        shown = term.wait_for(ready, timeout=60, interval=0.002)
        elapsed = shown - term.started
        term.wait_idle()
        return elapsed, term.peak_rss_mb()
    finally:
        term.close()


def run(runs: int) -> dict[str, float]:
    server = Server()
    results: dict[str, float] = {}
    try:
        for label, big in (("empty", False), ("large", True)):
            samples = [one_start(server, big) for _ in range(runs)]
            results[f"startup_{label}_s"] = round(median([s[0] for s in samples]), 3)
            results[f"peak_rss_{label}_mb"] = round(max(s[1] for s in samples), 1)
            print(f"startup with {label} history: {results[f'startup_{label}_s']:.3f} s to the first usable "
                  f"screen (median of {runs}), peak RSS {results[f'peak_rss_{label}_mb']:.0f} MB", flush=True)
        slower = results["startup_large_s"] / results["startup_empty_s"] - 1
        results["large_vs_empty_percent"] = round(slower * 100, 1)
        print(f"the large history starts {slower * 100:+.0f}% vs empty")
    finally:
        server.stop()
    return results


if __name__ == "__main__":
    runs_main(__doc__, run)
