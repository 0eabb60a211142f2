"""A 5 MB image sent as a data URL does not slow the stream: the same reply as text of the
same size (about 7 MB, in the same 4,000-character pieces) for comparison.

Two figures for each reply, from the loopback server in a process of its own:

- the turn engine alone (no terminal): the wall time from sending the request to the
  reply being complete (the server cannot send faster than t502 reads), and the client's
  CPU seconds; the image is lifted out of the text as it streams, so it costs a decode;
- the real ``t502`` in tmux: the time from the server's last byte to the end of the reply
  on screen, and t502's CPU seconds.

    .venv/bin/python bench/media_stream.py --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import Server, Terminal, median, ready  # noqa: E402

from t502_tui.config import load_config  # noqa: E402
from t502_tui.conversation import ChatMessage, Conversation  # noqa: E402
from t502_tui.session import ChatSession  # noqa: E402
from t502_tui.turn import Turn  # noqa: E402

PROMPTS = {"image": "draw big", "text": "prose big"}


async def headless(url: str, prompt: str) -> dict[str, float]:
    """Wall and CPU seconds of one turn (no store, no screen)."""
    session = ChatSession(load_config(env={"T502_BASE_URL": url, "T502_API_KEY": "sk-bench",
                                           "T502_MODEL": "image-model"}))
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        reply = await Turn(session, Conversation(model="image-model"), lambda event: None).run(
            ChatMessage("user", prompt))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await session.aclose()
    assert reply.content.endswith("END-OF-REPLY"), reply.content[-80:]
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "text_kept": len(reply.content),
            "images": len(reply.attachments)}


def on_screen(server: Server, prompt: str) -> dict[str, float]:
    """Seconds from the server's last byte to the end of the reply on screen; CPU."""
    term = Terminal(server.url, extra_env={"T502_MODEL": "image-model"})
    try:
        term.wait_for(ready, timeout=30)
        term.wait_idle()
        cpu = term.cpu_seconds()
        seen = len(server.last_bytes)
        term.send(prompt, literal=True)
        term.send("Enter")
        while len(server.last_bytes) <= seen:
            time.sleep(0.002)
        last_byte = server.last_bytes[seen]
        # The end of the reply as drawn: its last words, or the note that a reply this long
        # is cut on screen (over 1,000,000 characters; the message keeps it all).
        shown = term.wait_for(lambda s: ("END-OF-REPLY" in s or "not shown here" in s) and "streaming" not in s,
                              timeout=600)
        term.wait_idle()
        return {"behind_last_byte_s": round(shown - last_byte, 3), "cpu_s": round(term.cpu_seconds() - cpu, 3)}
    finally:
        term.close()


def run(runs: int, screen: bool = True) -> dict[str, object]:
    server = Server()
    results: dict[str, object] = {}
    try:
        for kind, prompt in PROMPTS.items():
            samples = [asyncio.run(headless(server.url, prompt)) for _ in range(runs)]
            figures: dict[str, object] = {"turn_" + key: median([s[key] for s in samples])
                                          for key in ("wall_s", "cpu_s")}
            figures["text_kept_chars"] = samples[0]["text_kept"]
            if screen:
                shown = [on_screen(server, prompt) for _ in range(runs)]
                figures |= {"screen_" + key: median([s[key] for s in shown]) for key in shown[0]}
            results[kind] = figures
            print(f"{kind:>5}: turn {figures['turn_wall_s']:.2f} s wall, {figures['turn_cpu_s']:.2f} s CPU, "
                  f"{figures['text_kept_chars']:,} characters of text kept"
                  + (f"; t502 in tmux: on screen {figures['screen_behind_last_byte_s']:.2f} s after the last byte,"
                     f" {figures['screen_cpu_s']:.2f} s CPU" if screen else ""), flush=True)
    finally:
        server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-screen", action="store_true", help="the turn engine only (no tmux)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    results = run(args.runs, not args.no_screen)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
