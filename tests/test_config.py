"""Reading, overriding and writing the config file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from t502_tui import paths
from t502_tui.config import DEFAULT_BASE_URL, ConfigError, load_config, mask_secret, save_config


def write(text: str) -> Path:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_a_file() -> None:
    config = load_config(env={})
    assert config.base_url == DEFAULT_BASE_URL and config.api_key == ""
    assert config.model_from_default and config.path == paths.config_file()


def test_xdg_config_home_is_used(isolated_home: Path) -> None:
    assert paths.config_file() == isolated_home / "config" / "t502" / "config.toml"


def test_file_values_and_env_overrides() -> None:
    write('base_url = "http://a/v1/"\napi_key = "file-key"\nmodel = "m1"\n[params]\ntemperature = 0.5\n')
    config = load_config(env={"T502_API_KEY": "env-key", "T502_MODEL": "m2"})
    assert (config.base_url, config.api_key, config.model) == ("http://a/v1", "env-key", "m2")
    assert config.params == {"temperature": 0.5} and not config.model_from_default


def test_broken_toml_names_file_and_line() -> None:
    path = write('base_url = "http://a"\nmodel = \n')
    with pytest.raises(ConfigError) as info:
        load_config(env={})
    assert str(path) in str(info.value) and "line 2" in str(info.value)


@pytest.mark.parametrize(("text", "fragment"), [
    ("timeout = \"long\"", "'timeout' must be a number"),
    ("base_url = \"ftp://x\"", "http:// or https://"),
    ("system_role = \"boss\"", "'system' or 'developer'"),
    ("model = 5", "'model' must be a string"),
])
def test_bad_values(text: str, fragment: str) -> None:
    write(text)
    with pytest.raises(ConfigError, match=fragment):
        load_config(env={})


def test_bad_env_base_url() -> None:
    with pytest.raises(ConfigError, match="T502_BASE_URL"):
        load_config(env={"T502_BASE_URL": "localhost:8080"})


def test_unknown_keys_warn() -> None:
    write('colour = "red"\n[keys]\nsend = "enter"\n')
    config = load_config(env={})
    assert len(config.warnings) == 1 and "unknown key 'colour'" in config.warnings[0]


def test_save_creates_0600_and_keeps_unknown_keys() -> None:
    path = write('colour = "red"\n[keys]\nsend = "enter"\n')
    path.chmod(0o644)
    save_config(path, {"api_key": "k", "model": "m"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert 'colour = "red"' in text and "[keys]" in text and 'api_key = "k"' in text
    fresh = paths.config_dir() / "sub" / "new.toml"
    save_config(fresh, {"api_key": "k"})
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_mask_secret() -> None:
    assert mask_secret("sk-abcdefghijklmnop") == "sk-…mnop"
    assert mask_secret("short") == "•••••"
    assert mask_secret("") == ""
