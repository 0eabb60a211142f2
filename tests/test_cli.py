"""``t502 ask`` and ``t502 models`` end to end: a subprocess against the loopback server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from loopback import Gate, LoopbackServer, Reply, chunk, models_reply, sse, stream_reply, text_stream, usage

KEY = "sk-cli-secret-key-987654321"


def env_for(server: LoopbackServer | None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    if server:
        env["T502_BASE_URL"] = server.url
    env["T502_API_KEY"] = KEY
    env.update(extra)
    return env


def t502(*args: str, server: LoopbackServer | None = None, stdin: str | None = None,
         **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "t502_tui", *args], input=stdin if stdin is not None else "",
                          capture_output=True, text=True, env=env_for(server, **extra), timeout=60)


def assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout
    assert KEY not in result.stderr + result.stdout


def test_ask_streams_answer_and_usage(server: LoopbackServer) -> None:
    server.script("/chat/completions", text_stream("The answer is 42.", reasoning="Let me think."))
    result = t502("ask", "--model", "gpt-x", "what", "is", "it?", server=server)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "The answer is 42.\n"
    assert "Let me think." in result.stderr and "prompt" in result.stderr and "total" in result.stderr
    body = server.chat_requests()[0].json
    assert body["model"] == "gpt-x" and body["messages"] == [{"role": "user", "content": "what is it?"}]
    assert_clean(result)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["ask", "hi"], ["models"], ["config", "show"]])
def test_an_output_that_cannot_be_written_is_one_line_not_a_traceback(server: LoopbackServer, args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "t502_tui", *args], stdout=full, stderr=subprocess.PIPE,
                                text=True, env=env_for(server), timeout=60)
    assert result.returncode == 1 and result.stderr.endswith("error: cannot write the output: No space left on device\n")
    assert "Traceback" not in result.stderr


def test_an_output_that_cannot_take_every_character_gets_question_marks(server: LoopbackServer) -> None:
    server.script("/chat/completions", text_stream("héllo 日本"))
    result = t502("ask", "hi", server=server, PYTHONIOENCODING="ascii")
    assert result.returncode == 0 and result.stdout == "h?llo ??\n" and " ? tokens" in result.stderr
    assert_clean(result)


def test_ask_refuses_a_model_with_control_characters(server: LoopbackServer) -> None:
    result = t502("ask", "-m", "a\x1b[31m", "hi", server=server)
    assert result.returncode == 2 and "--model must be one line without control characters" in result.stderr
    assert not server.chat_requests()


def test_ask_says_why_the_server_ended_a_reply_early(server: LoopbackServer) -> None:
    server.script("/chat/completions", stream_reply(sse(chunk("Reads whole"), chunk(finish="content_filter"))))
    result = t502("ask", "hi", server=server)
    assert result.returncode == 0 and result.stdout == "Reads whole\n"
    assert "note: stopped by the provider's content filter (finish_reason: content_filter)" in result.stderr


def test_ask_reads_piped_stdin_after_prompt(server: LoopbackServer) -> None:
    result = t502("ask", "summarise:", "-s", "be brief", server=server, stdin="line one\nline two\n")
    assert result.returncode == 0
    messages = server.chat_requests()[0].json["messages"]
    assert messages[0] == {"role": "system", "content": "be brief"}
    assert messages[1]["content"] == "summarise:\n\nline one\nline two"  # no empty last line


def t502_bytes(*args: str | bytes, server: LoopbackServer, stdin: bytes = b"",
               tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Like :func:`t502`, with any bytes on the command line and on stdin (from a file,
    so that t502 may stop reading it early)."""
    piped = tmp_path / "stdin"
    piped.write_bytes(stdin)
    with piped.open("rb") as source:
        result = subprocess.run([sys.executable, "-m", "t502_tui", *args], stdin=source, capture_output=True,
                                env=env_for(server), timeout=60)
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(errors="replace"),
                                       result.stderr.decode(errors="replace"))


