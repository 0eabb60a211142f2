"""The one description of every setting, and what is made from it."""

from __future__ import annotations

import dataclasses
import math

import httpx
import pytest

import settings_table
from readme_tables import README
from t502_tui.config import Config, load_config
from t502_tui.keys import SEND_MODES
from t502_tui.settings_schema import (
    BY_NAME,
    PARAMS,
    SETTINGS,
    SettingError,
    every_setting,
    parse_text,
    validate,
)


def test_every_setting_is_a_config_attribute_with_the_schema_default() -> None:
    config, fields = Config(), {f.name for f in dataclasses.fields(Config)}
    for setting in SETTINGS:
        assert setting.name in fields
        assert getattr(config, setting.name) == setting.default
        assert validate(setting, setting.default) == setting.default


def test_every_number_is_bounded_and_every_table_entry_is_named_once() -> None:
    for setting in every_setting():
        if setting.type in (int, float):
            assert setting.low is not None and setting.high is not None, setting.name
    shown = [setting.name for setting in every_setting() if setting.screen]
    assert len(shown) == len(set(shown))  # they are the Settings screen's widget ids
    assert all(setting.table == "params" for setting in PARAMS)


def test_send_key_choices_are_the_send_modes() -> None:
    assert set(BY_NAME["send_key"].choices) == set(SEND_MODES)


def test_readme_table_is_the_schemas() -> None:
    text = README.read_text(encoding="utf-8")
    assert settings_table.readme_table(text) == settings_table.render(), (
        "the README's settings table is out of date: run `python tests/settings_table.py`"
    )


def test_readme_example_config_loads_cleanly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## The config file"):]
    example = section[section.index("```toml\n") + 8:section.index("```\n", section.index("```toml"))]
    path = tmp_path / "config.toml"
    path.write_text(example.replace('"sk-..."', '"sk-example"'))
    path.chmod(0o600)
    config = load_config(path=path, env={})
    assert config.warnings == [] and config.keys == {"search": "ctrl+k", "switch_model": "f3"}


@pytest.mark.parametrize(("name", "text", "value"), [
    ("temperature", "", None),
    ("temperature", " 0.4 ", 0.4),
    ("max_tokens", "12", 12),
    ("base_url", " http://a/v1/ ", "http://a/v1"),
])
def test_typed_text_becomes_the_value(name: str, text: str, value: object) -> None:
    setting = next(s for s in every_setting() if s.name == name)
    assert parse_text(setting, text) == value


@pytest.mark.parametrize(("name", "text", "reason"), [
    ("temperature", "nan", "must be a number from 0 to 2"),
    ("temperature", "warm", "must be a number from 0 to 2"),
    ("max_tokens", "1.5", "must be a whole number from 1 to 10000000"),
    ("timeout", "inf", "must be a number of seconds above 0 and at most 86400"),
    ("model", "  ", "must not be empty"),
    ("base_url", "localhost:1234", "must start with http:// or https://"),
])
def test_typed_text_that_cannot_be_used_says_why(name: str, text: str, reason: str) -> None:
    setting = next(s for s in every_setting() if s.name == name)
    with pytest.raises(SettingError) as info:
        parse_text(setting, text)
    assert info.value.reason == reason


ACCEPTED = ["http://127.0.0.1:8080/v1", "https://api.example.com/v1/", "http://[::1]:9/v1",
            "https://user:pw@relay.example.com/openai/v1", "http://localhost:1/v1",
            "https://xn--bcher-kva.example/v1", "HTTPS://API.EXAMPLE.COM/v1"]
REFUSED = ["http://[::1/v1", "http://h:99999/v1", "http://h:0/v1", "http://h:x/v1", "ftp://h/v1",
           "http:///v1", "http://h/v1?x", "http://h/v1#f", "http://☃.example/v1", "http://h\t/v1",
           "http://a b/v1", "http://h/\u202ev1", "//h/v1", "h/v1", "http://127.0.0.999/v1",
           "http://127.0.0.135665/v1", "http://01.02.03.04/v1", "http://[::1::2]/v1", "http://[1.2.3.4]/v1"]


@pytest.mark.parametrize("url", ACCEPTED)
async def test_every_url_the_schema_accepts_is_one_httpx_can_use(url: str) -> None:
    from t502_tui.service.client import ChatClient

    checked = validate(BY_NAME["base_url"], url)
    httpx.URL(checked + "/chat/completions")
    async with ChatClient(checked, "k") as client:
        assert client.base_url == checked


@pytest.mark.parametrize("url", REFUSED)
def test_urls_that_cannot_work_are_refused(url: str) -> None:
    with pytest.raises(SettingError):
        validate(BY_NAME["base_url"], url)


def test_numbers_past_a_float_are_refused_not_raised() -> None:
    for name in ("timeout", "max_images"):
        with pytest.raises(SettingError):
            validate(BY_NAME[name], 10**400)
    assert math.isclose(validate(BY_NAME["timeout"], 5), 5.0)


def test_a_prompt_may_hold_new_lines_tabs_and_emoji_but_no_escape() -> None:
    prompt = BY_NAME["system_prompt"]
    text = "Be brief.\n\tUse 👨\u200d👩\u200d👧 freely.\r\n"
    assert validate(prompt, text) == text
    with pytest.raises(SettingError):
        validate(prompt, "Be \x1b[31mred")


def test_a_switch_takes_true_or_false_and_numbers_still_refuse_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    path.write_text("download_images = false\n")
    assert load_config(path=path, env={}).download_images is False
    for name, value in (("download_images", "no"), ("download_images", 0), ("max_images", True)):
        with pytest.raises(SettingError, match="must be true or false" if name == "download_images" else "whole"):
            validate(BY_NAME[name], value)
