"""The ``t502`` command: the TUI by default, ``ask`` and ``models`` for the shell.

Every failure ends as one ``error: ...`` line on stderr and an exit code (1 for a failed
request, 2 for bad usage or a broken config, 130 for Ctrl+C), never a traceback.
Textual is imported only when the TUI starts, so shell commands start fast.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import os
import re
import signal
import sys
from typing import Any, TextIO

from t502_tui import __version__, paths
from t502_tui.config import Config, ConfigError, load_config
from t502_tui.debug_log import debug_requested, enable_debug_log
from t502_tui.cli_history import add_history_commands, command, open_store, run_history_command
from t502_tui.cli_models import list_models, show_balance
from t502_tui.terminal_text import defuse
from t502_tui.text_files import decode_text

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _path_given(text: str) -> str:
    """A path typed on the command line; an empty one ('' from an unset variable) would
    mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path")
    return text


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
    ask.add_argument("-m", "--model", help="model to ask, MODEL or PROVIDER/MODEL (default: from the config)")
    ask.add_argument("--preset", metavar="NAME", help="start from a preset of the config ([presets.NAME])")
    ask.add_argument("-s", "--system", metavar="TEXT", help="system prompt for this question")
    ask.add_argument(
        "--no-stream", action="store_true", help="wait for the whole answer instead of streaming"
    )
    ask.add_argument("--no-save", action="store_true", help="do not keep this exchange in the history")
    ask.add_argument(
        "-i", "--image", action="append", default=[], type=_path_given, metavar="PATH",
        help="attach an image (PNG, JPEG, WebP or GIF); repeat for several",
    )
    ask.add_argument(
        "-f", "--file", action="append", default=[], type=_path_given, metavar="FILE",
        help="send a text or code file as context (a fenced block headed by its name); repeat for several",
    )
    ask.add_argument(
        "--save-images", type=_path_given, metavar="DIR", default=".",
        help="where images the model makes are saved (default: the current folder); the"
        " answer names each file in its place, and each path is printed on stderr",
    )
    ask.add_argument(
        "-c", dest="continue_id", action="store_const", const="",
        help="continue the latest conversation",
    )
    ask.add_argument(
        "--continue", dest="continue_id", nargs="?", const="", metavar="ID",
        help="continue the latest conversation, or the one whose id starts with ID",
    )
    models = command(commands, "models", "list the models every provider offers, one per line")
    models.add_argument("--provider", metavar="NAME", help="only this provider's models")
    models.add_argument("--prices", action="store_true",
                        help="add each model's price (US$ per 1M input/output tokens, or per request) and context")
    command(commands, "balance", "what is left on each provider's key (and what was spent)")
    config = command(commands, "config", "where the config file is, and what is in force")
    config_verbs = config.add_subparsers(dest="verb", required=True)
    command(config_verbs, "path", "print the config file's path")
    command(config_verbs, "show", "print the settings in force, the API key masked")
    add_history_commands(commands)
    return parser