def test_bytes_that_are_not_utf8_on_the_command_line_are_sent_and_saved(server: LoopbackServer,
                                                                       tmp_path: Path) -> None:
    server.script("/chat/completions", text_stream("fine"))
    result = t502_bytes("ask", "-s", b"sys \xff", b"caf\xe9", b"\xff\xfe", server=server,
                        tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_clean(result)
    messages = server.chat_requests()[0].json["messages"]
    assert messages[0]["content"] == "sys \ufffd" and messages[1]["content"] == "caf\ufffd \ufffd\ufffd"
    listed = t502("history", "list", server=server)
    assert listed.returncode == 0 and "caf" in listed.stdout, listed.stderr


def test_piped_text_in_any_encoding_is_decoded_as_a_file_is(server: LoopbackServer, tmp_path: Path) -> None:
    server.script("/chat/completions", text_stream("fine"))
    result = t502_bytes("ask", "fix:", server=server, stdin=b"caf\xe9 cr\xe8me\n", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert server.chat_requests()[0].json["messages"][0]["content"] == "fix:\n\ncaf\u00e9 cr\u00e8me"


@pytest.mark.parametrize(("stdin", "says"), [
    (b"y\n" * 300_000, "larger than 512 KB"),
    (bytes(range(256)) * 20, "binary"),
], ids=["large", "binary"])
def test_piped_input_too_large_or_binary_is_refused_before_it_is_all_read(
        server: LoopbackServer, stdin: bytes, says: str, tmp_path: Path) -> None:
    result = t502_bytes("ask", "hi", server=server, stdin=stdin, tmp_path=tmp_path)
    assert result.returncode == 2 and says in result.stderr
    assert_clean(result)
    assert not server.chat_requests()


HALF = "half \ud800 pair"
"""Half a surrogate pair: json.dumps writes it as the escape "\\ud800", as a server may."""


@pytest.mark.parametrize("reply", [
    stream_reply(sse(chunk(HALF, reasoning=HALF, model=HALF), chunk(finish="stop"))),
    Reply(body=json.dumps({"model": HALF, "choices": [{"message": {"role": "assistant", "content": HALF},
                                                       "finish_reason": "stop"}]})),
    Reply(status=400, body=json.dumps({"error": {"message": HALF}})),
], ids=["stream", "whole", "error"])
def test_half_a_surrogate_pair_from_a_server_is_a_replacement_character(server: LoopbackServer, reply: Reply) -> None:
    server.script("/chat/completions", reply)
    result = t502("ask", "hi", *(["--no-stream"] if reply.chunks is None else []), server=server)
    assert_clean(result)
    assert "half \ufffd pair" in result.stdout + result.stderr
    assert result.returncode == (1 if reply.status == 400 else 0), result.stderr
    listed = t502("history", "list")
    assert listed.returncode == 0 and listed.stderr == ""


def test_ask_no_stream(server: LoopbackServer) -> None:
    body = {"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "whole"}}],
            "usage": usage(1, 2)}
    server.script("/chat/completions", Reply(body=json.dumps(body)))
    result = t502("ask", "--no-stream", "hi", server=server)
    assert result.stdout == "whole\n" and server.chat_requests()[0].json["stream"] is False
    assert "tokens: 1 prompt + 2 completion = 3 total" in result.stderr


def test_ask_with_nothing_to_ask() -> None:
    result = t502("ask")
    assert result.returncode == 2 and result.stderr.startswith("error: nothing to ask")


def test_ask_wrong_key(server: LoopbackServer) -> None:
    server.script("/chat/completions", Reply(401, body=json.dumps({"error": {"message": f"Invalid token {KEY}", "type": "new_api_error"}})))
    result = t502("ask", "hi", server=server)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: the API key was rejected (HTTP 401): Invalid token ***"
    assert_clean(result)


def test_ask_unknown_model_hints(server: LoopbackServer) -> None:
    server.script("/chat/completions", Reply(404, body='{"error": {"message": "model nope does not exist"}}'))
    result = t502("ask", "-m", "nope", "hi", server=server)
    assert result.returncode == 1 and "model nope does not exist" in result.stderr
    assert "t502 models" in result.stderr


def test_ask_dead_port(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("max_retries = 0\n")  # the retries' waits are tested with the client
    config.chmod(0o600)
    result = t502("ask", "hi", T502_BASE_URL="http://127.0.0.1:9/v1", T502_CONFIG=str(config))
    assert result.returncode == 1 and "error: cannot connect to 127.0.0.1:9" in result.stderr
    assert_clean(result)


def test_ask_partial_reply_is_kept(server: LoopbackServer) -> None:
    server.script("/chat/completions", stream_reply(sse(chunk("half an ans"), done=False), drop=True))
    result = t502("ask", "hi", server=server)
    assert result.returncode == 1 and result.stdout == "half an ans\n"
    assert "incomplete" in result.stderr
    assert_clean(result)


def test_ask_escape_sequences_do_not_reach_a_pipe_either(server: LoopbackServer) -> None:
    # `| tee log` or `| less -R` would hand them to the terminal: made visible, as on one.
    server.script("/chat/completions", text_stream("\x1b[31mred\x1b[0m [bold]x[/bold]", pieces=1,
                                                   reasoning="\x1b]0;HACKED\x07"))
    result = t502("ask", "hi", server=server)
    assert result.stdout == "^[[31mred^[[0m [bold]x[/bold]\n" and "\x1b" not in result.stderr


def ask_held_open(server: LoopbackServer, first_line: str, *prompt: str) -> tuple[subprocess.Popen[str], Gate]:
    """Start `t502 ask` on a reply that sends ``first_line`` and then waits at a gate;
    returns once that line has been printed."""
    gate = Gate()
    server.script("/chat/completions", stream_reply([*sse(chunk(first_line), done=False), gate]))
    proc = subprocess.Popen([sys.executable, "-m", "t502_tui", "ask", *prompt], env=env_for(server),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == first_line
    return proc, gate


def test_ctrl_c_keeps_printed_text_and_exits_130(server: LoopbackServer) -> None:
    proc, gate = ask_held_open(server, "partial words\n", "hi")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    gate.open()
    assert proc.returncode == 130 and "Traceback" not in err and "stopped" in err


def test_models_sorted(server: LoopbackServer) -> None:
    server.script("/models", models_reply(["zeta", "Alpha", "beta"]))
    result = t502("models", server=server)
    assert result.returncode == 0 and result.stdout.split() == ["Alpha", "beta", "zeta"]


def test_a_model_list_longer_than_t502_keeps_says_so(server: LoopbackServer) -> None:
    server.script("/models", models_reply([f"model-{i:05}" for i in range(10_050)]))
    result = t502("models", server=server)
    assert result.returncode == 0 and len(result.stdout.split()) == 10_000
    assert "the server lists 10,050 models; t502 keeps the first 10,000" in result.stderr


def test_models_html_page(server: LoopbackServer) -> None:
    server.script("/models", Reply(body="<html><title>Dashboard</title></html>", content_type="text/html"))
    result = t502("models", server=server)
    assert result.returncode == 1 and "Dashboard" in result.stderr and "<" not in result.stderr


def test_broken_config_exits_2(isolated_home: Path) -> None:
    path = isolated_home / "config" / "t502" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("model = [\n")
    result = t502("models")
    assert result.returncode == 2 and str(path) in result.stderr and "line" in result.stderr
    assert_clean(result)


def test_debug_log_never_holds_the_key(server: LoopbackServer, isolated_home: Path) -> None:
    server.script("/chat/completions", Reply(401, body=json.dumps({"error": {"message": f"bad {KEY}"}})))
    t502("--debug", "ask", "hi", server=server)
    log = (isolated_home / "state" / "t502" / "debug.log").read_text()
    assert "HTTP 401" in log and KEY not in log


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["ask", "--help"]])
def test_version_and_help(args: list[str]) -> None:
    result = t502(*args)
    assert result.returncode == 0 and result.stdout.strip()


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    import struct
    import zlib

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_ask_with_images_sends_data_urls(server: LoopbackServer, tmp_path: Path) -> None:
    import base64

    png = tmp_path / "red.png"
    png.write_bytes(tiny_png())
    result = t502("ask", "--image", str(png), "-i", str(png), "what is this?", server=server)
    assert result.returncode == 0, result.stderr
    content = server.chat_requests()[0].json["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "what is this?"}
    assert content[1]["type"] == "image_url"
    assert content[1]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(tiny_png()).decode()
    assert len(content) == 3


@pytest.mark.parametrize(("name", "data", "fragment"), [
    ("missing.png", None, "no such file"),
    ("notes.txt", b"just text", "is not a PNG, JPEG, WebP or GIF image"),
])
def test_ask_with_bad_images(tmp_path: Path, name: str, data: bytes | None, fragment: str) -> None:
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    result = t502("ask", "--image", str(path), "hi")
    assert result.returncode == 2 and fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_ask_image_limits(tmp_path: Path) -> None:
    png = tmp_path / "a.png"
    png.write_bytes(tiny_png())
    config = tmp_path / "config.toml"
    config.write_text("max_images = 1\nmax_image_mb = 0.000001\n")
    too_many = t502("ask", "-i", str(png), "-i", str(png), "hi", T502_CONFIG=str(config))
    assert too_many.returncode == 2 and "at most 1 image can" in too_many.stderr
    too_big = t502("ask", "-i", str(png), "hi", T502_CONFIG=str(config))
    assert too_big.returncode == 2 and "the limit is" in too_big.stderr


def test_ask_holds_the_answer_from_an_image_link_until_its_path_is_known(capsys: pytest.CaptureFixture[str]) -> None:
    from t502_tui.cli import _ReplyPrinter

    printer = _ReplyPrinter(0, hold_links=True)
    for piece in ("Here it is !", "[a cat](https://h.example/cat.png) and ![", "dog](https://h.example/dog.png) done"):
        printer.content(piece)
    assert capsys.readouterr().out == "Here it is "  # the rest waits for the downloads
    printer.release({"https://h.example/cat.png": "/pictures/cat.png"})
    printer.release({})  # once only
    assert capsys.readouterr().out == "/pictures/cat.png and ![dog](https://h.example/dog.png) done"

    exclaiming = _ReplyPrinter(0, hold_links=True)  # a "!" that starts no link holds nothing back
    for piece in ("Hello!", " How are you!", "\n\nFine"):
        exclaiming.content(piece)
    assert capsys.readouterr().out == "Hello! How are you!\n\nFine"
    exclaiming.content("Bye!")
    exclaiming.release({})
    assert capsys.readouterr().out == "Bye!"

    keeping = _ReplyPrinter(0, hold_links=False)  # download_images = false: links print as they come
    keeping.content("![a](https://h.example/a.png)")
    assert capsys.readouterr().out == "![a](https://h.example/a.png)"


def test_ask_says_when_the_answer_has_no_text(server: LoopbackServer) -> None:
    server.script("/chat/completions", stream_reply(sse(chunk(reasoning="thinking only"), chunk(finish="stop"))))
    result = t502("ask", "hi", server=server)
    assert result.returncode == 0 and result.stdout == ""
    assert "note: the answer has no text" in result.stderr
    assert_clean(result)


@pytest.mark.parametrize(("closing", "args"), [(">&-", "models"), (">&-", "ask --no-save hi"), ("<&-", "ask hi"),
                                               ("2>&-", "ask --no-save hi")])
def test_a_closed_standard_stream_is_no_traceback(server: LoopbackServer, closing: str, args: str) -> None:
    # The shell closes it (`t502 models >&-`): Python makes it None.
    script = f'exec "$@" {args} {closing}'
    result = subprocess.run(["sh", "-c", script, "sh", sys.executable, "-m", "t502_tui"], capture_output=True,
                            text=True, env=env_for(server), timeout=60)
    assert result.returncode == 0 and "Traceback" not in result.stderr + result.stdout
    if closing == "2>&-":
        assert result.stdout == "Hello from the loopback server.\n"  # the answer still comes


def test_the_chat_without_a_terminal_says_so(server: LoopbackServer) -> None:
    result = t502(server=server)  # stdin and stdout are pipes here
    assert result.returncode == 2 and "the chat needs a terminal" in result.stderr


def test_every_commands_own_help_says_what_it_does_and_names_its_arguments() -> None:
    import argparse

    from t502_tui.cli import build_parser

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for verb, sub in action.choices.items():
                    assert sub.description, f"{name} {verb} --help says nothing of what it does"
                    walk(sub, f"{name} {verb}")
            elif not action.option_strings:
                assert action.help, f"{name}: {action.dest} is not explained"

    walk(build_parser(), "t502")


@pytest.mark.parametrize("option", ["-f", "-i", "--save-images"])
def test_an_empty_path_is_refused_rather_than_read_as_the_current_folder(option: str) -> None:
    result = t502("ask", option, "", "hi")
    assert result.returncode == 2 and result.stderr.rstrip().endswith(": an empty path")
