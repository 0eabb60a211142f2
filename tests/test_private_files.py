"""Everything t502 writes is private to its user (files 0600, folders 0700), whatever the umask."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from t502_tui import debug_log, model_catalog, paths
from t502_tui.conversation import ChatMessage, Conversation
from t502_tui.store import Store, default_path
from t502_tui.theme_files import load_theme_specs, user_theme_dir
from test_cli import t502


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o002], ids=["umask022", "umask002"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_store_database_wal_and_folders(umask: int, isolated_home: Path) -> None:
    store = Store(default_path())
    conversation = Conversation(model="m")
    message = ChatMessage("user", "private words")
    conversation.messages.append(message)
    store.add_message(conversation, message)
    db = default_path()
    files = [db, db.with_name("t502.db-wal"), db.with_name("t502.db-shm")]
    assert [mode(f) for f in files] == [0o600] * 3
    assert mode(db.parent) == 0o700 and mode(isolated_home / "data") == 0o700
    store.close()


def test_an_existing_loose_store_is_tightened(isolated_home: Path) -> None:
    Store(default_path()).close()
    db = default_path()
    os.chmod(db.parent, 0o755)
    os.chmod(db, 0o644)
    Store(db).close()
    assert mode(db) == 0o600 and mode(db.parent) == 0o700


def test_debug_log_new_and_loose(umask: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("t502")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logger.level)
    monkeypatch.setattr(debug_log, "_filter", None)
    monkeypatch.setattr(debug_log, "_enabled_at", None)
    fresh = debug_log.enable_debug_log([], tmp_path / "state" / "t502" / "debug.log")
    loose = tmp_path / "old.log"
    loose.write_text("earlier lines\n")
    os.chmod(loose, 0o644)
    debug_log.enable_debug_log([], loose)
    logging.getLogger("t502.test").debug("a line")
    assert mode(fresh) == 0o600 and mode(fresh.parent) == 0o700 and mode(loose) == 0o600
    text = loose.read_text()
    assert text.startswith("earlier lines\n") and text.rstrip().endswith("a line")


def test_model_caches(umask: int, isolated_home: Path) -> None:
    url = "http://me:s3cret-pass@x/v1"
    model_catalog.save_cached_models(url, ["a", "b"])
    model_catalog.remember_model("a")
    [cache] = (isolated_home / "cache" / "t502").glob("models-*.json")
    for path in (cache, isolated_home / "state" / "t502" / "recent_models.json"):
        assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert "s3cret-pass" not in cache.read_text()  # a password in the base URL is a key too
    assert [m.id for m in model_catalog.load_cached_models(url) or []] == ["a", "b"]
    assert model_catalog.load_cached_models("http://x/v1") is None
    assert model_catalog.load_recent_models() == ["a"]


def test_export_file(umask: int, tmp_path: Path) -> None:
    store = Store(default_path())
    conversation = Conversation(model="m")
    message = ChatMessage("user", "export me")
    conversation.messages.append(message)
    store.add_message(conversation, message)
    store.close()
    out = tmp_path / "out.md"
    out.write_text("an older export")
    os.chmod(out, 0o644)
    result = t502("history", "export", conversation.id[:8], "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert mode(out) == 0o600 and "export me" in out.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_to_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    store = Store(default_path())
    conversation = Conversation(model="m")
    store.add_message(conversation, ChatMessage("user", "x"))
    store.close()
    result = t502("history", "export", conversation.id[:8], "-o", str(tmp_path / "no" / "such.md"))
    assert result.returncode == 1
    assert result.stderr == f"error: cannot write {tmp_path / 'no' / 'such.md'}: No such file or directory\n"


@pytest.mark.parametrize("format_", ["md", "json"])
def test_export_to_a_pipe_or_a_device_is_refused_not_replaced(format_: str, tmp_path: Path) -> None:
    store = Store(default_path())
    conversation = Conversation(model="m")
    store.add_message(conversation, ChatMessage("user", "x"))
    store.close()
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    result = t502("history", "export", conversation.id[:8], "--format", format_, "-o", str(pipe))
    assert result.returncode == 1
    assert result.stderr == f"error: cannot write {pipe}: not a regular file (a pipe or a device?)\n"
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(("pipe", "."))] == ["pipe"]


def test_write_private_never_replaces_a_device_through_a_link(tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to(os.devnull)
    with pytest.raises(OSError, match="not a regular file"):
        paths.write_private(link, "would have replaced /dev/null when run as root")
    assert link.is_symlink()


def test_write_private_replaces_at_once(umask: int, tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    paths.write_private(target, "one")
    paths.write_private(target, b"two")
    assert target.read_text() == "two" and mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_private_dir_creates_and_tightens(umask: int, tmp_path: Path) -> None:
    made = paths.private_dir(tmp_path / "a" / "b")
    assert mode(tmp_path / "a") == 0o700 and mode(made) == 0o700
    os.chmod(made, 0o755)
    paths.private_dir(made)
    assert mode(made) == 0o700


def test_folders_made_for_a_saved_image_are_private_and_the_users_own_left_alone(umask: int, tmp_path: Path) -> None:
    from t502_tui.reply_media import file_for

    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    os.chmod(mine, 0o755)
    target = file_for(mine / "x" / ".." / "x" / "y" / "z.png", "image.png")  # a path typed with ".." in it
    assert target.name == "z.png" and mode(mine / "x") == 0o700 and mode(mine / "x" / "y") == 0o700
    assert mode(mine) == 0o755  # the user's folder, already there, is not tightened


def test_files_t502_reads_besides_its_config_are_refused_as_pipes_or_devices(isolated_home: Path) -> None:
    # Put in place of a theme, the recent models or a cached model list, a FIFO waited
    # forever and /dev/zero filled the memory.
    themes = user_theme_dir()
    themes.mkdir(parents=True)
    os.mkfifo(themes / "fifo.toml")
    (themes / "zero.toml").symlink_to("/dev/zero")
    state = isolated_home / "state" / "t502"
    state.mkdir(parents=True, exist_ok=True)
    os.mkfifo(state / "recent_models.json")
    url = "http://x/v1"
    model_catalog.save_cached_models(url, ["a"])
    [cache] = (isolated_home / "cache" / "t502").glob("models-*.json")
    cache.unlink()
    cache.symlink_to("/dev/zero")
    specs, warnings = load_theme_specs()
    assert specs and sorted(w.split(":")[0] for w in warnings) == [
        f"theme {themes / 'fifo.toml'} skipped", f"theme {themes / 'zero.toml'} skipped"]
    assert all("not a regular file (a pipe or a device?)" in w for w in warnings)
    assert model_catalog.load_recent_models() == [] and model_catalog.load_cached_models(url) is None
