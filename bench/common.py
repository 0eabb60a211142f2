"""Shared pieces of the benchmarks: the loopback server, a real terminal (tmux), /proc."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
T502 = str(Path(PYTHON).with_name("t502"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class Server:
    """``tests/loopback.py`` in a process of its own, so its CPU is not the client's."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [PYTHON, str(ROOT / "tests" / "loopback.py")],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )
        assert self.proc.stderr is not None
        first = self.proc.stderr.readline()
        self.url = first.strip().split("=", 1)[1]
        self.last_bytes: list[float] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if line.startswith("LAST-BYTE "):
                self.last_bytes.append(float(line.split()[1]))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


class Terminal:
    """t502 running in a detached tmux session of a fixed size, with its own XDG folders."""

    def __init__(self, url: str, home: Path | None = None, size: tuple[int, int] = (140, 45),
                 extra_env: dict[str, str] | None = None, args: str = "") -> None:
        if shutil.which("tmux") is None:
            raise SystemExit("the benchmarks need tmux (apt-get install tmux)")
        self.home = home or Path(tempfile.mkdtemp(prefix="t502-bench-"))
        self.name = f"t502bench{os.getpid()}{int(time.time() * 1000) % 100000}"
        self.tmux = ["tmux", "-L", self.name]
        """A tmux server of its own: one that is still closing after the last run cannot
        refuse this one ("server exited unexpectedly")."""
        env = {
            "XDG_CONFIG_HOME": self.home / "config", "XDG_DATA_HOME": self.home / "data",
            "XDG_CACHE_HOME": self.home / "cache", "XDG_STATE_HOME": self.home / "state",
            "T502_BASE_URL": url, "T502_API_KEY": "sk-bench", "T502_MODEL": "gpt-5",
            **(extra_env or {}),
        }
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        # As `pip install .` leaves it: compiled once, not compiled again at every start
        # (a shell with PYTHONDONTWRITEBYTECODE set would make every start compile t502).
        self.started = time.time()
        subprocess.run([*self.tmux, "new-session", "-d", "-s", self.name, "-x", str(size[0]), "-y", str(size[1]),
                        f"exec env -u PYTHONDONTWRITEBYTECODE {exports} TERM=xterm-256color {T502} {args}"], check=True)
        self.pid = int(subprocess.run([*self.tmux, "display", "-p", "-t", self.name, "#{pane_pid}"],
                                      capture_output=True, text=True, check=True).stdout.strip())

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-t", self.name],
                              capture_output=True, text=True).stdout

    def send(self, *keys: str, literal: bool = False) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *(["-l"] if literal else []), *keys], check=True)

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 120, interval: float = 0.005) -> float:
        """Poll the screen until ``condition(screen)``; returns the time.time() it held."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if condition(self.screen()):
                return time.time()
            time.sleep(interval)
        raise TimeoutError(f"screen never matched; last screen:\n{self.screen()}")

    def processes(self) -> list[int]:
        """t502 and any process it started."""
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
        family = [self.pid]
        for pid in family:
            family += [child for child, parent in parents.items() if parent == pid]
        return family

    def cpu_seconds(self) -> float:
        """CPU used so far by t502 (and any process it started)."""
        total = 0
        for pid in self.processes():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / CLOCK_TICKS

    def peak_rss_mb(self) -> float:
        """Peak resident memory of t502."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return float("nan")
        peaks = [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")]
        return peaks[0] if peaks else float("nan")

    def wait_idle(self, quiet: float = 0.3, timeout: float = 60) -> None:
        """Wait until the process stops using CPU (the last frames are drawn)."""
        deadline = time.time() + timeout
        last = self.cpu_seconds()
        while time.time() < deadline:
            time.sleep(quiet)
            now = self.cpu_seconds()
            if now - last < 0.02:
                return
            last = now

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)
        # tmux leaves its socket behind: one per run would pile up in /tmp.
        sockets = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (sockets / self.name).unlink(missing_ok=True)
        shutil.rmtree(self.home, ignore_errors=True)


def ready(screen: str) -> bool:
    """The first usable screen: the composer is drawn."""
    return "sends," in screen and "new line" in screen


def runs_main(doc: str | None, run: Callable[[int], dict[str, Any]]) -> None:
    """The command line of a benchmark that takes only ``--runs`` and ``--json``."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    result = run(args.runs)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
