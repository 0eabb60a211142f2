"""Presets: named starting points for conversations (``[presets.NAME]`` in the config).

A preset holds a system prompt, request parameters and optionally a model (``MODEL`` or
``PROVIDER/MODEL``); what it leaves out comes from the defaults. A conversation keeps the
name of the preset it started from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from t502_tui.config import Config
from t502_tui.request_params import settings_summary

FIELDS = ("system_prompt", "model", "description")


@dataclass(frozen=True)
class Preset:
    """One ``[presets.NAME]`` table, read."""

    name: str
    system_prompt: str | None = None
    model: str | None = None
    description: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def summary(self, defaults: dict[str, Any]) -> str:
        """``gpt-5 · temp 0.2 · system prompt``: what choosing it changes."""
        parts = [self.model] if self.model else []
        parts += settings_summary(self.params, defaults, self.model or "")
        if self.system_prompt:
            parts.append("system prompt")
        return " · ".join(parts)


def presets_of(config: Config) -> list[Preset]:
    """The config's presets, in the file's order."""
    out = []
    for name, entry in config.presets.items():
        params = {key: value for key, value in entry.items() if key not in FIELDS}
        out.append(Preset(name, entry.get("system_prompt"), entry.get("model"), entry.get("description", ""), params))
    return out


def find_preset(config: Config, name: str) -> Preset | None:
    """The preset called ``name``, if there is one."""
    return next((preset for preset in presets_of(config) if preset.name == name), None)