def _error(message: str, stream: TextIO | None = None) -> None:
    print(f"error: {defuse(message)}", file=stream or sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``t502`` console script."""
    _closed_streams_to_devnull()
    for stream in (sys.stdout, sys.stderr):  # an output that cannot take every character
        if isinstance(stream, io.TextIOWrapper):  # (PYTHONIOENCODING=ascii) gets "?" for it
            stream.reconfigure(errors="replace")
    args = _valid_text_args(build_parser().parse_args(argv))
    try:
        config = load_config()
    except ConfigError as exc:
        _error(str(exc))
        return EXIT_USAGE
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if debug_requested(args.debug):
        try:
            path = enable_debug_log([config.api_key])
            print(f"debug log: {path}", file=sys.stderr)
        except OSError as error:
            print(f"warning: no debug log: cannot write {error.filename or 'it'}: {error.strerror or error}",
                  file=sys.stderr)
    try:
        code = _command(config, args)
        sys.stdout.flush()  # now, not at exit, so that a closed pipe is caught here
    except BrokenPipeError:
        # The reader has gone (`t502 history list | head`): stop quietly, as git does.
        # Python's recipe: stdout onto devnull, so the flush at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as error:  # the output cannot be written (`> /dev/full`, a full disk), or a file
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        where = defuse(str(error.filename)) if error.filename else "cannot write the output"
        print(f"error: {where}: {error.strerror or error}", file=sys.stderr)
        return EXIT_FAILED
    return code


_PATH_ARGS = frozenset({"image", "file", "save_images", "output"})
"""Arguments naming files: kept as the OS gave them, so any file name can be opened."""


def _valid_text(word: str) -> str:
    """``word`` with bytes that are not UTF-8 (which Python keeps from the command line
    as lone surrogates, and the store and the network refuse) as U+FFFD."""
    return os.fsencode(word).decode("utf-8", "replace")


def _valid_text_args(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with every text argument (prompt, system prompt, model, ids, queries)
    valid UTF-8: `t502 ask $'\\xff'` was a UnicodeEncodeError traceback from the store."""
    for name, value in vars(args).items():
        if name in _PATH_ARGS:
            continue
        if isinstance(value, str):
            setattr(args, name, _valid_text(value))
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            setattr(args, name, [_valid_text(item) for item in value])
    return args


def _command(config: Config, args: argparse.Namespace) -> int:
    """Run the command ``args`` names: the TUI when there is none."""
    if args.command == "ask":
        return _run(_ask(config, args))
    if args.command == "models":
        return _run(list_models(config, args.provider, args.prices))
    if args.command == "balance":
        return _run(show_balance(config))
    if args.command in ("history", "import"):
        try:
            return run_history_command(args)
        except KeyboardInterrupt:
            print("\nstopped", file=sys.stderr)
            return EXIT_INTERRUPTED
    if args.command == "config":
        return _config(config, args.verb)
    return _tui(config)


class _Signalled(Exception):
    """t502 was asked to end by a signal (SIGTERM, SIGHUP)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _run(coroutine: Any) -> int:
    """Run a command's coroutine; Ctrl+C keeps what was printed and exits 130."""
    try:
        return asyncio.run(coroutine)
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Signalled as ended:
        print(f"\nended by {signal.Signals(ended.signum).name}; the reply so far is saved", file=sys.stderr)
        return 128 + ended.signum


def _config(config: Config, verb: str) -> int:
    """``t502 config path``, and ``t502 config show``: every setting in force, as TOML
    that could go in the file, each with what it does, the key masked."""
    if verb == "path":
        print(config.path)
        return EXIT_OK
    import tomli_w

    from t502_tui.config import mask_secret
    from t502_tui.settings_schema import PROVIDER_FIELDS, SETTINGS, allowed, set_from_env

    exists = config.path is not None and config.path.is_file()
    lines = [f"# {config.path}{'' if exists else ' (not created yet: these are the defaults)'}"]
    tables: list[str] = []
    for setting in SETTINGS:
        value = getattr(config, setting.name)
        if setting.secret:
            value = mask_secret(value)
        elif setting.name == "providers":  # their keys are as secret as the top-level one
            value = {name: {key: _masked(item) if PROVIDER_FIELDS[key].secret else item
                            for key, item in entry.items()} for name, entry in value.items()}
        text = tomli_w.dumps({setting.name: value}).rstrip("\n")
        if env := set_from_env(setting):
            text += f"  # from {env}, which overrides the file"
        about = f"{setting.help[:-1]} ({allowed(setting)})."
        (tables if setting.type is dict else lines).append(f"\n# {about}\n{text}")
    print(defuse("\n".join(lines + tables)))
    return EXIT_OK


def _masked(value: str | dict[str, str]) -> str | dict[str, str]:
    """A secret, or each of a table of them (a provider's headers), masked."""
    from t502_tui.config import mask_secret

    return {key: mask_secret(item) for key, item in value.items()} if isinstance(value, dict) else mask_secret(value)


def _closed_streams_to_devnull() -> None:
    """A standard stream the shell closed (``>&-``, ``2>&-``) is None to Python: it reads as
    empty and takes writes to nowhere, rather than stop t502 with a traceback."""
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, mode, encoding="utf-8"))  # noqa: SIM115 (for the whole run)


