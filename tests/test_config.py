"""Reading, overriding and writing the config file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from t502_tui import paths
from t502_tui.config import ConfigError, load_config, mask_secret, save_config
from t502_tui.settings_schema import BY_NAME, DEFAULT_BASE_URL, SETTINGS


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


def test_a_file_saved_with_a_bom_reads_and_saves() -> None:
    path = write('\ufeffmodel = "m1"\n[params]\ntemperature = 0.5\n')  # Notepad's UTF-8
    assert load_config(env={}).model == "m1"
    save_config(path, {"model": "m2"})
    assert load_config(env={}).model == "m2" and load_config(env={}).params == {"temperature": 0.5}


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


@pytest.mark.parametrize(("text", "shown"), [
    ('[params]\ntemperature = "hot"\n', "'params.temperature' must be a number from 0 to 2 (it is 'hot')"),
    ('[presets.terse]\ntop_p = 7\n', "'presets.terse.top_p' must be a number from 0 to 1 (it is 7)"),
    ('[providers.x]\nbase_url = "ftp://x"\n', "(it is 'ftp://x')"),
    ('[params]\nmodel = "other"\n', "'params.model' is set by t502 for each request"),  # every send failed
    ('[presets.p]\nmessages = []\n', "'presets.p.messages' is set by t502 for each request"),
])
def test_a_bad_entry_of_a_table_is_quoted(text: str, shown: str) -> None:
    write(text)
    with pytest.raises(ConfigError) as info:
        load_config(env={})
    assert shown in str(info.value)


@pytest.mark.parametrize("env", [{}, {"T502_BASE_URL": "ftp://me:pw-0123456789@relay.example/v1"}])
@pytest.mark.parametrize("where", ["base_url", "[providers.x]\nbase_url"])
def test_a_password_in_a_bad_url_is_not_repeated(where: str, env: dict[str, str]) -> None:
    write(f'{where} = "ftp://me:pw-0123456789@relay.example/v1"\n')
    with pytest.raises(ConfigError) as info:
        load_config(env=env)
    assert "pw-0123456789" not in str(info.value) and "me:••••@relay.example" in str(info.value)


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
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700  # a folder it made: private too


def test_mask_secret() -> None:
    assert mask_secret("sk-abcdefghijklmnop") == "sk-…mnop"
    assert mask_secret("short") == mask_secret("k") == "••••••••"  # a short key's length is not shown
    assert mask_secret("") == ""


# -- hostile input: one line naming the file (or variable) and the key -------------------------

@pytest.mark.parametrize(("text", "key"), [
    ("timeout = nan", "timeout"),
    ("timeout = inf", "timeout"),
    ("timeout = -inf", "timeout"),
    ("timeout = 0", "timeout"),
    ("connect_timeout = 1e300", "connect_timeout"),
    ("max_reply_seconds = nan", "max_reply_seconds"),
    ('base_url = "http://127.0.0.1:99999/v1"', "base_url"),
    ('base_url = "http://[::1/v1"', "base_url"),
    ('base_url = "http://example.com/v1\\n"', "base_url"),
    ('base_url = "http://exa\\u0000mple.com/v1"', "base_url"),
    ('base_url = "http://exa mple.com/v1"', "base_url"),
    ('base_url = "http://example.com:0/v1"', "base_url"),
    ('base_url = "http://:80/v1"', "base_url"),
    ('base_url = "https://example.com/v1?x=1"', "base_url"),
    ('base_url = "http://☃.com/v1"', "base_url"),
    ("max_retries = true", "max_retries"),
    ("max_retries = 1.5", "max_retries"),
    ("max_images = 1000000000000000000", "max_images"),
    ("max_image_mb = 1e300", "max_image_mb"),
    ("max_images = " + "9" * 400, "max_images"),  # past what a float can hold
    ('model = ""', "model"),
    ('model = "gpt\\u001b[31m"', "model"),
    ('theme = "' + "x" * 5000 + '"', "theme"),
    ('system_prompt = "a\\u0007b"', "system_prompt"),
    ('send_key = "space"', "send_key"),
    ("params = 3", "params"),
    ("[params]\ntemperature = 7", "params.temperature"),
    ("[params]\nmax_tokens = 0", "params.max_tokens"),
    ("[params]\ntop_p = nan", "params.top_p"),
    ("[params]\nstop = 1979-05-27", "params.stop"),
    ("keys = [1]", "keys"),
], ids=lambda x: x[:40] if isinstance(x, str) else None)
def test_hostile_values_are_one_line_naming_key_and_file(text: str, key: str) -> None:
    path = write(text + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(env={})
    message = str(info.value)
    assert message.startswith(f"{path}: '{key}' ") and "\n" not in message and len(message) < 300


def test_a_bad_key_is_never_echoed() -> None:
    write('api_key = "sk-sec ret"\n')
    with pytest.raises(ConfigError, match="'api_key' must be printable ASCII") as info:
        load_config(env={})
    assert "sec ret" not in str(info.value)


@pytest.mark.parametrize(("name", "value"), [
    ("T502_BASE_URL", "http://[::1/v1"),
    ("T502_BASE_URL", "http://127.0.0.1:99999/v1"),
    ("T502_BASE_URL", "http://example.com/\x1b[2Jv1"),
    ("T502_MODEL", "gpt\x1b]0;pwned\x07"),
    ("T502_API_KEY", "sk-ключ"),
])
def test_hostile_environment_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env={name: value})
    message = str(info.value)
    assert message.startswith(f"{name} ") and "\n" not in message and "\x1b" not in message
    assert "ключ" not in message


def test_values_are_normalised_once() -> None:
    write('base_url = " http://a/v1/ "\napi_key = " k "\ntimeout = 5\n[params]\ntemperature = 1\n')
    config = load_config(env={"T502_MODEL": " m "})
    assert (config.base_url, config.api_key, config.model) == ("http://a/v1", "k", "m")
    assert config.timeout == 5.0 and isinstance(config.timeout, float)
    assert config.params == {"temperature": 1.0}


def test_many_unknown_keys_are_one_warning() -> None:
    write("".join(f"k{i} = {i}\n" for i in range(50)))
    [warning] = load_config(env={}).warnings
    assert "'k0'" in warning and "and 45 more" in warning


# -- reading only a regular file, and only so much of it -----------------------------------

def test_a_folder_as_config_is_refused(isolated_home: Path) -> None:
    folder = isolated_home / "somewhere"
    folder.mkdir()
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(path=folder, env={})


def test_a_huge_config_is_refused_without_reading_it_all() -> None:
    path = write("# " + "x" * (2 * 1024 * 1024) + "\n")
    with pytest.raises(ConfigError, match="larger than 1 MB") as info:
        load_config(env={})
    assert str(path) in str(info.value)


@pytest.mark.parametrize("text", ["a = " + "[" * 100_000, "a = 1" + "0" * 5000], ids=["deep", "long"])
def test_pathological_toml_is_a_clean_error(text: str) -> None:
    write(text + "\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(env={})


def test_a_deeply_dotted_unknown_key_is_only_a_warning() -> None:
    path = write("a." * 5000 + "b = 1\n")
    assert "unknown key 'a'" in load_config(env={}).warnings[0]
    with pytest.raises(ConfigError, match="change it by hand"):
        save_config(path, {"model": "m"})


# -- a key that others can read ---------------------------------------------------------------

@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_a_readable_file_holding_the_key_is_warned_about() -> None:
    path = write('api_key = "sk-secret-0000"\n')
    path.chmod(0o644)
    [warning] = load_config(env={}).warnings
    assert str(path) in warning and "0644" in warning and f"chmod 600 {path}" in warning
    path.chmod(0o600)
    assert load_config(env={}).warnings == []
    path.write_text('model = "m"\n')
    path.chmod(0o644)
    assert load_config(env={}).warnings == []  # nothing secret in it


# -- saving: only what changed, the rest as the user wrote it ----------------------------------

COMMENTED = """\
# My t502 settings: keep these comments!
base_url = "http://relay.local/v1"   # the office relay
model = "gpt-5"  # my usual

