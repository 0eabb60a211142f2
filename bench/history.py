"""History at scale (10,000 conversations, 200,000 messages): the conversation list, a
full-text search, and opening a 2,000-message conversation to the first paint of its
newest messages. Store timings are the SQLite calls; the others drive the app headless."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from big_store import LONG_ID, build
from common import runs_main, ROOT, median

sys.path.insert(0, str(ROOT))


def timed(action, runs: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return median(samples)


async def app_timings(runs: int) -> dict[str, float]:
    from t502_tui.config import load_config
    from t502_tui.ui.app import T502App
    from t502_tui.ui.widgets.sidebar import ConversationList

    list_times, open_times = [], []
    for _ in range(runs):
        app = T502App(load_config(env={"T502_API_KEY": "k", "T502_BASE_URL": "http://127.0.0.1:9/v1"}))
        started = time.perf_counter()
        async with app.run_test(size=(140, 45)) as pilot:
            sidebar = app.screen.query_one(ConversationList)
            while sidebar.option_count < 50:
                await pilot.pause(0.001)
            list_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            await app.chat.open_saved(LONG_ID)
            await pilot.pause()
            assert app.chat.active_pane and app.chat.active_pane.view.visible_text().strip()
            open_times.append(time.perf_counter() - started)
    return {"app_list_shown_s": round(median(list_times), 3),
            "open_2000_message_conversation_s": round(median(open_times), 3)}


def run(runs: int) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="t502-bench-"))
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        os.environ[f"XDG_{name}_HOME"] = str(home / name.lower())
    from t502_tui.store import Store, default_path

    build(default_path())
    store = Store(default_path())
    results = {
        "list_first_page_ms": round(timed(lambda: store.list_conversations(0, 100), runs * 4) * 1000, 2),
        "search_ms": round(timed(lambda: store.search("sourdough latency"), runs * 4) * 1000, 2),
        "search_prefix_ms": round(timed(lambda: store.search("sourd"), runs * 4) * 1000, 2),
    }
    store.close()
    results.update(asyncio.run(app_timings(runs)))
    print(f"conversation list, first page query: {results['list_first_page_ms']:.1f} ms; "
          f"shown in the app {results['app_list_shown_s'] * 1000:.0f} ms after start (headless)")
    print(f"full-text search over 200,000 messages: {results['search_ms']:.1f} ms "
          f"(prefix search {results['search_prefix_ms']:.1f} ms)")
    print(f"2,000-message conversation to first paint: {results['open_2000_message_conversation_s'] * 1000:.0f} ms")
    return results


if __name__ == "__main__":
    runs_main(__doc__, run)