def _tui(config: Config) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Textual reading an input at its end (`t502 < /dev/null`) spins a core, and its
        # drawing in a file or a pipe is no use to anyone.
        _error("the chat needs a terminal (its input and output); `t502 ask` answers in a script or a pipe")
        return EXIT_USAGE
    # Start-up makes objects that live as long as the app (modules, styles, widgets), and
    # collecting garbage while they are made took about 50 ms of a 0.35 s start. The app
    # collects once, puts them out of the collector's sight and turns it back on after its
    # first frame (T502App.on_ready).
    gc.disable()
    from t502_tui.providers import configured
    from t502_tui.ui.app import T502App

    configured(config)  # key commands run now, while the terminal is still a terminal
    app = T502App(config)
    app.run()
    return app.return_code or EXIT_OK


def _read_prompt(args: argparse.Namespace, config: Config) -> str:
    """The words given and the text piped in, read to at most ``max_file_kb`` (piped text
    is a file by another road) and decoded as a text file is; ValueError if too large or
    binary."""
    prompt = " ".join(args.prompt)
    if not sys.stdin.isatty():
        limit = config.max_file_kb * 1024
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise ValueError(f"the text piped in is larger than {config.max_file_kb} KB (max_file_kb):"
                             " send a part of it, or raise max_file_kb in the config")
        decoded = decode_text(data)
        if decoded is None:
            raise ValueError("the text piped in looks like a binary file, not text")
        piped = decoded[0].rstrip("\r\n")  # `echo hi |` sends "hi", not "hi" and an empty line
        if piped.strip():
            prompt = f"{prompt}\n\n{piped}" if prompt else piped
    return prompt


_IMAGE_LINK = re.compile(r"!\[[^\[\]\n]*\]\(\s*<?(https?://[^\s<>()]+)>?(?:\s+\"[^\"\n]*\")?\s*\)")
"""A Markdown image link to the web; group 1 is the address."""


