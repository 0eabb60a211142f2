"""The ``t502`` command: the TUI by default, ``ask`` and ``models`` for the shell.

Every failure ends as one ``error: ...`` line on stderr and an exit code (1 for a failed
request, 2 for bad usage or a broken config, 130 for Ctrl+C), never a traceback.
Textual is imported only when the TUI starts, so shell commands start fast.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from typing import Any, TextIO

from t502_tui import __version__
from t502_tui.config import ENV_API_KEY, ENV_BASE_URL, ENV_MODEL, Config, ConfigError, load_config
from t502_tui.debug_log import debug_requested, enable_debug_log
from t502_tui.cli_history import add_history_commands, open_store, run_history_command
from t502_tui.terminal_text import defuse

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    """The command line, documented for ``--help``."""
    parser = argparse.ArgumentParser(
        prog="t502",
        description="Chat with Token502 or any OpenAI-compatible API. "
        "With no command, opens the full-screen chat.",
        epilog="Environment: T502_API_KEY, T502_BASE_URL, T502_MODEL override the config "
        "file; T502_CONFIG names another config file; T502_DEBUG=1 writes a debug log.",
    )
    parser.add_argument("--version", action="version", version=f"t502 {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="write a debug log under $XDG_STATE_HOME/t502/"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    ask = commands.add_parser(
        "ask",
        help="ask one question and stream the answer to stdout",
        description="Send PROMPT (and any text piped on stdin, added after it) and stream "
        "the answer to stdout. Reasoning goes to stderr, then one usage line.",
    )
    ask.add_argument("prompt", nargs="*", metavar="PROMPT", help="the question (words are joined)")
    ask.add_argument("-m", "--model", help="model to ask (default: from the config)")
    ask.add_argument("-s", "--system", metavar="TEXT", help="system prompt for this question")
    ask.add_argument(
        "--no-stream", action="store_true", help="wait for the whole answer instead of streaming"
    )
    ask.add_argument("--no-save", action="store_true", help="do not keep this exchange in the history")
    ask.add_argument(
        "-i", "--image", action="append", default=[], metavar="PATH",
        help="attach an image (PNG, JPEG, WebP or GIF); repeat for several",
    )
    ask.add_argument(
        "-c", dest="continue_id", action="store_const", const="",
        help="continue the latest conversation",
    )
    ask.add_argument(
        "--continue", dest="continue_id", nargs="?", const="", metavar="ID",
        help="continue the latest conversation, or the one whose id starts with ID",
    )
    commands.add_parser("models", help="list the models the server offers, one per line")
    config = commands.add_parser("config", help="where the config file is, and what is in force")
    config_verbs = config.add_subparsers(dest="verb", metavar="VERB", required=True)
    config_verbs.add_parser("path", help="print the config file's path")
    config_verbs.add_parser("show", help="print the settings in force, the API key masked")
    add_history_commands(commands)
    return parser


def _error(message: str, stream: TextIO | None = None) -> None:
    print(f"error: {defuse(message)}", file=stream or sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``t502`` console script."""
    args = build_parser().parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        _error(str(exc))
        return EXIT_USAGE
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if debug_requested(args.debug):
        path = enable_debug_log([config.api_key])
        print(f"debug log: {path}", file=sys.stderr)
    try:
        if args.command == "ask":
            return _run(_ask(config, args))
        if args.command == "models":
            return _run(_models(config))
        if args.command in ("history", "import"):
            return run_history_command(args)
        if args.command == "config":
            return _config(config, args.verb)
        return _tui(config)
    except BrokenPipeError:
        return EXIT_OK


def _run(coroutine: Any) -> int:
    """Run a command's coroutine; Ctrl+C keeps what was printed and exits 130."""
    try:
        return asyncio.run(coroutine)
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return EXIT_INTERRUPTED


def _config(config: Config, verb: str) -> int:
    """``t502 config path``, and ``t502 config show``: every setting in force, as TOML
    that could go in the file, each with what it does, the key masked."""
    if verb == "path":
        print(config.path)
        return EXIT_OK
    import tomli_w

    from t502_tui.config import mask_secret
    from t502_tui.settings_schema import SETTINGS, allowed

    exists = config.path is not None and config.path.is_file()
    lines = [f"# {config.path}{'' if exists else ' (not created yet: these are the defaults)'}"]
    tables: list[str] = []
    for setting in SETTINGS:
        value = getattr(config, setting.name)
        if setting.secret:
            value = mask_secret(value)
        text = tomli_w.dumps({setting.name: value}).rstrip("\n")
        if setting.env and os.environ.get(setting.env, "").strip():
            text += f"  # from {setting.env}, which overrides the file"
        about = f"{setting.help[:-1]} ({allowed(setting)})."
        (tables if setting.type is dict else lines).append(f"\n# {about}\n{text}")
    print(defuse("\n".join(lines + tables)))
    return EXIT_OK


