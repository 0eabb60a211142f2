"""The debug log masks the API key, including one set after start-up."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from t502_tui import debug_log
from t502_tui.config import load_config
from t502_tui.debug_log import enable_debug_log, mask_secret
from t502_tui.providers import configured


@pytest.fixture
def logger(monkeypatch: pytest.MonkeyPatch) -> logging.Logger:
    """t502's logger with no debug log yet; what a test enables is undone after it."""
    monkeypatch.setattr(debug_log, "_filter", None)
    monkeypatch.setattr(debug_log, "_enabled_at", None)
    logger = logging.getLogger("t502")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logger.level)
    return logger


def test_a_key_set_later_is_masked_too(tmp_path: Path, logger: logging.Logger) -> None:
    path = enable_debug_log(["sk-first-key"], tmp_path / "debug.log")
    mask_secret("sk-second-key")
    logging.getLogger("t502.test").debug("keys sk-first-key and sk-second-key")
    for handler in logger.handlers:
        handler.close()
    text = path.read_text()
    assert "sk-first-key" not in text and "sk-second-key" not in text
    assert "keys *** and ***" in text


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_log_that_cannot_be_written_ends_quietly(tmp_path: Path, logger: logging.Logger,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    enable_debug_log([], tmp_path / "debug.log")
    [handler] = logger.handlers
    handler.stream.close()  # type: ignore[attr-defined]
    handler.stream = open("/dev/full", "w")  # type: ignore[attr-defined]  # the disk fills up
    for _ in range(3):
        logging.getLogger("t502.test").debug("a line")
    assert capsys.readouterr().err == "" and logger.handlers == []  # no traceback per line, over the chat
    with contextlib.suppress(OSError):
        handler.stream.close()  # type: ignore[attr-defined]


def test_a_password_in_a_base_url_is_masked(tmp_path: Path, logger: logging.Logger) -> None:
    path = enable_debug_log([], tmp_path / "debug.log")
    config = tmp_path / "config.toml"
    config.write_text('[providers.gw]\nbase_url = "https://me:pw-31337@gw.example.com/v1"\n')
    configured(load_config(config, env={}))
    logging.getLogger("t502.test").debug("POST https://me:pw-31337@gw.example.com/v1/chat/completions")
    for handler in logger.handlers:
        handler.close()
    assert "pw-31337" not in path.read_text()


def test_without_the_debug_log_nothing_reaches_stderr() -> None:
    code = ("import logging, t502_tui.cli\n"
            "try:\n    1 / 0\nexcept ZeroDivisionError:\n"
            "    logging.getLogger('t502.turn').exception('reading the reply failed')\n"
            "logging.getLogger('t502.service').warning('a retry')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stderr == ""


def test_a_crash_record_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(debug_log, "_enabled_at", tmp_path / "state" / "debug.log")
    where = debug_log.record_crash(RuntimeError("boom sk-crash-key"), ["sk-crash-key"])
    assert where is not None and stat.S_IMODE(where.stat().st_mode) == 0o600
    assert stat.S_IMODE(where.parent.stat().st_mode) == 0o700
    assert "boom ***" in where.read_text()


def test_every_providers_key_is_masked(tmp_path: Path, logger: logging.Logger) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[providers.a]\nbase_url = "http://a/v1"\napi_key = "sk-in-the-file-a"\n'
                      '[providers.b]\nbase_url = "http://b/v1"\napi_key_env = "B_KEY"\n'
                      'headers = { "cf-aig-authorization" = "Bearer cf-gateway-key" }\n')
    path = enable_debug_log([], tmp_path / "debug.log")
    configured(load_config(config, env={"B_KEY": "sk-in-a-variable-b"}))
    logging.getLogger("t502.test").debug("keys sk-in-the-file-a and sk-in-a-variable-b, header Bearer cf-gateway-key")
    for handler in logger.handlers:
        handler.close()
    assert "keys *** and ***, header ***" in path.read_text()


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_debug_log_that_cannot_be_written_is_a_warning(kind: str, tmp_path: Path) -> None:
    log = tmp_path / "state" / "t502" / "debug.log"
    log.parent.mkdir(parents=True)
    os.mkfifo(log) if kind == "fifo" else log.mkdir()
    result = subprocess.run([sys.executable, "-m", "t502_tui", "--debug", "config", "show"], capture_output=True,
                            text=True, timeout=20)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert f"warning: no debug log: cannot write {log}: " in result.stderr


def test_the_log_shows_escape_sequences_and_leaves_a_one_letter_key_alone(
        tmp_path: Path, logger: logging.Logger) -> None:
    path = enable_debug_log(["k"], tmp_path / "debug.log")  # a local server's key
    logging.getLogger("t502.test").debug("model=bell\x07and\x1b]0;TITLE\x07 the key was rejected")
    for handler in logger.handlers:
        handler.close()
    text = path.read_text()
    assert "model=bell^Gand^[]0;TITLE^G the key was rejected" in text  # `cat debug.log` retitles nothing
    assert "\x1b" not in text and "\x07" not in text