# rebinds
[keys]
search = "ctrl+k"  # k for "klook"

[params]
# warm, but not too warm
temperature = 0.7 # tuned
top_p = 1
"""


def test_save_changes_only_the_keys_that_changed() -> None:
    path = write(COMMENTED)
    save_config(path, {"model": "claude-sonnet-4", "theme": "t502-dawn",
                       "params": {"temperature": 0.4, "max_tokens": 500}})
    assert path.read_text() == """\
# My t502 settings: keep these comments!
base_url = "http://relay.local/v1"   # the office relay
model = "claude-sonnet-4"  # my usual
theme = "t502-dawn"

# rebinds
[keys]
search = "ctrl+k"  # k for "klook"

[params]
# warm, but not too warm
temperature = 0.4 # tuned
max_tokens = 500
"""


@pytest.mark.parametrize(("before", "after"), [
    ('# header\n\n# the keys\n[keys]\nsearch = "ctrl+k"\n',
     '# header\n\nmodel = "m"\n\n# the keys\n[keys]\nsearch = "ctrl+k"\n\n'
     '[params]\ntemperature = 0.5\nmax_tokens = 9\n'),
    ('params = { temperature = 0.5 }  # inline\n',
     'params = { temperature = 0.5, max_tokens = 9}  # inline\nmodel = "m"\n'),
    ('params.temperature = 0.5\n', 'model = "m"\n\nparams.temperature = 0.5\nparams.max_tokens = 9\n'),
    ("", 'model = "m"\n\n[params]\ntemperature = 0.5\nmax_tokens = 9\n'),
], ids=["comment-heads-table", "inline-table", "dotted-keys", "empty-file"])
def test_save_puts_new_keys_where_a_person_would(before: str, after: str) -> None:
    path = write(before)
    save_config(path, {"model": "m", "params": {"temperature": 0.5, "max_tokens": 9}})
    assert path.read_text() == after


def test_save_removes_a_key_given_none() -> None:
    path = write(COMMENTED)
    save_config(path, {"model": None})
    assert "model" not in path.read_text() and "# the office relay" in path.read_text()


def test_whole_numbers_are_saved_as_people_write_them() -> None:
    path = paths.config_dir() / "config.toml"
    save_config(path, {"timeout": 600.0, "params": {"temperature": 1.0, "top_p": 0.5}})
    assert "timeout = 600\n" in path.read_text() and "temperature = 1\n" in path.read_text()
    save_config(path, {"timeout": 900.0})  # into the file as it is
    assert "timeout = 900\n" in path.read_text()
    assert load_config(env={}).timeout == 900 and load_config(env={}).params["top_p"] == 0.5


def test_save_writes_a_new_file_whole_and_private() -> None:
    path = paths.config_dir() / "new" / "config.toml"
    save_config(path, {"api_key": "sk-k", "params": {"temperature": 0.5}})
    assert path.read_text() == 'api_key = "sk-k"\n\n[params]\ntemperature = 0.5\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(path.parent.glob(".config-*"))


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_save_through_a_symlink_writes_its_target(isolated_home: Path) -> None:
    target = isolated_home / "dotfiles" / "t502.toml"
    target.parent.mkdir()
    target.write_text(COMMENTED)
    target.chmod(0o600)
    link = write("")
    link.unlink()
    link.symlink_to(target)
    save_config(link, {"model": "m"})
    assert link.is_symlink() and link.resolve() == target
    assert 'model = "m"  # my usual' in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not list(link.parent.glob(".config-*")) and not list(target.parent.glob(".config-*"))


def test_save_refuses_what_a_start_would_refuse() -> None:
    path = write(COMMENTED)
    for updates in ({"timeout": float("nan")}, {"base_url": "http://[::1/v1"},
                    {"params": {"temperature": 9}}, {"api_key": "sk-a\nb"}):
        with pytest.raises(ConfigError, match="not saved"):
            save_config(path, updates)
    assert path.read_text() == COMMENTED


def test_save_leaves_a_file_that_became_broken_alone() -> None:
    path = write("model = \n")
    with pytest.raises(ConfigError, match="change it by hand"):
        save_config(path, {"theme": "t502-dawn"})
    assert path.read_text() == "model = \n"


# -- the shell: `t502 config show`, and exit 2 for a config that cannot be used -----------------

def t502(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("T502_")} | env
    return subprocess.run([sys.executable, "-m", "t502_tui", *args], capture_output=True, text=True,
                          env=full, timeout=30, stdin=subprocess.DEVNULL)


def test_config_show_lists_every_setting_with_the_key_masked() -> None:
    write('# mine\nmodel = "m1"\n[params]\ntemperature = 0.5\n')
    result = t502("config", "show", T502_API_KEY="sk-secret-key-987654")
    assert result.returncode == 0, result.stderr
    shown = tomllib.loads(result.stdout)
    assert list(shown) == [setting.name for setting in SETTINGS]
    assert shown["api_key"] == "sk-…7654" and "sk-secret-key-987654" not in result.stdout
    assert shown["model"] == "m1" and shown["params"] == {"temperature": 0.5}
    assert "# from T502_API_KEY" in result.stdout
    assert f"# {BY_NAME['timeout'].help[:-1]} (above 0, up to 86400)." in result.stdout


@pytest.mark.parametrize("text", ["timeout = nan", 'base_url = "http://[::1/v1"',
                                  'base_url = "http://h:99999/v1"', 'base_url = "http://h/v1\\n"'])
def test_config_show_refuses_a_hostile_file_in_one_line(text: str) -> None:
    path = write(text + "\n")
    result = t502("config", "show")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: {path}: '") and result.stderr.count("\n") == 1


def test_config_show_refuses_a_hostile_variable_in_one_line() -> None:
    result = t502("config", "show", T502_BASE_URL="http://h:99999/v1")
    assert result.returncode == 2 and result.stderr.startswith("error: T502_BASE_URL ")
    assert result.stderr.count("\n") == 1


@pytest.mark.skipif(os.name == "nt", reason="FIFOs and /dev/zero")
@pytest.mark.parametrize("kind", ["fifo", "zero", "folder"])
def test_a_config_that_is_not_a_file_is_refused_at_once(kind: str, isolated_home: Path) -> None:
    where = isolated_home / "not-a-file"
    if kind == "fifo":
        os.mkfifo(where)
    elif kind == "folder":
        where.mkdir()
    else:
        where = Path("/dev/zero")
    result = t502("config", "show", T502_CONFIG=str(where))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: config file {where} is ")