def _tui(config: Config) -> int:
    from t502_tui.ui.app import T502App

    T502App(config).run()
    return EXIT_OK


def _client(config: Config, quiet: bool = False) -> Any:
    from t502_tui.service import ChatClient, RetryNotice

    def on_retry(notice: RetryNotice) -> None:
        if not quiet:
            print(
                f"note: {defuse(notice.reason)}; retrying in {notice.delay:.1f} s"
                f" ({notice.attempt}/{config.max_retries})",
                file=sys.stderr,
                flush=True,
            )

    return ChatClient(
        config.base_url,
        config.api_key,
        idle_timeout=config.timeout,
        connect_timeout=config.connect_timeout,
        max_retries=config.max_retries,
        on_retry=on_retry,
    )


def _hint(config: Config, error: Any) -> str:
    """A pointer to the likely fix, for the errors where one is known."""
    status = getattr(error, "status", None)
    if status == 401 and not config.api_key:
        return f" (no API key is set: put api_key in {config.path} or set T502_API_KEY)"
    if status == 404:
        return " (check the model name: `t502 models` lists them; and the base URL)"
    return ""


async def _models(config: Config) -> int:
    from t502_tui.service import ServiceError

    async with _client(config) as client:
        try:
            models = await client.list_models()
        except ServiceError as error:
            _error(error.message + _hint(config, error))
            return EXIT_FAILED
    for ident in sorted({m.id for m in models}, key=str.lower):
        print(defuse(ident))
    return EXIT_OK


def _read_prompt(args: argparse.Namespace) -> str:
    prompt = " ".join(args.prompt)
    if not sys.stdin.isatty():
        piped = sys.stdin.read()
        if piped.strip():
            prompt = f"{prompt}\n\n{piped}" if prompt else piped
    return prompt


class _ReplyPrinter:
    """Writes a reply as it streams: answer to stdout, reasoning dimmed on stderr."""

    def __init__(self) -> None:
        self.out_tty = sys.stdout.isatty()
        self.err_tty = sys.stderr.isatty()
        self.in_reasoning = False
        self.last_out = "\n"

    def reasoning(self, text: str) -> None:
        if self.err_tty:
            text = f"\x1b[2m{defuse(text)}\x1b[22m"
        sys.stderr.write(text)
        sys.stderr.flush()
        self.in_reasoning = True

    def content(self, text: str) -> None:
        if self.in_reasoning:
            sys.stderr.write("\n")
            self.in_reasoning = False
        if text:
            sys.stdout.write(defuse(text) if self.out_tty else text)
            sys.stdout.flush()
            self.last_out = text[-1]

    def end(self) -> None:
        """Finish the current lines so the prompt or the next message starts clean."""
        if self.in_reasoning:
            sys.stderr.write("\n")
            self.in_reasoning = False
        if self.last_out != "\n":
            sys.stdout.write("\n")
            self.last_out = "\n"
        sys.stdout.flush()


def _finish_note(reason: str | None) -> str | None:
    if reason == "length":
        return "the reply was cut off at the token limit (finish_reason: length)"
    if reason == "content_filter":
        return "the provider's content filter stopped the reply"
    return None


def _conversation_for(config: Config, args: argparse.Namespace, runner: Any) -> Any:
    """The conversation this question belongs to: a new one, or the one to continue."""
    from t502_tui.conversation import Conversation

    if args.continue_id is None:
        return Conversation(
            model=args.model or config.model,
            system_prompt=args.system if args.system is not None else config.system_prompt,
        )
    if runner is None:
        raise LookupError("there is no history to continue (see the warning above)")
    store = runner.store
    ident = store.find_conversation(args.continue_id) if args.continue_id else store.latest_conversation_id()
    if ident is None:
        raise LookupError("there is no conversation to continue yet")
    conversation = store.load_conversation(ident)
    if args.model:
        conversation.model = args.model
    if args.system is not None:
        conversation.system_prompt = args.system
    return conversation


