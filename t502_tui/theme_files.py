"""Theme files: the bundled ones in the package, the user's in ``$XDG_CONFIG_HOME/t502/themes``.

Each file is one TOML table mapping onto Textual's ``Theme`` plus ``code_theme``, the
Pygments style for code blocks. A file with a mistake is skipped with a warning naming
the file and the problem; the others still load. This module only reads and checks the
files; the UI turns them into themes.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from t502_tui import paths
from t502_tui.settings_schema import BY_NAME, SettingError, validate

COLOR_KEYS = ("primary", "secondary", "accent", "foreground", "background", "surface",
              "panel", "success", "warning", "error", "boost")
_ALLOWED = {"name", "dark", "code_theme", "variables", *COLOR_KEYS}


@dataclass
class ThemeSpec:
    """A theme as read from a file."""

    name: str
    dark: bool
    colors: dict[str, str]
    code_theme: str
    variables: dict[str, str] = field(default_factory=dict)
    source: str = ""


def bundled_theme_files() -> list[Traversable]:
    """The theme files shipped inside the package (or, run from a checkout, in ``themes/``)."""
    folder: Traversable
    try:
        folder = resources.files("t502_tui.themes")
    except ModuleNotFoundError:
        folder = Path(__file__).resolve().parent.parent / "themes"
    return sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)


def user_theme_dir() -> Path:
    """Where users put their own theme files."""
    return paths.config_dir() / "themes"


def parse_theme(text: str, source: str) -> ThemeSpec:
    """Check one file's table; raises ValueError with the problem."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _ALLOWED)
    if unknown:
        raise ValueError(f"unknown key(s): {', '.join(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("'name' is missing")
    try:  # a name the config cannot hold could be chosen, but never kept
        name = validate(BY_NAME["theme"], name)
    except SettingError as error:
        raise ValueError(f"'name' {error}") from None
    if "primary" not in data:
        raise ValueError("'primary' is missing")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ValueError("'dark' must be true or false")
    colors = {}
    for key in COLOR_KEYS:
        if key in data:
            if not isinstance(data[key], str):
                raise ValueError(f"'{key}' must be a colour string like \"#1F6FB2\"")
            colors[key] = data[key]
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise ValueError("'variables' must be a table of strings")
    code_theme = data.get("code_theme", "monokai" if dark else "friendly")
    if not isinstance(code_theme, str):
        raise ValueError("'code_theme' must be the name of a Pygments style")
    return ThemeSpec(name.strip(), dark, colors, code_theme, dict(variables), source)


MAX_THEME_BYTES = 256 * 1024
"""A theme is a few dozen lines; a file larger than this (or a pipe, or a device) is not one."""


def load_theme_specs() -> tuple[list[ThemeSpec], list[str]]:
    """Every readable theme, bundled first, and a warning for each file skipped."""
    specs: list[ThemeSpec] = []
    warnings: list[str] = []
    sources: list[tuple[str, Traversable | Path]] = [(f"themes/{f.name}", f) for f in bundled_theme_files()]
    folder = user_theme_dir()
    if folder.is_dir():
        sources += [(str(p), p) for p in sorted(folder.glob("*.toml"))]
    for label, source in sources:
        try:
            text = (paths.read_regular(source, MAX_THEME_BYTES)[0].decode("utf-8") if isinstance(source, Path)
                    else source.read_text(encoding="utf-8"))  # one of t502's own
            specs.append(parse_theme(text, label))
        except OSError as exc:
            warnings.append(f"theme {label} skipped: cannot read it ({exc.strerror or exc})")
        except UnicodeDecodeError:
            warnings.append(f"theme {label} skipped: it is not UTF-8 text")
        except ValueError as exc:
            warnings.append(f"theme {label} skipped: {exc}")
    return specs, warnings