class _ReplyPrinter:
    """Shows a turn on the terminal: the answer on stdout, reasoning dimmed on stderr,
    retries as notes. Images the model makes are saved in ``image_dir`` and named by
    their path in the answer: base64 is never printed. With ``hold_links``, the answer is
    held back from the first image link on, until the linked images are downloaded and
    their paths can stand in the links' place (:meth:`release`)."""

    def __init__(self, max_retries: int, image_dir: Any = None, hold_links: bool = False) -> None:
        self.max_retries = max_retries
        self.out_tty = sys.stdout.isatty()
        self.err_tty = sys.stderr.isatty()
        self.in_reasoning = False
        self.last_out = "\n"
        self.error: Any = None
        """The ServiceError the reply ended with, if any."""
        self.image_dir = image_dir
        self.reply: Any = None
        self.saved: list[str] = []
        """Files saved while the answer streams, said on stderr once its lines end."""
        self.hold_links = hold_links
        self.held: list[str] | None = None
        """The answer from its first image link (``![``) on, not printed yet."""
        self.bang = ""
        """A "!" that ended the last piece: printed once the next shows it starts no link."""

    def __call__(self, event: Any) -> None:
        from t502_tui.turn import ReplyEnded, ReplyGrew, ReplyStarted, RetryWaiting

        if isinstance(event, ReplyStarted):
            self.reply = event.reply
        elif isinstance(event, ReplyEnded):
            self.error = event.error
        elif isinstance(event, ReplyGrew):
            if event.reasoning:
                self.reasoning(event.reasoning)
            if event.content:
                self.content(event.content)
        elif isinstance(event, RetryWaiting):
            notice = event.notice
            self.end()
            print(f"note: {defuse(notice.reason)}; retrying in {notice.delay:.1f} s"
                  f" ({notice.attempt}/{self.max_retries})", file=sys.stderr, flush=True)

    def reasoning(self, text: str) -> None:
        text = defuse(text)  # piped too: `| tee` shows it on a terminal
        if self.err_tty:
            text = f"\x1b[2m{text}\x1b[22m"
        sys.stderr.write(text)
        sys.stderr.flush()
        self.in_reasoning = True

    def save_image(self, index: int, origin: str = "") -> str:
        """Save the reply's image ``index`` (from 1); its path, or a note if it could not be."""
        path = self.saved_image(index, origin)
        return str(path) if path is not None else f"[image {index}: not saved]"

    def saved_image(self, index: int, origin: str = "") -> Any:
        """Save the reply's image ``index`` (from 1); its path, None if it could not be."""
        from t502_tui.media import EXTENSIONS
        from t502_tui.reply_media import unique_path, write_image

        images = self.reply.attachments if self.reply is not None else []
        if not 1 <= index <= len(images) or self.image_dir is None:
            return None
        image = images[index - 1]
        name = f"{self.reply.created:%Y%m%d-%H%M%S}-image-{index}.{EXTENSIONS.get(image.mime, 'img')}"
        try:
            path = write_image(image, unique_path(self.image_dir, name))
        except OSError as error:
            self.end()
            _error(f"image {index} could not be saved in {self.image_dir}: {error.strerror or error}")
            return None
        self.saved.append(f"saved {path}{origin}")
        return path

    def note(self, text: str) -> None:
        """A line on stderr, after any reasoning line."""
        if self.in_reasoning:
            sys.stderr.write("\n")
            self.in_reasoning = False
        print(defuse(text), file=sys.stderr, flush=True)

    def content(self, text: str) -> None:
        if "](attachment:" in text:
            from t502_tui.media import REFERENCE

            text = REFERENCE.sub(lambda match: self.save_image(int(match.group(2))), text)
        if self.held is not None:
            self.held.append(text)
            return
        if self.hold_links:
            text, self.bang = self.bang + text, ""
            start = text.find("![")
            if start >= 0:
                self.held = [text[start:]]
                text = text[:start]
            elif text.endswith("!"):  # "[" may come with the next piece: wait for it
                text, self.bang = text[:-1], "!"
        if text:
            self._write(text)

    def _write(self, text: str) -> None:
        if self.in_reasoning:
            sys.stderr.write("\n")
            self.in_reasoning = False
        sys.stdout.write(defuse(text))  # piped too: `| tee` or `| less -R` shows it on a terminal
        sys.stdout.flush()
        self.last_out = text[-1]

    def release(self, paths: dict[str, str]) -> None:
        """Print the answer held back, each image link whose image was saved replaced by
        the file's path (``paths``: link → path)."""
        text, self.bang = self.bang, ""
        if self.held is not None:
            text, self.held = "".join(self.held), None
        if paths:
            text = _IMAGE_LINK.sub(lambda match: paths.get(match.group(1), match.group(0)), text)
        if text:
            self._write(text)

    def end(self) -> None:
        """Finish the current lines so the prompt or the next message starts clean."""
        if self.in_reasoning:
            sys.stderr.write("\n")
            self.in_reasoning = False
        if self.last_out != "\n":
            sys.stdout.write("\n")
            self.last_out = "\n"
        sys.stdout.flush()
        for line in self.saved:
            self.note(line)
        self.saved.clear()


def _conversation_for(config: Config, args: argparse.Namespace, store: Any, session: Any) -> Any:
    """The conversation this question belongs to: a new one (from a preset, if asked), or
    the one to continue."""
    from t502_tui.conversation import Conversation
    from t502_tui.presets import find_preset
    from t502_tui.settings_schema import BY_NAME, SettingError, validate

    if args.model is not None:  # held to what the config's model may be (no escapes to store)
        try:
            args.model = validate(BY_NAME["model"], args.model)
        except SettingError as error:
            raise LookupError(f"--model {error.reason}") from None
    if args.continue_id is None:
        preset = None
        if args.preset:
            preset = find_preset(config, args.preset)
            if preset is None:
                names = (f"the config has: {', '.join(config.presets)}" if config.presets
                         else "the config defines none: add [presets.NAME] to it")
                raise LookupError(f"there is no preset {args.preset!r} ({names})")
        provider, model = session.split(args.model or (preset and preset.model) or config.model)
        system = preset.system_prompt if preset and preset.system_prompt is not None else config.system_prompt
        return Conversation(
            model=model, provider=provider,
            system_prompt=args.system if args.system is not None else system,
            settings=dict(preset.params) if preset else {}, preset=preset.name if preset else "",
        )
    if store is None:
        raise LookupError("there is no history to continue (see the warning above)")
    ident = store.find_conversation(args.continue_id) if args.continue_id else store.latest_conversation_id()
    if ident is None:
        raise LookupError("there is no conversation to continue yet")
    conversation = store.load_conversation(ident)
    if args.model:
        conversation.provider, conversation.model = session.split(args.model, conversation.provider)
    if args.system is not None:
        conversation.system_prompt = args.system
    return conversation