def _load_images(config: Config, paths: list[str]) -> list[Any]:
    """The images given with --image, checked against the configured limits."""
    from pathlib import Path

    from t502_tui.attachments import check_count, load_image

    check_count(len(paths), config.max_images)
    return [load_image(Path(p).expanduser(), int(config.max_image_mb * 1024 * 1024)) for p in paths]


async def _ask(config: Config, args: argparse.Namespace) -> int:
    from t502_tui.attachments import AttachmentError
    from t502_tui.conversation import ChatMessage, ReplyStatus
    from t502_tui.recording import ReplyRecorder
    from t502_tui.store import StoreError, StoreRunner

    if args.continue_id and not re.fullmatch(r"[0-9a-f]{4,32}", args.continue_id):
        # `--continue why is that?`: the words are the question, not an id.
        args.prompt.insert(0, args.continue_id)
        args.continue_id = ""
    prompt = _read_prompt(args)
    if not prompt.strip():
        _error("nothing to ask: give a prompt, or pipe text into t502 ask")
        return EXIT_USAGE
    try:
        images = await asyncio.to_thread(_load_images, config, args.image)
    except AttachmentError as error:
        _error(str(error))
        return EXIT_USAGE
    runner = None
    if not args.no_save or args.continue_id is not None:
        store = open_store(warn=True)
        runner = StoreRunner(store) if store else None
    try:
        try:
            conversation = _conversation_for(config, args, runner)
        except (LookupError, StoreError) as exc:
            _error(str(exc))
            return EXIT_USAGE
        if args.no_save:
            runner = None

        def store_failed(error: StoreError) -> None:
            print(f"warning: not saved: {defuse(str(error))}", file=sys.stderr)

        question = ChatMessage("user", prompt, attachments=images)
        conversation.messages.append(question)
        if runner is not None:
            try:
                await runner.run(runner.store.add_message, conversation, question)
                await runner.run(runner.store.save_conversation, conversation)
            except StoreError as error:
                store_failed(error)
                runner = None
        history = conversation.request_messages(config.system_role)
        reply = ChatMessage("assistant", model=conversation.model, status=ReplyStatus.STREAMING)
        conversation.messages.append(reply)
        recorder = ReplyRecorder(conversation, reply, runner, store_failed)
        return await _stream_answer(config, args, conversation.model, history, recorder)
    finally:
        if runner is not None:
            runner.close()


async def _stream_answer(config: Config, args: argparse.Namespace, model: str,
                         history: list[dict[str, Any]], recorder: Any) -> int:
    """Ask, print the answer as it comes, and record it as it grows."""
    from t502_tui.conversation import ReplyStatus
    from t502_tui.service import ContentDelta, Finished, ReasoningDelta, ServiceError, UsageReport

    printer = _ReplyPrinter()
    reply = recorder.message
    async with _client(config) as client:
        try:
            if args.no_stream:
                completion = await client.complete(history, model, **config.params)
                if completion.reasoning:
                    await recorder.add_reasoning(completion.reasoning)
                    printer.reasoning(completion.reasoning)
                await recorder.add_content(completion.content)
                printer.content(completion.content)
                if completion.usage:
                    recorder.set_usage(completion.usage)
                reply.finish_reason = completion.finish_reason
            else:
                async for event in client.stream_chat(history, model, **config.params):
                    # Recorded before printed: what the user saw is always in the history.
                    if isinstance(event, ContentDelta):
                        await recorder.add_content(event.text)
                        printer.content(event.text)
                    elif isinstance(event, ReasoningDelta):
                        await recorder.add_reasoning(event.text)
                        printer.reasoning(event.text)
                    elif isinstance(event, UsageReport):
                        recorder.set_usage(event.usage)
                    elif isinstance(event, Finished):
                        reply.finish_reason = event.finish_reason
        except ServiceError as error:
            printer.end()
            await recorder.finish(ReplyStatus.ERROR, error.message)
            suffix = " (the reply above is incomplete)" if error.partial else ""
            _error(error.message + suffix + _hint(config, error))
            return EXIT_FAILED
        except asyncio.CancelledError:
            printer.end()
            await asyncio.shield(recorder.finish(ReplyStatus.STOPPED))
            raise
        finally:
            printer.end()
    await recorder.finish(ReplyStatus.COMPLETE)
    if note := _finish_note(reply.finish_reason):
        print(f"note: {note}", file=sys.stderr)
    usage = reply.usage
    print(
        f"{model} · tokens: {usage.describe()}" if usage else f"{model} · usage not reported by the server",
        file=sys.stderr,
    )
    return EXIT_OK
