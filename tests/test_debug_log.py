"""The debug log masks the API key, including one set after start-up."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from t502_tui import debug_log
from t502_tui.debug_log import enable_debug_log, mask_secret


def test_a_key_set_later_is_masked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(debug_log, "_filter", None)
    monkeypatch.setattr(debug_log, "_enabled_at", None)
    logger = logging.getLogger("t502")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logger.level)
    path = enable_debug_log(["sk-first-key"], tmp_path / "debug.log")
    assert debug_log.debug_log_path() == path
    mask_secret("sk-second-key")
    logging.getLogger("t502.test").debug("keys sk-first-key and sk-second-key")
    for handler in logger.handlers:
        handler.close()
    text = path.read_text()
    assert "sk-first-key" not in text and "sk-second-key" not in text
    assert "keys *** and ***" in text


def test_every_providers_key_is_masked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from t502_tui.config import load_config
    from t502_tui.providers import configured

    monkeypatch.setattr(debug_log, "_filter", None)
    monkeypatch.setattr(debug_log, "_enabled_at", None)
    logger = logging.getLogger("t502")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logger.level)
    config = tmp_path / "config.toml"
    config.write_text('[providers.a]\nbase_url = "http://a/v1"\napi_key = "sk-in-the-file-a"\n'
                      '[providers.b]\nbase_url = "http://b/v1"\napi_key_env = "B_KEY"\n')
    path = enable_debug_log([], tmp_path / "debug.log")
    configured(load_config(config, env={"B_KEY": "sk-in-a-variable-b"}))
    logging.getLogger("t502.test").debug("keys sk-in-the-file-a and sk-in-a-variable-b")
    for handler in logger.handlers:
        handler.close()
    assert "keys *** and ***" in path.read_text()