def _load_attachments(config: Config, images: list[str], files: list[str]) -> list[Any]:
    """The images given with --image and the files given with --file, checked against
    the configured limits."""
    from pathlib import Path

    from t502_tui.attachments import check_count, load_attachment, load_image

    check_count(len(images), config.max_images)
    check_count(len(files), config.max_files, "text file")
    image_bytes = int(config.max_image_mb * 1024 * 1024)
    loaded = [load_image(Path(p).expanduser(), image_bytes) for p in images]
    loaded += [load_attachment(Path(p).expanduser(), image_bytes, config.max_file_kb * 1024) for p in files]
    check_count(sum(not a.is_text for a in loaded), config.max_images)
    check_count(sum(a.is_text for a in loaded), config.max_files, "text file")
    return loaded


def _say_if_it_cannot_fit(session: Any, conversation: Any, prompt: Any) -> None:
    """A note on stderr when the request is larger than the model's known context."""
    from t502_tui.context_fit import budget, limit_text, request_tokens
    from t502_tui.tokens import short_count

    name = session.provider_of(conversation)
    context = session.context_for(name, conversation.model)
    if context is None:
        return
    tokens = request_tokens(conversation, prompt.content, prompt.attachments)
    limit = budget(context, session.request_params(conversation))
    if tokens > limit:
        print(f"warning: this request is ≈{short_count(tokens)} tokens and {defuse(conversation.model)} takes"
              f" {limit_text(context, limit)}; it will likely be refused (start a new conversation, send less,"
              " or pick a model with a larger context)", file=sys.stderr)


