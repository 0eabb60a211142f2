"""Replies chosen by keywords in the last user message, for trying t502 by hand.

``python tests/loopback.py`` answers with these: ``slow``, ``long 20000`` (Markdown with
code; ``long 2000 rate 100`` sends 100 tokens a second), ``prose 1000 rate 20`` (plain
paragraphs), ``think``, ``escape``, ``drop``, ``cite`` (a search model's reply with its
sources, as Perplexity sends them), ``status 401`` (any status), the media
replies of tests/media_samples.py (``draw``, ``draw big``, ``draw link``, ``draw parts``,
``draw images``, ``video``), otherwise an echo naming the model.
"""

from __future__ import annotations

import json
import re

from loopback import Pause, RecordedRequest, Reply, chunk, sse, stream_reply, text_stream, usage_chunk
from media_samples import media_file, scripted_media

PARAGRAPH = (
    "Streaming **Markdown** keeps its cost in the *new* text only, with `inline code`, "
    "[links](https://example.com) and lists.\n\n"
)
CODE = (
    "```python\n"
    "def fibonacci(n: int) -> list[int]:\n"
    '    """The first n Fibonacci numbers."""\n'
    "    numbers = [0, 1]\n"
    "    while len(numbers) < n:\n"
    "        numbers.append(numbers[-1] + numbers[-2])\n"
    "    return numbers[:n]\n"
    "```\n\n"
)
TABLE = "| model | tokens | cost |\n| --- | ---: | ---: |\n| gpt-5 | 1,024 | $0.01 |\n| claude | 2,048 | $0.02 |\n\n"
LIST = "- first point\n- second point with more words\n  1. nested\n  2. items\n\n"


def markdown_tokens(count: int) -> list[str]:
    """About ``count`` tokens of realistic Markdown (headings, lists, tables, code), split in tokens."""
    blocks = []
    section = 0
    while sum(len(b) for b in blocks) < count * 4:
        section += 1
        blocks += [f"## Section {section}\n\n", PARAGRAPH, LIST, CODE, TABLE]
    text = "".join(blocks)
    return re.findall(r"\S*\s*", text)[:count] or [text]


PROSE = (
    "People read a reply as it arrives, a few words at a time, so the client should spend "
    "almost nothing on each of them: draw the open paragraph again, and leave the rest alone. "
    "Most of a long answer is plain prose like this, with the occasional *emphasis* or `name`.\n\n"
)


def prose_tokens(count: int) -> list[str]:
    """About ``count`` tokens of plain prose paragraphs, split in tokens."""
    text = PROSE * (count * 4 // len(PROSE) + 1)
    return re.findall(r"\S*\s*", text)[:count]


def reply_for(request: RecordedRequest) -> Reply | None:
    """Pick a reply from keywords in the last user message."""
    if not request.path.endswith("/chat/completions"):
        return media_file(request.path)
    body = request.json
    model = body.get("model", "?")
    messages = body.get("messages") or [{}]
    content = messages[-1].get("content", "")
    prompt = content if isinstance(content, str) else " ".join(
        p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    base = "http://" + request.headers.get("host", "127.0.0.1")
    if (media := scripted_media(prompt, base, model)) is not None:
        return media
    if match := re.search(r"status (\d{3})", prompt):
        status = int(match.group(1))
        return Reply(status, body=json.dumps({"error": {"message": f"scripted error {status} for {model}",
                                                        "type": "test", "code": status}}),
                     headers={"Retry-After": "1"} if status == 429 else {})
    if match := re.search(r"(long|prose) (\d+)(?: rate (\d+))?", prompt):
        make = markdown_tokens if match.group(1) == "long" else prose_tokens
        tokens = make(int(match.group(2)))
        tokens[-1] = tokens[-1].rstrip() + " END-OF-REPLY\n"
        items = [chunk(role="assistant", content="", model=model)]
        items += [chunk(t, model=model) for t in tokens]
        items += [chunk(finish="stop", model=model), usage_chunk(len(messages) * 10, len(tokens))]
        out = sse(*items)
        if match.group(3) and int(match.group(3)):  # rate 0: as fast as it can
            pause = Pause(1 / int(match.group(3)))
            out = [piece for event in out for piece in (event, pause)]
        return stream_reply(out, headers={"X-Reply-Tokens": str(len(tokens))})
    if "slow" in prompt:
        out: list = []
        for i in range(300):
            out += sse(chunk(f"word{i} ", model=model), done=False)
            out.append(Pause(0.05))
        out += sse(chunk(finish="stop", model=model), usage_chunk(10, 300))
        return stream_reply(out)
    if "think" in prompt:
        return text_stream("The answer is **42**.", model=model, reasoning="Let me think about it carefully…")
    if "escape" in prompt:
        return text_stream("Red: \x1b[31mRED\x1b[0m and [bold red]markup[/bold red] and \x07bell.", model=model)
    if "cite" in prompt:
        cited = {"citations": ["https://en.wikipedia.org/wiki/Rain_(weather)", "https://www.example.com/forecast"],
                 "search_results": [{"title": "Rain - Wikipedia", "url": "https://en.wikipedia.org/wiki/Rain_(weather)"},
                                    {"title": "Forecast [bold red]today[/bold red] \x1b[31m*", "url": "https://www.example.com/forecast"}]}
        words = ["Rain ", "is ", "likely ", "tomorrow ", "[1]", "[2]", "."]
        return stream_reply(sse(*({**chunk(w, model=model), **cited} for w in words),
                                {**chunk(finish="stop", model=model), **cited}, usage_chunk(10, len(words))))
    if "drop" in prompt:
        return stream_reply(sse(chunk("This reply breaks off in the mid", model=model), done=False), drop=True)
    history = len(messages)
    return text_stream(f"You said: {prompt!r}. I am **{model}**; I saw {history} messages.", model=model)
