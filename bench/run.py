"""Run every benchmark and write the figures to bench/results/latest.json.

    python bench/run.py            # the full set (about 10 minutes)
    python bench/run.py --quick    # one run each, smaller sizes (about 1 minute)
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import history
import media_stream
import reading_floor
import responsiveness
import screen_gaps
import startup
import streaming
from common import ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one run each, smaller sizes")
    args = parser.parse_args()
    runs = 1 if args.quick else 5
    sizes = [2000, 8000] if args.quick else [2000, 8000, 32000]
    started = time.time()
    figures: dict[str, object] = {
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
    }
    print("== startup"); figures["startup"] = startup.run(runs)
    paced = {"code_100_per_s": 2000, "prose_20_per_s": 400 if args.quick else 1000}
    print("== streaming"); figures["streaming"] = streaming.run(sizes, runs, paced)
    print("== reading floor"); figures["reading_floor"] = reading_floor.run(1 if args.quick else 3)
    print("== responsiveness"); figures["responsiveness"] = responsiveness.run(sizes[-1], 40, runs)
    figures["responsiveness_100_per_s"] = responsiveness.run(2000, 40, runs, rate=100)
    print("== screen gaps"); figures["screen_gaps"] = screen_gaps.run(1 if args.quick else 3)
    print("== history"); figures["history"] = history.run(runs)
    print("== media"); figures["media"] = media_stream.run(1 if args.quick else 3)
    out = ROOT / "bench" / "results" / "latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print(f"wrote {out} in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