async def _ask(config: Config, args: argparse.Namespace) -> int:
    from pathlib import Path

    from t502_tui.attachments import AttachmentError
    from t502_tui.context_fit import context_error
    from t502_tui.conversation import ChatMessage, ReplyStatus
    from t502_tui.history import History
    from t502_tui.prices import format_cost
    from t502_tui.service import ServiceError
    from t502_tui.session import ChatSession
    from t502_tui.store import StoreError

    if args.continue_id and not re.fullmatch(r"[0-9a-f]{4,32}", args.continue_id):
        # `--continue why is that?`: the words are the question, not an id.
        args.prompt.insert(0, args.continue_id)
        args.continue_id = ""
    try:
        prompt = _read_prompt(args, config)
    except ValueError as error:
        _error(str(error))
        return EXIT_USAGE
    if not prompt.strip() and not args.file:
        _error("nothing to ask: give a prompt, or pipe text into t502 ask")
        return EXIT_USAGE
    image_dir = Path(args.save_images).expanduser()
    try:
        if image_dir.exists() and not image_dir.is_dir():
            raise NotADirectoryError(0, "not a folder")
        paths.new_dirs(image_dir)
    except OSError as error:
        _error(f"--save-images {args.save_images}: {error.strerror or error}")
        return EXIT_USAGE
    try:
        attachments = await asyncio.to_thread(_load_attachments, config, args.image, args.file)
    except AttachmentError as error:
        _error(str(error))
        return EXIT_USAGE
    store = None
    if not args.no_save or args.continue_id is not None:
        store = open_store(warn=True)
    session = ChatSession(config)
    try:
        conversation = _conversation_for(config, args, store, session)
        provider = session.provider(session.provider_of(conversation))
    except (LookupError, StoreError, ServiceError) as exc:
        if store is not None:
            store.close()
        _error(str(exc))
        return EXIT_USAGE
    if provider.problem:
        if store is not None:
            store.close()
        _error(provider.problem)
        return EXIT_FAILED
    if args.no_save and store is not None:
        store.close()
        store = None

    def store_failed(error: StoreError) -> None:
        print(f"warning: not saved: {defuse(str(error))}", file=sys.stderr)

    session.history = History(store, store_failed) if store is not None else None
    facts = session.facts(provider.name)
    await facts.use_cached_models()
    facts.load_pricing(session.client_for(provider.name))  # alongside the request, for the cost
    message = ChatMessage("user", prompt, attachments=attachments)
    _say_if_it_cannot_fit(session, conversation, message)
    printer = _ReplyPrinter(config.max_retries, image_dir, hold_links=config.download_images)
    try:
        reply = await _run_turn(session, conversation, message, printer, stream=not args.no_stream)
        await _keep_linked_images(session, reply, printer)
    finally:
        printer.release({})  # whatever happened, the answer is printed
        printer.end()
        await session.aclose()
    if reply.status is not ReplyStatus.COMPLETE:
        suffix = " (the reply above is incomplete)" if reply.content and "incomplete" not in (reply.error or "") else ""
        _error(f"{reply.error or reply.status.value}{suffix}")
        if context_error(printer.error) is not None:
            print("note: the conversation is too long for this model: start a new one (without -c),"
                  " send less, or pick a model with a larger context (-m)", file=sys.stderr)
        return EXIT_FAILED
    if note := reply.finish_note:
        print(f"note: {note} (finish_reason: {reply.finish_reason})", file=sys.stderr)
    elif not reply.content.strip() and not reply.attachments:
        print("note: the answer has no text", file=sys.stderr)
    usage = reply.usage
    model = defuse(session.ref(conversation.provider, reply.model or ""))
    cost = f" · {format_cost(reply.cost)}" if reply.cost is not None else ""
    print(f"{model} · tokens: {usage.describe()}{cost}" if usage else f"{model} · usage not reported by the server{cost}",
          file=sys.stderr)
    return EXIT_OK


async def _keep_linked_images(session: Any, reply: Any, printer: _ReplyPrinter) -> None:
    """Download the images the reply links to (unless ``download_images`` is off), keep
    them with it, and save each one."""
    from t502_tui.reply_media import keep_linked_images, pending_images

    if not session.config.download_images:
        return
    if count := len(pending_images(reply)):  # the text waits for them, to name the files it saved
        printer.note(f"downloading {count} image{'s' if count > 1 else ''} the reply links to"
                     " (the answer follows; Ctrl+C prints it now)")
    before = len(reply.attachments)
    own_url, own_key = session.server_of(reply.provider or "")
    await keep_linked_images(reply, session.history, lambda: None, own_url=own_url, own_key=own_key)
    paths = {}
    for index, image in enumerate(reply.attachments[before:], before + 1):
        path = printer.saved_image(index, f" (from {image.source})")
        if path is not None and image.source:
            paths[image.source] = str(path)
    printer.release(paths)
    printer.end()
    for url, state in reply.media.items():
        if state.error:
            printer.note(f"warning: {url} was not downloaded: {state.error}")


async def _run_turn(session: Any, conversation: Any, prompt: Any, printer: _ReplyPrinter, stream: bool) -> Any:
    """Run the turn; SIGTERM and SIGHUP (the terminal closed) end it like Ctrl+C does, but
    the reply is kept as interrupted and t502 exits with 128 + the signal's number."""
    from t502_tui.turn import Turn

    turn = Turn(session, conversation, printer, stream=stream)
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def end(signum: int) -> None:
        received.append(signum)
        turn.interrupt()
        if task is not None:
            task.cancel()

    for signum in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, end, signum)
    try:
        return await turn.run(prompt)
    except asyncio.CancelledError:
        if received:
            raise _Signalled(received[0]) from None
        raise
    finally:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(signum)
