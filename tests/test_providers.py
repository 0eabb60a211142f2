"""Several providers: the config's tables, where each key comes from, and naming models."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from t502_tui.config import ConfigError, load_config
from t502_tui.providers import configured, forget_key_commands, needs_shell, ref_for, split_ref
from t502_tui.request_params import params_for, settings_summary, takes_reasoning_effort

SECRET = "sk-from-the-command-31337"


@pytest.fixture(autouse=True)
def fresh_commands() -> None:
    forget_key_commands()


def config_with(tmp_path: Path, text: str, **env: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return load_config(path, env=env)


def test_keys_come_from_the_file_a_variable_or_a_command(tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    script = tmp_path / "key.py"
    script.write_text(f"open({str(counter)!r}, 'a').write('x')\nprint({SECRET!r})\nprint('second line')\n")
    config = config_with(tmp_path, f"""
api_key = "sk-top"
[providers.env]
base_url = "http://127.0.0.1:1/v1"
api_key_env = "MY_KEY"
[providers.cmd]
base_url = "http://127.0.0.1:2/v1"
api_key_cmd = "{sys.executable} {script}"
group = "vip"
[providers.local]
base_url = "http://localhost:11434/v1/"
""", MY_KEY="sk-env")
    providers = configured(config)
    assert list(providers) == ["token502", "env", "cmd", "local"]
    assert providers["token502"].api_key == "sk-top" and providers["token502"].group == "default"
    assert providers["env"].api_key == "sk-env"
    assert providers["cmd"].api_key == SECRET and providers["cmd"].group == "vip"
    assert providers["local"].api_key == "" and providers["local"].base_url == "http://localhost:11434/v1"
    configured(config)
    assert counter.read_text() == "x"  # once per start, however often asked


def test_two_providers_sharing_a_failing_key_command_each_name_themselves(tmp_path: Path) -> None:
    config = config_with(tmp_path, """
[providers.one]
base_url = "http://127.0.0.1:1/v1"
api_key_cmd = "false"
[providers.two]
base_url = "http://127.0.0.1:2/v1"
api_key_cmd = "false"
""")
    providers = configured(config)
    assert providers["one"].problem == "providers.one: api_key_cmd failed (exit 1)"
    assert providers["two"].problem == "providers.two: api_key_cmd failed (exit 1)"  # it ran once


def test_a_failing_key_command_says_why_and_never_shows_the_key(tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text(f"import sys\nprint({SECRET!r})\nprint('gpg: decryption failed: No secret key {SECRET}',"
                      " file=sys.stderr)\nsys.exit(2)\n")
    config = config_with(tmp_path, f"""
