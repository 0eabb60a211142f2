"""``t502 history ...`` and ``t502 import``: the saved conversations from the shell."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from t502_tui import paths
from t502_tui.terminal_text import defuse, first_up, visible_name

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


MOST_LISTED = 1_000_000
"""The most conversations ``history list -n`` asks for (SQLite's integers end at 2**63)."""


def _count(text: str) -> int:
    """A number of rows: 1 or more (0 and -1 listed one row; 10**20 was a traceback)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return min(value, MOST_LISTED)


def command(commands: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    """A subcommand whose own --help says what it does, as the list of commands does."""
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text, description=first_up(help_text) + ".")
    return parser


def add_history_commands(commands: Any) -> None:
    """Add ``history`` (with its verbs) and ``import`` to the command parser."""
    history = command(commands, "history", "list, show, search, export or delete saved conversations")
    verbs = history.add_subparsers(dest="verb", required=True)
    listing = command(verbs, "list", "saved conversations, newest first")
    listing.add_argument("-n", "--limit", type=_count, default=50, help="how many (default 50)")
    listing.add_argument("--archived", action="store_true", help="list archived conversations instead")
    show = command(verbs, "show", "print a conversation")
    show.add_argument("id", help="conversation id (a unique start of it is enough)")
    search = command(verbs, "search", "full-text search over every message")
    search.add_argument("query", nargs="+", help="words every message found holds (the last may be a start)")
    export = command(verbs, "export", "write a conversation as Markdown or JSON")
    export.add_argument("id", help="conversation id (a unique start of it is enough)")
    export.add_argument("--format", choices=("md", "json"),
                        help="md (Markdown) or json (re-importable); by default json for -o NAME.json, else md")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    delete = command(verbs, "delete", "delete a conversation for good")
    delete.add_argument("id", help="conversation id (at least 4 characters of its start)")
    verbs.add_parser(
        "recover", help="save what can be read from a damaged history into a new one",
        description="Copy every conversation and message that can still be read from a damaged "
        "history database into a new one, which takes its place; the damaged file is kept beside "
        "it under a dated name. Close t502 first.",
    )
    importer = command(commands, "import", "bring back a conversation exported as JSON")
    importer.add_argument("file", metavar="FILE.json", help="a file written by t502 history export --format json")


def open_store(warn: bool = False) -> Any:
    """The store, or None with one line on stderr saying why it cannot be used."""
    from t502_tui.store import Store, StoreError, default_path

    try:
        return Store(default_path())
    except StoreError as error:
        print(f"{'warning' if warn else 'error'}: {defuse(str(error))}", file=sys.stderr)
        return None


def run_history_command(args: argparse.Namespace) -> int:
    """Run ``history VERB`` or ``import``; one ``error:`` line on failure."""
    from t502_tui.store import StoreError

    if args.command == "history" and args.verb == "recover":
        return _recover()
    store = open_store()
    if store is None:
        return EXIT_FAILED
    try:
        if args.command == "import":
            return _import(store, Path(args.file))
        return _VERBS[args.verb](store, args)
    except StoreError as error:
        print(f"error: {defuse(str(error))}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        raise  # stdout was closed (`| head`): main() ends quietly
    except OSError as error:
        where = defuse(str(error.filename)) if error.filename else "cannot write the output"
        print(f"error: {where}: {error.strerror or error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        store.close()


def _list(store: Any, args: argparse.Namespace) -> int:
    rows = store.list_conversations(limit=max(1, args.limit), archived=args.archived)
    if not rows:
        print("no archived conversations" if args.archived else "no saved conversations yet", file=sys.stderr)
    for row in rows:
        print(f"{row.id[:8]}  {row.updated:%Y-%m-%d %H:%M}  {row.message_count:>4} msgs  "
              f"{visible_name(row.writer or '-'):<24}  {visible_name(row.title)}")
    return EXIT_OK


def _show(store: Any, args: argparse.Namespace) -> int:
    from t502_tui.export import to_markdown

    conversation = store.load_conversation(store.find_conversation(args.id))
    text = to_markdown(conversation)
    print(defuse(text) if sys.stdout.isatty() else text)
    return EXIT_OK


def _search(store: Any, args: argparse.Namespace) -> int:
    from t502_tui.store import HIT_END, HIT_START

    hits = store.search(" ".join(args.query))
    if not hits:
        print("no matches", file=sys.stderr)
        return EXIT_FAILED
    on, off = ("\x1b[1m", "\x1b[22m") if sys.stdout.isatty() else ("", "")
    marks = {HIT_START: on, HIT_END: off}
    for hit in hits:
        parts = re.split(f"([{HIT_START}{HIT_END}])", hit.snippet)
        snippet = " ".join("".join(marks.get(p, defuse(p)) for p in parts).split())
        print(f"{hit.conversation_id[:8]}  {hit.created:%Y-%m-%d %H:%M}  {visible_name(hit.title)}\n"
              f"    {visible_name(hit.writer)}: {snippet}")
    return EXIT_OK


def _export(store: Any, args: argparse.Namespace) -> int:
    from t502_tui.export import to_json, to_markdown, write_markdown

    ident = store.find_conversation(args.id)
    conversation = store.load_conversation(ident)
    if args.format is None:  # as the file's name says, else Markdown
        args.format = "json" if args.output and args.output.lower().endswith(".json") else "md"
    if args.format == "json":
        text = to_json(conversation, store.all_messages(ident), store.summary(ident).updated)
    else:
        text = to_markdown(conversation)
    if args.output:
        images = 0
        try:
            if args.format == "md":
                images = write_markdown(conversation, Path(args.output))
            else:
                paths.write_private(Path(args.output), text)
        except OSError as error:
            print(f"error: cannot write {defuse(args.output)}: {error.strerror or error}", file=sys.stderr)
            return EXIT_FAILED
        extra = f" and {images} image{'s' if images != 1 else ''} beside it" if images else ""
        print(f"wrote {defuse(args.output)}{extra}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


DELETE_PREFIX = 4
"""Characters of an id `history delete` needs at least: a stray "2" must not pick one."""


def _delete(store: Any, args: argparse.Namespace) -> int:
    if len(args.id) < DELETE_PREFIX:
        print(f"error: give at least {DELETE_PREFIX} characters of the id to delete a conversation "
              "(`t502 history list` shows 8)", file=sys.stderr)
        return EXIT_USAGE
    summary = store.summary(store.find_conversation(args.id))
    store.delete(summary.id)
    print(f"deleted {summary.id[:8]} ({visible_name(summary.title)})", file=sys.stderr)
    return EXIT_OK


def _import(store: Any, path: Path) -> int:
    from t502_tui.export import ImportError_, read_export_file

    try:
        exported = read_export_file(path)
    except ImportError_ as error:
        print(f"error: {defuse(str(path))} cannot be imported: {defuse(str(error))}", file=sys.stderr)
        return EXIT_FAILED
    original = exported.conversation.id
    summary = store.summary(store.import_conversation(exported.conversation, exported.leaf, exported.updated))
    copy = "" if summary.id == original else f"; {original[:8]} was already in the history, so this is a copy"
    print(f"imported {summary.id[:8]} ({visible_name(summary.title)}, {summary.message_count} "
          f"message{'' if summary.message_count == 1 else 's'}){copy}", file=sys.stderr)
    return EXIT_OK


def _recover() -> int:
    from t502_tui.store import StoreError, default_path
    from t502_tui.store_recovery import recover_store

    path = default_path()
    try:
        recovery = recover_store(path)
    except StoreError as error:
        print(f"error: {defuse(str(error))}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        raise  # stdout was closed (`| head`): main() ends quietly
    except OSError as error:
        print(f"error: could not recover {path}: {defuse(str(error))}", file=sys.stderr)
        return EXIT_FAILED
    if recovery is None:
        print(f"{path} is not damaged; nothing to recover", file=sys.stderr)
        return EXIT_OK
    skipped = f"; {recovery.skipped} damaged part{'s' if recovery.skipped != 1 else ''} could not be read"
    print(f"recovered {recovery.conversations} conversations, {recovery.messages} messages and "
          f"{recovery.images} images into {path}{skipped if recovery.skipped else ''}; "
          f"the damaged file is kept as {recovery.damaged_copy}", file=sys.stderr)
    return EXIT_OK


_VERBS = {"list": _list, "show": _show, "search": _search, "export": _export, "delete": _delete}
