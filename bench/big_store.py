"""A large history for the benchmarks: 10,000 conversations, 200,000 messages, and one
conversation of 2,000 messages. Built once and reused (bench/results/big.db)."""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

from common import ROOT

import sys

sys.path.insert(0, str(ROOT))
from t502_tui.store import Store  # noqa: E402

CACHE = ROOT / "bench" / "results" / "big.db"
WORDS = ("model token stream reply markdown python rust terminal search history sourdough bread "
         "window layout render cache latency budget relay vendor prompt system answer question "
         "function class module test server client socket event widget screen theme").split()
LONG_ID = "f" * 32


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def build(path: Path, conversations: int = 10_000, messages: int = 200_000) -> Path:
    """Create the store at ``path`` (or copy the cached one)."""
    if CACHE.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CACHE, path)
        return path
    started = time.time()
    rng = random.Random(502)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    store = Store(CACHE)
    db = store._db
    now = time.time()
    per = (messages - 2000) // (conversations - 1)
    db.execute("BEGIN")
    ids = [f"{i:032x}" for i in range(conversations - 1)] + [LONG_ID]
    for n, ident in enumerate(ids):
        updated = now - (conversations - n) * 60
        db.execute("INSERT INTO conversations (id, title, created, updated, system_prompt, model, archived)"
                   " VALUES (?, '', ?, ?, '', 'gpt-5', 0)", (ident, updated - 600, updated))
        count = 2000 if ident == LONG_ID else per
        rows = []
        for m in range(count):
            user = m % 2 == 0
            rows.append((ident, "user" if user else "assistant", _text(rng, 12 if user else 60),
                         None if user else rng.choice(["gpt-5", "claude-sonnet-4", "deepseek-r1"]),
                         "complete", None if user else 100, None if user else 200, None if user else 300,
                         updated - 600 + m))
        db.executemany(
            "INSERT INTO messages (conversation_id, role, content, model, status, prompt_tokens,"
            " completion_tokens, total_tokens, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.execute("COMMIT")
    store.close()
    print(f"built {CACHE} in {time.time() - started:.0f} s", flush=True)
    return build(path)
