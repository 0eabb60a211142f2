"""Every setting t502 has, described once.

This description feeds everything that deals with settings: loading and checking the
config file and the environment (:mod:`t502_tui.config`), the Settings screen's fields and
its checks as you type, ``t502 config show``, and the README's table (a test holds the
README to it). Nothing else decides what a setting may hold, so the checks cannot drift.

Adding a plain setting is one :class:`Setting` in :data:`SETTINGS` (and the attribute of
the same name on :class:`~t502_tui.config.Config`); a table brings its own ``check``.
"""

from __future__ import annotations

import copy
import ipaddress
import math
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from t502_tui.request_params import REQUEST_OWN_KEYS

DEFAULT_BASE_URL = "https://api.token502.com/v1"
DEFAULT_MODEL = "gpt-5"

MAX_NESTING = 16
"""How deep the tables and arrays of a free-form table (``[params]``) may nest."""


class SettingError(ValueError):
    """Why a value does not fit a setting, worded to follow its name: "must be ...".

    ``key`` names the entry of a table that is wrong (``temperature`` in ``[params]``).
    """

    def __init__(self, reason: str, key: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key


@dataclass(frozen=True)
class ScreenField:
    """How the Settings screen (F2) shows a setting."""

    label: str
    widget: Literal["line", "secret", "text", "choice"] = "line"
    """``line``: a one-line input; ``secret``: a masked input, where empty keeps the value
    in force; ``text``: several lines; ``choice``: a list of the setting's choices (or of
    what the screen is given, for the theme)."""
    note: str = ""
    """Shown under the field while its check has nothing to say."""


@dataclass(frozen=True)
class Setting:
    """One setting: what it holds, what it may hold, and where it is shown."""

    name: str
    type: type
    """``str``, ``int``, ``float`` (whole numbers are taken too), ``bool`` or ``dict`` (a table)."""
    default: Any
    help: str
    """One sentence saying what the setting does, for the README and ``config show``."""
    low: float | None = None
    high: float | None = None
    above_low: bool = False
    """True when ``low`` itself is not allowed (a timeout of 0 seconds)."""
    unit: str = ""
    choices: Mapping[str, str] = field(default_factory=dict)
    """The values allowed (when any value is not), each with what it means."""
    max_length: int = 200
    multiline: bool = False
    """Strings only: new lines and tabs are allowed (and the value is not stripped)."""
    secret: bool = False
    """Never shown or echoed in full (the API key)."""
    check: Callable[[Any], Any] | None = None
    """A further rule, run on a value of the right type: returns the value to keep or
    raises :class:`SettingError`. A table's contents are checked here."""
    rule: str = ""
    """What ``check`` allows, briefly, for the README and ``config show``."""
    env: str = ""
    """The environment variable that overrides the file, if any."""
    optional: bool = False
    """``None`` (the key left out) means "let the server decide"."""
    screen: ScreenField | None = None
    """How the Settings screen shows it; None: only in the file."""
    table: str = ""
    """The table this setting lives in (``params``), or empty for a top-level key."""

    @property
    def key(self) -> str:
        """The setting's name as the file and messages write it: ``params.temperature``."""
        return f"{self.table}.{self.name}" if self.table else self.name


def _format_number(number: float) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


def describe(setting: Setting) -> str:
    """What ``setting`` may hold, worded to follow "must be": "a whole number from 0 to 10"."""
    if setting.choices:
        quoted = [f"'{choice}'" for choice in setting.choices]
        return " or ".join(quoted) if len(quoted) == 2 else "one of " + ", ".join(quoted)
    if setting.type is dict:
        return "a table"
    if setting.type is str:
        return "a string"
    if setting.type is bool:
        return "true or false"
    what = "a whole number" if setting.type is int else "a number"
    if setting.unit:
        what += f" of {setting.unit}"
    low, high = setting.low, setting.high
    if low is not None and high is not None:
        if setting.above_low:
            what += f" above {_format_number(low)} and at most {_format_number(high)}"
        else:
            what += f" from {_format_number(low)} to {_format_number(high)}"
    return what


def set_from_env(setting: Setting) -> str | None:
    """The environment variable that gives ``setting`` its value now, over the file's, if any."""
    return setting.env if setting.env and os.environ.get(setting.env, "").strip() else None


def allowed(setting: Setting) -> str:
    """What ``setting`` may hold, briefly: "whole number, 0 to 10", "one line, up to 200 characters"."""
    if setting.rule or setting.choices:
        return setting.rule or describe(setting)
    if setting.type is str:
        lines = "several lines" if setting.multiline else "one line"
        return f"{lines}, up to {setting.max_length:,} characters"
    if setting.type in (dict, bool):
        return describe(setting)
    low, high = _format_number(setting.low or 0), _format_number(setting.high or 0)
    span = f"above {low}, up to {high}" if setting.above_low else f"{low} to {high}"
    return f"whole number, {span}" if setting.type is int else span


def _check_number(setting: Setting, value: float) -> float:
    if setting.type is float:
        try:
            value = float(value)
        except OverflowError:
            raise SettingError(f"must be {describe(setting)}") from None
    low, high = setting.low, setting.high
    if (
        (isinstance(value, float) and not math.isfinite(value))
        or (low is not None and (value <= low if setting.above_low else value < low))
        or (high is not None and value > high)
    ):
        raise SettingError(f"must be {describe(setting)}")
    return value


def _has_control(text: str, categories: tuple[str, ...] = ("Cc", "Cf")) -> bool:
    """True if ``text`` holds a control character (Cc) or, by default, an invisible format
    character (Cf: bidi overrides, zero-width spaces) that could disguise a one-line value."""
    return any(unicodedata.category(ch) in categories for ch in text)


def _check_text(setting: Setting, value: str) -> str:
    if len(value) > setting.max_length:
        raise SettingError(f"must be at most {setting.max_length} characters long")
    if setting.multiline:
        if _has_control(value.replace("\n", "").replace("\t", "").replace("\r", ""), ("Cc",)):
            raise SettingError("must not hold control characters (tabs and new lines are fine)")
        return value
    if _has_control(value):
        raise SettingError("must be one line without control characters")
    value = value.strip()
    if setting.choices and value not in setting.choices:
        raise SettingError(f"must be {describe(setting)}")
    return value


def validate(setting: Setting, value: Any) -> Any:
    """``value`` as t502 keeps it, or :class:`SettingError` saying what it must be.

    Numbers are checked for range (and to be finite), strings for length and control
    characters (one-line strings are stripped), then the setting's own ``check`` runs.
    """
    if value is None and setting.optional:
        return None
    wanted: tuple[type, ...] = (int, float) if setting.type is float else (setting.type,)
    if isinstance(value, bool) != (setting.type is bool) or not isinstance(value, wanted):
        raise SettingError(f"must be {describe(setting)}")
    if setting.type in (int, float):
        value = _check_number(setting, value)
    elif setting.type is str:
        value = _check_text(setting, value)
    return setting.check(value) if setting.check else value


def parse_text(setting: Setting, text: str) -> Any:
    """What a person typed into the Settings screen, as the setting's value (checked)."""
    if not setting.multiline:
        text = text.strip()
    if not text and setting.optional:
        return None
    value: Any = text
    if setting.type in (int, float):
        try:
            value = setting.type(text)
        except ValueError:
            raise SettingError(f"must be {describe(setting)}") from None
    return validate(setting, value)


def default_of(name: str) -> Any:
    """The default of top-level setting ``name`` (a fresh copy, for tables)."""
    return copy.deepcopy(BY_NAME[name].default)


# -- rules of single settings ----------------------------------------------------------------

_HOST = re.compile(r"[A-Za-z0-9._~%-]+|[0-9A-Fa-f:.]+(?:%[A-Za-z0-9._~-]+)?")
"""A host name, an IPv4 address, or an IPv6 one (urlsplit has taken off its brackets)."""
_IPV4_STYLE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
"""Four dotted numbers: httpx takes them for an IPv4 address, and refuses a wrong one."""


def _address_problem(host: str) -> str | None:
    """Why ``host`` is not a usable IP address, if it is written as one."""
    if ":" in host:
        check, rule = ipaddress.IPv6Address, "an IPv6 address"
    elif _IPV4_STYLE.fullmatch(host):
        check, rule = ipaddress.IPv4Address, "an IPv4 address (four numbers from 0 to 255)"
    else:
        return None
    try:
        check(host)
    except ValueError:
        return f"has the host {host}, which is not {rule}"
    return None


def check_base_url(value: str) -> str:
    """A base URL that httpx and the user's server can both take, without a trailing ``/``."""
    if any(ch.isspace() for ch in value):
        raise SettingError("must not hold spaces")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        reason = str(exc)
        raise SettingError(f"is not a usable URL: {reason[:1].lower()}{reason[1:]}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise SettingError("must start with http:// or https://")
    if not parts.hostname:
        raise SettingError("has no host name")
    if not _HOST.fullmatch(parts.hostname):
        raise SettingError("has a host name t502 cannot use (write non-ASCII names as xn--)")
    if problem := _address_problem(parts.hostname):
        raise SettingError(problem)
    if port == 0:
        raise SettingError("has port 0 (ports go from 1 to 65535)")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise SettingError("must not have a ?query or #fragment (t502 adds /chat/completions)")
    return value.rstrip("/")


def _check_api_key(value: str) -> str:
    if not value.isascii() or not value.isprintable() or " " in value:
        raise SettingError("must be printable ASCII without spaces (paste the key alone)")
    return value


def _check_named(value: str) -> str:
    if not value:
        raise SettingError("must not be empty")
    return value


def _bad_name() -> str:
    raise SettingError("must be a name of letters, digits, '.', '_' or '-' (no '/')")


REASONING_EFFORTS = {"minimal": "the least thinking", "low": "a little thinking",
                     "medium": "the usual", "high": "the most thinking"}


def _check_plain(value: Any, where: str, depth: int = 0) -> None:
    """Raise unless ``value`` holds only what a JSON request can: no dates, nan or inf."""
    if depth > MAX_NESTING:
        raise SettingError(f"nests deeper than {MAX_NESTING} levels", where)
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingError("must be a finite number", where)
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_plain(item, f"{where}[{index}]", depth + 1)
    elif not isinstance(value, (str, int, float)):
        raise SettingError("must be a string, number, boolean, array or table (quote dates)", where)


def _check_table(table: dict[str, Any]) -> dict[str, Any]:
    for key, value in table.items():
        _check_plain(value, key)
    return table


_URL_PASSWORD = re.compile(r"(//[^/@\s]*?:)[^/@\s]*@")
"""The password of a URL's ``user:password@``, which an error message must not repeat."""


def shown_value(value: Any) -> str:
    """``value`` as an error message quotes it: its repr, cut to 60 characters, with any
    password written in a URL masked."""
    shown = repr(_URL_PASSWORD.sub(r"\1••••@", value) if isinstance(value, str) else value)
    return shown if len(shown) <= 60 else shown[:59] + "…"


def _entry_error(error: SettingError, field: Setting, value: Any, key: str) -> SettingError:
    """``error`` about an entry of a table, named by ``key`` (and the entry of the entry it
    names, in a table of tables) and quoting the value unless secret."""
    where = f"{key}.{error.key}" if error.key else key
    return SettingError(error.reason if field.secret else f"{error.reason} (it is {shown_value(value)})", where)


def _check_params(table: dict[str, Any], where: str = "") -> dict[str, Any]:
    checked = dict(table)
    for key, value in table.items():
        if key in REQUEST_OWN_KEYS:
            raise SettingError("is set by t502 for each request (the model is chosen with the model"
                               " setting or the picker): leave it out", where + key)
        known = PARAMS_BY_NAME.get(key)
        if known is not None:
            try:
                checked[key] = validate(known, value)
            except SettingError as error:
                raise _entry_error(error, known, value, where + key) from None
        else:
            _check_plain(value, where + key)
    return {key: value for key, value in checked.items() if value is not None}


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
"""A provider's or a preset's name: no ``/``, which parts a provider from its model."""
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
KEY_SOURCES = {"api_key", "api_key_env", "api_key_cmd"}
"""The keys of a ``[providers.NAME]`` table that give its key (one at most)."""


def _check_entries(table: dict[str, Any], fields: dict[str, Setting], what: str,
                   extra: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
                   named: bool = True) -> dict[str, Any]:
    """A table of named tables (``[providers.NAME]``): names checked (when ``named``), each
    entry through ``fields``; keys ``fields`` does not know go to ``extra`` (or are refused)."""
    checked: dict[str, Any] = {}
    for name, entry in table.items():
        if named and not _NAME.fullmatch(name):
            raise SettingError("must use only letters, digits, '.', '_' or '-' (no '/')", name)
        if not isinstance(entry, dict):
            raise SettingError(f"must be a table ({what})", name)
        values: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        for key, value in entry.items():
            field = fields.get(key)
            if field is None:
                if extra is None:
                    raise SettingError(f"is not a key t502 knows here (known: {', '.join(fields)})",
                                       f"{name}.{key}")
                rest[key] = value
                continue
            try:
                values[key] = validate(field, value)
            except SettingError as error:
                raise _entry_error(error, field, value, f"{name}.{key}") from None
        if extra is not None:
            values.update(extra(name, rest))
        checked[name] = values
    return checked


def _check_providers(table: dict[str, Any]) -> dict[str, Any]:
    checked = _check_entries(table, PROVIDER_FIELDS, "base_url, api_key, ...")
    for name, entry in checked.items():
        given = [key for key in ("api_key", "api_key_env", "api_key_cmd") if key in entry]
        if len(given) > 1:
            raise SettingError(f"gives the key twice ({' and '.join(given)}); keep one", name)
    return checked


_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
"""An HTTP header's name (RFC 9110's token)."""
MAX_HEADERS = 20
_HEADERS_T502_SETS = {"authorization": "is sent by t502 from the provider's key: set api_key instead",
                      **dict.fromkeys(("host", "content-length", "content-type", "transfer-encoding", "connection",
                                       "accept-encoding", "te", "upgrade", "keep-alive", "trailer"),
                                      "is set by t502 for each request: leave it out")}


def _check_headers(table: dict[str, Any]) -> dict[str, Any]:
    """Headers a gateway asks for besides the key (Cloudflare AI Gateway's
    ``cf-aig-authorization``, OpenRouter's ``HTTP-Referer``, Azure's ``api-key``)."""
    if len(table) > MAX_HEADERS:
        raise SettingError(f"may hold at most {MAX_HEADERS} headers")
    seen: set[str] = set()
    for name, value in table.items():
        if not _HEADER_NAME.fullmatch(name):
            raise SettingError("must be a header's name: letters, digits, '-' or '_' (no spaces or ':')", name)
        if name.lower() in seen:  # HTTP names are the same whatever their case
            raise SettingError("is given twice (names differing only in case are one header)", name)
        seen.add(name.lower())
        if reason := _HEADERS_T502_SETS.get(name.lower()):
            raise SettingError(reason, name)
        if not (isinstance(value, str) and value.isascii() and value.isprintable() and len(value) <= 4000):
            raise SettingError("must be text of printable ASCII on one line, at most 4,000 characters", name)
    return table


def _check_env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise SettingError("must be the name of an environment variable (letters, digits, _)")
    return value


def _check_presets(table: dict[str, Any]) -> dict[str, Any]:
    return _check_entries(table, PRESET_FIELDS, "system_prompt, model, temperature, ...",
                          extra=lambda name, rest: _check_params(rest, f"{name}."))


def _check_prices(table: dict[str, Any]) -> dict[str, Any]:
    return _check_entries(table, PRICE_FIELDS, "input, output, request: US$", named=False)


def _check_context(table: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for model, value in table.items():
        try:
            checked[model] = validate(CONTEXT_FIELD, value)
        except SettingError as error:
            raise SettingError(error.reason, model) from None
    return checked


SETTINGS: tuple[Setting, ...] = (
    Setting("base_url", str, DEFAULT_BASE_URL,
            "Root of the OpenAI-compatible API, up to and including /v1.",
            max_length=2000, check=check_base_url, rule="an http:// or https:// URL",
            env="T502_BASE_URL",
            screen=ScreenField("Base URL")),
    Setting("api_key", str, "", "The key sent to the server as a bearer token.",
            max_length=1000, secret=True, check=_check_api_key,
            rule="printable ASCII without spaces", env="T502_API_KEY",
            screen=ScreenField("API key", "secret")),
    Setting("model", str, DEFAULT_MODEL, "Model of `t502 ask`, and of new conversations until you pick another (the chat then starts with the one picked last, unless `T502_MODEL` is set; setting this here picks it).",
            check=_check_named, rule="one line, not empty", env="T502_MODEL",
            screen=ScreenField("Default model")),
    Setting("system_prompt", str, "", "System prompt for new conversations; empty for none.",
            max_length=100_000, multiline=True,
            screen=ScreenField("Default system prompt", "text",
                               "For new conversations; each can change its own. Enter makes"
                               " a new line here.")),
    Setting("system_role", str, "system", "Role the system prompt is sent with.",
            choices={"system": "every vendor takes it", "developer": "newer OpenAI models"},
            screen=ScreenField("System prompt role", "choice")),
    Setting("timeout", float, 120.0, "Seconds to wait for the next piece of a reply.",
            low=0, above_low=True, high=86_400, unit="seconds",
            screen=ScreenField("Reply timeout (seconds)",
                               note="A model that thinks long before its first word may need more.")),
    Setting("connect_timeout", float, 10.0, "Seconds to wait for a connection to the server.",
            low=0, above_low=True, high=3600, unit="seconds"),
    Setting("max_reply_seconds", float, 1800.0, "Longest time a whole reply may take.",
            low=0, above_low=True, high=604_800, unit="seconds"),
    Setting("max_retries", int, 2,
            "Retries for connect errors, 429 and 5xx, only before any reply arrived.",
            low=0, high=10),
    Setting("theme", str, "t502-midnight",
            "Name of the theme: one of t502's, one of Textual's, or one in the themes folder.",
            screen=ScreenField("Theme", "choice")),
    Setting("send_key", str, "enter", "Which key sends a message; the other makes a new line.",
            choices={"enter": "Enter sends, Ctrl+J makes a new line",
                     "ctrl+j": "Ctrl+J sends, Enter makes a new line"},
            screen=ScreenField("Send key", "choice")),
    Setting("max_image_mb", float, 20.0, "Largest image that may be attached.",
            low=0, above_low=True, high=100, unit="MB"),
    Setting("max_images", int, 8, "Most images that may go with one message.", low=1, high=100),
    Setting("max_file_kb", int, 512, "Largest text file that may be attached, in kilobytes.",
            low=1, high=10_240),
    Setting("max_files", int, 20, "Most text files that may go with one message.", low=1, high=200),
    Setting("download_images", bool, True,
            "Download the images a reply links to as soon as it ends (false: only when you press r)."),
    Setting("default_provider", str, "token502",
            "Name of the provider that base_url and api_key describe (the default one).",
            check=lambda value: _check_named(value) if _NAME.fullmatch(value) else _bad_name(),
            rule="a name: letters, digits, '.', '_', '-'"),
    Setting("group", str, "default",
            "The relay's user group whose price ratio applies (new-api relays).",
            check=_check_named, rule="one line, not empty"),
    Setting("low_balance", float, 1.0,
            "Below this balance (US$) the status line warns, once.", low=0, high=1_000_000, unit="US$"),
    Setting("params", dict, {}, "Extra request parameters sent with every chat request.",
            check=_check_params, rule="a table; no dates, nan or inf; not model, messages or stream"),
    Setting("providers", dict, {},
            "More servers, each `[providers.NAME]` with base_url and a key (api_key, api_key_env or"
            " api_key_cmd).", check=_check_providers, rule="a table of tables"),
    Setting("presets", dict, {},
            "Named starting points for conversations: `[presets.NAME]` with a system prompt,"
            " parameters and optionally a model.", check=_check_presets, rule="a table of tables"),
    Setting("prices", dict, {},
            'Your own prices, `[prices."MODEL"]` with input and output in US$ per 1M tokens (or'
            " request: US$ per request); they win over the server's.",
            check=_check_prices, rule="a table of tables"),
    Setting("context", dict, {},
            'Context length of models the server does not describe: `"MODEL" = tokens`.',
            check=_check_context, rule="a table of whole numbers"),
    # Which actions and key names are right is for keys.resolve_keys: a wrong one is a
    # warning, and the action keeps its default key.
    Setting("keys", dict, {}, 'Rebound keys: action = "key,key" (F1 lists the keys in force).',
            check=_check_table),
)
"""Every top-level setting, in the order the README, ``config show`` and F2 list them."""

PARAMS: tuple[Setting, ...] = (
    Setting("temperature", float, None, "Sampling temperature (left out: the server's default).",
            low=0, high=2, optional=True, table="params",
            screen=ScreenField("Temperature", note="Empty: the server's default.")),
    Setting("max_tokens", int, None, "Longest reply, in tokens (left out: the server's default).",
            low=1, high=10_000_000, optional=True, table="params",
            screen=ScreenField("Max tokens per reply", note="Empty: the server's default.")),
    Setting("top_p", float, None, "Nucleus sampling: the share of likeliest tokens to draw from.",
            low=0, high=1, optional=True, table="params"),
    Setting("reasoning_effort", str, None,
            "How hard a reasoning model thinks; sent only to models that take it (see below).",
            choices=REASONING_EFFORTS, optional=True, table="params"),
)
"""The entries of ``[params]`` that t502 knows and checks; any other entry is sent as is."""

PROVIDER_FIELDS: dict[str, Setting] = {s.name: s for s in (
    Setting("base_url", str, None, "The server's /v1 root (needed, except for the default provider).",
            max_length=2000, check=check_base_url, rule="an http:// or https:// URL",
            table="providers.NAME"),
    Setting("api_key", str, None, "Its key, written in the file.", max_length=1000, secret=True,
            check=_check_api_key, rule="printable ASCII without spaces", table="providers.NAME"),
    Setting("api_key_env", str, None, "The environment variable holding its key.",
            check=_check_env_name, rule="a variable's name", table="providers.NAME"),
    Setting("api_key_cmd", str, None,
            "A command printing its key (run once per start; a shell only for shell syntax).",
            max_length=1000, check=_check_named, rule="one line, not empty", table="providers.NAME"),
    Setting("group", str, None, "Its relay user group, for prices (default: `group`).",
            check=_check_named, rule="one line, not empty", table="providers.NAME"),
    Setting("headers", dict, None,
            'More HTTP headers for it, `{ "name" = "value" }` (a gateway\'s own key, an app name).',
            secret=True, check=_check_headers, rule="a table of header names and one-line values",
            table="providers.NAME"),
)}
"""The keys of one ``[providers.NAME]`` table."""

PRESET_FIELDS: dict[str, Setting] = {s.name: s for s in (
    Setting("system_prompt", str, None, "The system prompt of conversations started from it.",
            max_length=100_000, multiline=True, table="presets.NAME"),
    Setting("model", str, None, "Its model, `MODEL` or `PROVIDER/MODEL` (default: the current one).",
            check=_check_named, rule="one line, not empty", table="presets.NAME"),
    Setting("description", str, None, "A few words shown when choosing it.", table="presets.NAME"),
)}
"""The keys of one ``[presets.NAME]`` table; every other key is a request parameter, checked
as in ``[params]``."""

PRICE_FIELDS: dict[str, Setting] = {s.name: s for s in (
    Setting("input", float, None, "US$ per 1M input tokens.", low=0, high=100_000,
            table='prices."MODEL"'),
    Setting("output", float, None, "US$ per 1M output tokens (reasoning tokens included).",
            low=0, high=100_000, table='prices."MODEL"'),
    Setting("request", float, None, "US$ per request, for models priced so.", low=0, high=10_000,
            table='prices."MODEL"'),
)}
CONTEXT_FIELD = Setting("MODEL", int, None, "Tokens the model takes in one request.",
                        low=1, high=100_000_000, table="context")

BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}
PARAMS_BY_NAME: dict[str, Setting] = {setting.name: setting for setting in PARAMS}


def every_setting() -> list[Setting]:
    """Top-level settings, each table followed by the entries of it that t502 knows."""
    known = {"params": PARAMS, "providers": tuple(PROVIDER_FIELDS.values()),
             "presets": tuple(PRESET_FIELDS.values()), "prices": tuple(PRICE_FIELDS.values()),
             "context": (CONTEXT_FIELD,)}
    return [s for setting in SETTINGS for s in (setting, *known.get(setting.name, ()))]