[providers.token502]
api_key_cmd = "{sys.executable} {script}"
""")
    provider = configured(config)["token502"]
    assert provider.api_key == ""
    assert provider.problem.startswith("providers.token502: api_key_cmd failed (exit 2): gpg: decryption failed")
    assert SECRET not in provider.problem
    missing = config_with(tmp_path, '[providers.x]\nbase_url = "http://h/v1"\napi_key_cmd = "no-such-program-t502"\n')
    assert "could not start" in configured(missing)["x"].problem
    unset = config_with(tmp_path, '[providers.x]\nbase_url = "http://h/v1"\napi_key_env = "T502_UNSET_VAR"\n')
    assert configured(unset)["x"].problem == "providers.x: api_key_env names T502_UNSET_VAR, which is not set"


def test_a_key_command_runs_through_a_shell_only_for_shell_syntax(tmp_path: Path) -> None:
    assert not needs_shell("pass show token502")
    assert not needs_shell("op read 'op://vault/item/key'")
    for command in ("cat ~/.key", "pass show x | head -1", "echo $KEY", "A=1 cmd", "cat key*"):
        assert needs_shell(command), command
    config = config_with(tmp_path, '[providers.token502]\napi_key_cmd = "printf \'%s\\\\n\' sk-a | tr a b"\n')
    assert configured(config)["token502"].api_key == "sk-b"


def test_a_key_command_that_leaves_a_child_running_gives_its_key_at_once(tmp_path: Path) -> None:
    # An agent started in the background holds the pipes open long after the command ends.
    config = config_with(tmp_path, '[providers.token502]\napi_key_cmd = "(sleep 90 &) ; echo sk-agent"\n')
    provider = configured(config)["token502"]
    assert (provider.api_key, provider.problem) == ("sk-agent", "")


def test_the_environment_still_sets_the_default_provider(tmp_path: Path) -> None:
    config = config_with(tmp_path, '[providers.token502]\nbase_url = "https://relay.example/v1"\napi_key_cmd = "false"\n',
                         T502_BASE_URL="http://127.0.0.1:5/v1", T502_API_KEY="sk-env")
    provider = configured(config)["token502"]
    assert (provider.base_url, provider.api_key, provider.problem) == ("http://127.0.0.1:5/v1", "sk-env", "")


@pytest.mark.parametrize(("text", "message"), [
    ('base_url = "http://a/v1"\n[providers.token502]\nbase_url = "http://b/v1"\n',
     "'base_url' and 'providers.token502.base_url' both describe the default provider 'token502'; keep one"),
    ('[providers.local]\napi_key = "x"\n', "'providers.local' needs a base_url (its /v1 root)"),
    ('[providers."a/b"]\nbase_url = "http://a/v1"\n', "'providers.a/b' must use only letters"),
    ('[providers.x]\nbase_url = "http://a/v1"\napi_key = "k"\napi_key_cmd = "c"\n',
     "'providers.x' gives the key twice (api_key and api_key_cmd); keep one"),
    ('[providers.x]\nbase_url = "http://a/v1"\napi_key = "sk-secret-in-file"\ncolour = 1\n',
     "'providers.x.colour' is not a key t502 knows here"),
    ('[presets.fast]\ntemperature = 9\n', "'presets.fast.temperature' must be a number from 0 to 2"),
    ('[prices."gpt-5"]\ninput = -1\n', "'prices.gpt-5.input' must be a number from 0 to 100000"),
    ('[context]\n"m" = 0\n', "'context.m' must be a whole number from 1 to 100000000"),
])
def test_wrong_tables_are_refused_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_with(tmp_path, text)
    assert message in str(caught.value) and "sk-secret-in-file" not in str(caught.value)


def test_models_are_named_bare_or_with_their_provider() -> None:
    names = ["token502", "local", "openrouter"]
    assert split_ref("local/llama3", names, "token502") == ("local", "llama3")
    assert split_ref("llama3", names, "local") == ("local", "llama3")
    # A model id with a slash stays whole unless it starts with a provider's name.
    assert split_ref("openai/gpt-4o", names, "openrouter") == ("openrouter", "openai/gpt-4o")
    assert split_ref("openrouter/openai/gpt-4o", names, "token502") == ("openrouter", "openai/gpt-4o")
    assert ref_for("token502", "gpt-5", "token502") == "gpt-5"
    assert ref_for("local", "llama3", "token502") == "local/llama3"


def test_reasoning_effort_goes_only_to_models_that_take_it() -> None:
    for model in ("o3", "o4-mini", "openai/o3-mini", "gpt-5", "gpt-5-mini", "gpt-oss-120b", "grok-3-mini",
                  "gemini-2.5-pro"):
        assert takes_reasoning_effort(model), model
    for model in ("gpt-4o", "o1-mini", "gpt-5-chat-latest", "claude-sonnet-4", "deepseek-r1", "grok-4", "llama3"):
        assert not takes_reasoning_effort(model), model
    settings = {"reasoning_effort": "minimal", "temperature": None, "top_p": 0.9}
    assert params_for({"temperature": 0.7}, settings, "o3") == {"top_p": 0.9, "reasoning_effort": "low"}
    assert params_for({}, settings, "gpt-5")["reasoning_effort"] == "minimal"
    # A conversation imported with what every request carries in its settings: left out.
    assert params_for({}, {"model": "x", "messages": [], "stream": False, "top_k": 5}, "m") == {"top_k": 5}
    assert "reasoning_effort" not in params_for({}, settings, "claude-sonnet-4")
    assert settings_summary({"temperature": 0.2, "reasoning_effort": "high", "top_p": 1.0}, {"top_p": 1.0},
                            "claude-sonnet-4") == ["temp 0.2", "effort high (not sent)"]
    assert settings_summary({"reasoning_effort": "minimal"}, {}, "o3") == ["effort minimal (sent as low)"]
    assert settings_summary({"reasoning_effort": "minimal"}, {}, "gpt-5") == ["effort minimal"]
