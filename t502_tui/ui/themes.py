"""Registering t502's themes (bundled and the user's) with the app."""

from __future__ import annotations

from textual.app import App
from textual.color import Color, ColorParseError
from textual.theme import Theme

from t502_tui.theme_files import ThemeSpec, load_theme_specs

DEFAULT_THEME = "t502-midnight"


def _theme(spec: ThemeSpec) -> Theme:
    for key, value in [*spec.colors.items(), *spec.variables.items()]:
        try:
            Color.parse(value)
        except ColorParseError:
            raise ValueError(f"'{key}' is not a colour: {value!r}") from None
    return Theme(name=spec.name, dark=spec.dark, variables=spec.variables, **spec.colors)


def register_themes(app: App[object]) -> tuple[dict[str, str], list[str]]:
    """Register every theme file; return the code style per theme name and the warnings."""
    specs, warnings = load_theme_specs()
    code_themes: dict[str, str] = {}
    for spec in specs:
        try:
            app.register_theme(_theme(spec))
        except ValueError as exc:
            warnings.append(f"theme {spec.source} skipped: {exc}")
            continue
        code_themes[spec.name] = spec.code_theme
    return code_themes, warnings
